/**
 * A dashboard row's latest results drawn small: the heartbeat bar (one coloured stroke a
 * result, newest on the right, 50 slots) and the latency sparkline, both inline SVG from the
 * row's `Beats`. One path per colour keeps a row's markup near 400 bytes, so a page of 50 rows
 * stays far under the page budget; the hover text of each result is the live table's
 * (islands/dashboard_table.tsx), the bar's own title tells the newest.
 */
import type { Beats } from "../lib/jobs/dashboard.ts";

/** Slots in the bar: the ring's size (lib/store/recent_results.ts). */
export const BEAT_SLOTS = 50;
/** Width of a slot in the SVG's units; the stroke is 3 wide. */
const SLOT = 4;
const LETTERS = ["u", "g", "d", "m", "w"] as const;

/** Epoch ms of each result, from the first one's seconds and the gaps after it. */
export function beatTimes(beats: Beats): number[] {
  let seconds = 0;
  return beats.t.map((t, i) => (seconds = i === 0 ? t : seconds + t) * 1000);
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
  const paths = LETTERS.map((letter) => {
    let d = "";
    for (let i = 0; i < beats.s.length; i++) {
      if (beats.s[i] === letter) d += `M${slotOf(beats, i) * SLOT + 2} 0v16`;
    }
    return d && <path key={letter} class={`b-${letter}`} d={d} />;
  });
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
      aria-label={label}
      onPointerMove={hover}
      onPointerLeave={onHover && (() => onHover(null))}
    >
      <title>{label}</title>
      {paths}
    </svg>
  );
}

/** The latencies of the results with one, as a line over the same 50 slots; nothing without. */
export function Sparkline({ beats, label }: { beats: Beats; label: string }) {
  const max = Math.max(...beats.ms, 0);
  if (max <= 0) return null;
  let d = "";
  for (let i = 0; i < beats.ms.length; i++) {
    const ms = beats.ms[i];
    if (ms < 0) continue;
    const x = slotOf(beats, i) * SLOT + 2;
    const y = Math.round(22 - (ms / max) * 20);
    d += `${d ? "L" : "M"}${x} ${y}`;
  }
  return (
    <svg
      class="spark"
      viewBox={`0 0 ${BEAT_SLOTS * SLOT} 24`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      <path d={d} />
    </svg>
  );
}
