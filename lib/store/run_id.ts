/** Run ids: derived from what makes a run unique, the same in every store. */

/** Run ids are `<scheduledAt ms>-<suffix>`: derived from what makes a run unique. */
export function runId(scheduledAt: number, suffix: string): string {
  return `${scheduledAt}-${suffix}`;
}

export function parseRunId(id: string): { scheduledAt: number; suffix: string } | null {
  const match = /^(\d{1,16})-([A-Za-z0-9_.:-]{1,80})$/.exec(id);
  if (!match) return null;
  return { scheduledAt: Number(match[1]), suffix: match[2] };
}
