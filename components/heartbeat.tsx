/**
 * A dashboard row's latest results drawn small: the heartbeat bar (one coloured block a
 * result, newest on the right, 50 slots) and the latency sparkline, both inline SVG from the
 * row's `Beats`. The bar is one dashed line per run of results alike (dashes 3 wide, gaps 1:
 * a slot each), so a job that was up all along draws as one segment; with the sparkline's
 * relative path a row's drawing stays near 400 bytes, and a page of 50 rows in its budget.
 * The hover text of each result is the live table's (islands/dashboard_table.tsx); the bar's
 * own title tells the newest.
 */
import type { Beats } from "../lib/jobs/dashboard.ts";

/** Slots in the bar: the ring's size (lib/store/recent_results.ts). */
export const BEAT_SLOTS = 50;
/** Width of a slot in the SVG's units; the stroke is 3 wide. */
const SLOT = 4;
const LETTERS = ["u", "g", "d", "m", "w"] as const;

/** Epoch ms of each result, from the first one's seconds and the runs of gaps after it. */
export function beatTimes(beats: Beats): number[] {
  if (beats.t.length === 0) return [];
  let seconds = beats.t[0];
  const out = [seconds * 1000];
  for (let i = 1; i + 1 < beats.t.length; i += 2) {
    for (let n = 0; n < beats.t[i + 1]; n++) out.push((seconds += beats.t[i]) * 1000);
  }
  return out;
}

/** The slot index of the i-th result: the newest in the last slot. */
function slotOf(beats: Beats, i: number): number {
  return BEAT_SLOTS - beats.s.length + i;
}

export interface HeartbeatBarProps {
  beats: Beats;
  /** The bar's accessible name and title: what it shows, and its newest result. */
  label: string;
  /** Pointer over the bar: the result under it (index into beats), or null when it left. */
  onHover?: (index: number | null) => void;
}

export function HeartbeatBar({ beats, label, onHover }: HeartbeatBarProps) {
  const segments: Record<string, string> = {};
  for (let i = 0; i < beats.s.length;) {
    let end = i + 1;
    while (end < beats.s.length && beats.s[end] === beats.s[i]) end++;
    segments[beats.s[i]] = (segments[beats.s[i]] ?? "") +
      `M${slotOf(beats, i) * SLOT} 8h${(end - i) * SLOT}`;
    i = end;
  }
  const paths = LETTERS.map((letter) =>
    segments[letter] && <path key={letter} class={`b-${letter}`} d={segments[letter]} />
  );
  const hover = onHover &&
    ((event: PointerEvent) => {
      const box = (event.currentTarget as SVGElement).getBoundingClientRect();
      const slot = Math.floor(((event.clientX - box.left) / box.width) * BEAT_SLOTS);
      const index = slot - (BEAT_SLOTS - beats.s.length);
      onHover(index >= 0 && index < beats.s.length ? index : null);
    });
  return (
    <svg
      class="beats"
      viewBox={`0 0 ${BEAT_SLOTS * SLOT} 16`}
      preserveAspectRatio="none"
      role="img"
      onPointerMove={hover}
      onPointerLeave={onHover && (() => onHover(null))}
    >
      <title>{label}</title>
      {paths}
    </svg>
  );
}

/**
 * The latencies of the results with one, as a line over the same 50 slots; nothing without.
 * Decoration beside the p95 in words (and each result's latency in the bar's hover text), so
 * hidden from screen readers and without a title of its own: 50 rows of it cost 2 KB.
 */
export function Sparkline({ beats }: { beats: Beats }) {
  const max = Math.max(...beats.ms, 0);
  if (max <= 0) return null;
  // Relative steps from the first point: "l4-3" is a few bytes where "L170 19" is seven.
  let d = "";
  let x = 0;
  let y = 0;
  for (let i = 0; i < beats.ms.length; i++) {
    const ms = beats.ms[i];
    if (ms < 0) continue;
    const nx = slotOf(beats, i) * SLOT + 2;
    const ny = Math.round(22 - (ms / max) * 20);
    const dy = ny - y;
    d += d ? `l${nx - x}${dy < 0 ? dy : ` ${dy}`}` : `M${nx} ${ny}`;
    x = nx;
    y = ny;
  }
  return (
    <svg
      class="spark"
      viewBox={`0 0 ${BEAT_SLOTS * SLOT} 24`}
      preserveAspectRatio="none"
      aria-hidden="true"
    >
      <path d={d} />
    </svg>
  );
}
