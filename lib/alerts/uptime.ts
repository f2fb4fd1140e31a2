/**
 * Uptime from incidents: over a range, the share of time not inside an incident, with
 * maintenance time left out of both sides (it counts as neither up nor down). Exact to the
 * millisecond, from spans alone: no runs are read.
 */

export type Span = readonly [number, number];

export interface UptimeFigures {
  /** Time that counts: the range less maintenance (ms). */
  countedMs: number;
  /** Of that, inside incidents (ms). */
  downMs: number;
  /** Left out as maintenance (ms). */
  maintenanceMs: number;
  /** `1 - downMs / countedMs`; null when no time counts (a job created just now). */
  uptime: number | null;
}

/** Figures over `[from, to)` given incident spans and maintenance spans (any order, may overlap). */
export function uptimeBetween(
  from: number,
  to: number,
  incidents: readonly Span[],
  maintenance: readonly Span[],
): UptimeFigures {
  if (!(to > from)) return { countedMs: 0, downMs: 0, maintenanceMs: 0, uptime: null };
  const windows = merge(clip(maintenance, from, to));
  const maintenanceMs = total(windows);
  const down = subtract(merge(clip(incidents, from, to)), windows);
  const downMs = total(down);
  const countedMs = to - from - maintenanceMs;
  return {
    countedMs,
    downMs,
    maintenanceMs,
    uptime: countedMs > 0 ? 1 - downMs / countedMs : null,
  };
}

function clip(spans: readonly Span[], from: number, to: number): Span[] {
  return spans
    .map(([s, e]): Span => [Math.max(s, from), Math.min(e, to)])
    .filter(([s, e]) => e > s);
}

function merge(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** `spans` less `holes` (both merged and sorted). */
function subtract(spans: Span[], holes: Span[]): Span[] {
  const out: Span[] = [];
  for (const [s, e] of spans) {
    let start = s;
    for (const [hs, he] of holes) {
      if (he <= start || hs >= e) continue;
      if (hs > start) out.push([start, hs]);
      start = Math.max(start, he);
      if (start >= e) break;
    }
    if (start < e) out.push([start, e]);
  }
  return out;
}

function total(spans: Span[]): number {
  return spans.reduce((sum, [s, e]) => sum + (e - s), 0);
}
