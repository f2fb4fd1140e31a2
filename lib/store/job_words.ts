/**
 * The words of a job's name as search sees them, the same for every store implementation:
 * a query word matches a name word it starts.
 */

const MAX_WORDS = 12;
const MAX_WORD_LENGTH = 40;

/** The distinct lower-case words of a name (letters and digits of any script). */
export function nameWords(name: string): string[] {
  const words = name.toLowerCase().normalize("NFKC").split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0).map((w) => w.slice(0, MAX_WORD_LENGTH));
  return [...new Set(words)].slice(0, MAX_WORDS);
}
