/** Formatting shared by pages and islands: the same text on the server and in the browser. */

/** `2026-11-23 14:52:30` (UTC): fixed width, sortable, the same on every machine. */
export function formatTime(value: string | number | null): string {
  if (value === null) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  return date.toISOString().slice(0, 19).replace("T", " ");
}

export function formatMs(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 0) return "> 60 s";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * A 95th percentile, known only as its bucket's upper bound: "≤ 250 ms", or "> 60 s" past the
 * last bucket (Infinity, or -1 where it travelled as JSON).
 */
export function formatP95(ms: number | null): string {
  if (ms === null) return "—";
  return ms < 0 || !Number.isFinite(ms) ? "> 60 s" : `≤ ${formatMs(ms)}`;
}

export function formatRate(rate: number | null): string {
  if (rate === null) return "—";
  const percent = rate * 100;
  return `${percent === 100 ? "100" : percent.toFixed(1)} %`;
}

/** The CSS class of a state or run status. */
export function stateClass(state: string): string {
  return `badge badge-${state.replace(/[^a-z]/g, "")}`;
}

/**
 * Uptime as a percentage to the hundredth, never rounded up (99.999 % is not "100 %"), as the
 * status pages show it; a dash when no time counts yet.
 */
export function formatUptime(uptime: number | null): string {
  if (uptime === null) return "—";
  if (uptime >= 1) return "100 %";
  return `${(Math.floor(uptime * 10_000 + 1e-6) / 100).toFixed(2)} %`;
}
