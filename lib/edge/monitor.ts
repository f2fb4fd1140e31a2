/**
 * When a probe worker checks its monitors (seed 002). The monitor rows themselves are written
 * by the store with their job (lib/store/kv/monitors.ts).
 */

/**
 * Offsets for workers that were given none: spread evenly over the interval starting at the
 * job's own phase, so three workers on 300 s check 100 s apart and different jobs do not
 * all start at the same second.
 */
export function spreadOffsets(count: number, intervalSec: number, phaseSec: number): number[] {
  return Array.from(
    { length: count },
    (_, i) => (phaseSec + Math.floor((i * intervalSec) / count)) % intervalSec,
  );
}

/** True when `atSec` (epoch seconds) is a check time of a worker at `offsetSec`. */
export function isCheckTime(atSec: number, offsetSec: number, intervalSec: number): boolean {
  return ((atSec - offsetSec) % intervalSec + intervalSec) % intervalSec === 0;
}
