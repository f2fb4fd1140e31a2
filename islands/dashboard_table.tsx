/**
 * The dashboard's counts by state and its jobs table. Rendered on the server with the page; in
 * the browser it asks for fresh counts and rows of the same page every few seconds (while the
 * tab is visible). Each row has a heartbeat bar of its latest results (hovering a result shows
 * its time, outcome and latency), uptime over 24 hours and 30 days, and a latency sparkline.
 * On a phone the stylesheet lays each row out as a card, each cell under its `data-label`.
 */
import { useEffect, useState } from "preact/hooks";
import { beatTimes, HeartbeatBar, Sparkline } from "../components/heartbeat.tsx";
import { formatMs, formatP95, formatUptime, stateClass } from "../components/format.ts";
import { browserClock, type PageClock, Time } from "../components/time.tsx";
import { formatInZone } from "../components/zone_time.ts";
import { formatTime } from "../components/format.ts";
import {
  type Dashboard,
  type DashboardRow,
  type PackedRow,
  unpackRows,
} from "../lib/jobs/dashboard.ts";

/** The counts shown at the top, in this order (`pending` only when there are some). */
const COUNTED = ["up", "down", "degraded", "paused", "maintenance", "pending"] as const;
/** What each result letter of `Beats.s` says (keys of `text`). */
const RESULT_TEXT: Record<string, string> = {
  u: "up",
  g: "degraded",
  d: "down",
  m: "missed",
  w: "maintenance",
};

export interface DashboardTableProps {
  /** The rows as the page drew them, without their keys (`packRows`). */
  rows: PackedRow[];
  counts: Dashboard["counts"];
  /** The state the page is filtered by, if any. */
  state: string | null;
  /** Where the same page's counts and rows come from as JSON. */
  refreshUrl: string;
  intervalMs: number;
  /** The server's clock when it drew the page; the browser's once running. */
  clock: PageClock;
  text: Record<string, string>;
}

export default function DashboardTable(props: DashboardTableProps) {
  const [data, setData] = useState(() => ({
    rows: unpackRows(props.rows),
    counts: props.counts,
  }));
  // Drawn first as the server drew it (hydration), then on the browser's clock and zone.
  const [clock, setClock] = useState(props.clock);
  const [hover, setHover] = useState<{ row: string; index: number } | null>(null);
  const { text } = props;
  useEffect(() => {
    const tick = () => setClock(browserClock(props.clock));
    tick();
    const timer = setInterval(async () => {
      if (document.hidden) return;
      try {
        const response = await fetch(props.refreshUrl, { headers: { accept: "application/json" } });
        if (response.ok) {
          const { rows, counts } = await response.json() as Dashboard;
          setData({ rows, counts });
        }
      } catch {
        // Offline for a moment: the next tick tries again.
      }
      tick();
    }, props.intervalMs);
    return () => clearInterval(timer);
  }, [props.refreshUrl]);

  const { rows, counts } = data;
  const when = (at: number) =>
    clock.zone && clock.zone !== "UTC" ? formatInZone(at, clock.zone) : `${formatTime(at)} UTC`;
  /** "2026-03-02 21:05:00 +09:00 · down · 120 ms": one result as its hover text says it. */
  const resultText = (row: DashboardRow, index: number) => {
    const at = beatTimes(row.beats)[index];
    const ms = row.beats.ms[index];
    const result = text[RESULT_TEXT[row.beats.s[index]]];
    return `${when(at)} · ${result}${ms >= 0 ? ` · ${formatMs(ms)}` : ""}`;
  };
  return (
    <>
      <nav class="state-counts" aria-label={text.counts}>
        {COUNTED.filter((s) => s !== "pending" || counts.pending > 0).map((s) => (
          <a
            key={s}
            href={props.state === s ? "/admin" : `/admin?state=${s}`}
            class={`count count-${s}`}
            aria-current={props.state === s ? "true" : undefined}
            data-state={s}
          >
            <b>{counts[s]}</b> {text[s]}
          </a>
        ))}
      </nav>
      {rows.length === 0 ? <p class="empty">{text.empty}</p> : (
        <table class="jobs">
          <thead>
            <tr>
              <th>{text.state}</th>
              <th>{text.name}</th>
              <th>{text.beats}</th>
              <th class="num">{text.uptime}</th>
              <th>{text.latency}</th>
              <th>{text.schedule}</th>
              <th>{text.lastRun}</th>
              <th class="num">{text.runs}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const n = row.beats.s.length;
              const times = n > 0 ? beatTimes(row.beats) : [];
              const shown = hover?.row === row.id ? hover.index : null;
              const label = n === 0 ? text.noResults : `${text.beats}: ${resultText(row, n - 1)}`;
              return (
                <tr key={row.id} data-job={row.id}>
                  <td class="state">
                    <span class={stateClass(row.state)}>{text[row.state]}</span>
                  </td>
                  <td class="name">
                    <a href={`/admin/jobs/${encodeURIComponent(row.id)}`}>{row.name}</a>
                    <small>{row.method} {row.url}</small>
                  </td>
                  <td class="beats-cell" data-label={text.beats}>
                    <HeartbeatBar
                      beats={row.beats}
                      label={label}
                      onHover={(index) => setHover(index === null ? null : { row: row.id, index })}
                    />
                    {shown !== null && (
                      <span class="beat-tip" role="tooltip">{resultText(row, shown)}</span>
                    )}
                  </td>
                  <td class="num uptime-cell" data-label={text.uptime}>
                    {formatUptime(row.uptime24h)}
                    <small>{formatUptime(row.uptime30d)}</small>
                  </td>
                  <td class="latency-cell" data-label={text.latency}>
                    <Sparkline beats={row.beats} />
                    <small>{text.p95} {formatP95(row.p95LatencyMs)}</small>
                  </td>
                  <td data-label={text.schedule}>
                    <code>{row.schedule}</code>
                    <small>{row.timezone}</small>
                  </td>
                  <td data-label={text.lastRun}>
                    {n > 0
                      ? (
                        <>
                          <span class={stateClass(RESULT_TEXT[row.beats.s[n - 1]])}>
                            {text[RESULT_TEXT[row.beats.s[n - 1]]]}
                          </span>{" "}
                          <Time at={times[n - 1]} clock={clock} />
                        </>
                      )
                      : "—"}
                  </td>
                  <td class="num" data-label={text.runs}>{row.count}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
