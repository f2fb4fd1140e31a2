/**
 * The dashboard's jobs table. Rendered on the server with the page; in the browser it asks for
 * fresh rows of the same page every few seconds (while the tab is visible). On a phone the
 * stylesheet lays each row out as a card, each cell under its `data-label`.
 */
import { useEffect, useState } from "preact/hooks";
import { formatP95, formatRate, stateClass } from "../components/format.ts";
import { browserClock, type PageClock, Time } from "../components/time.tsx";
import type { DashboardRow } from "../lib/jobs/dashboard.ts";

export interface DashboardTableProps {
  rows: DashboardRow[];
  /** Where the same page's rows come from as JSON. */
  refreshUrl: string;
  intervalMs: number;
  /** The server's clock when it drew the page; the browser's once running. */
  clock: PageClock;
  text: Record<string, string>;
}

export default function DashboardTable(props: DashboardTableProps) {
  const [rows, setRows] = useState(props.rows);
  // Drawn first as the server drew it (hydration), then on the browser's clock and zone.
  const [clock, setClock] = useState(props.clock);
  const { text } = props;
  useEffect(() => {
    const tick = () => setClock(browserClock(props.clock));
    tick();
    const timer = setInterval(async () => {
      if (document.hidden) return;
      try {
        const response = await fetch(props.refreshUrl, { headers: { accept: "application/json" } });
        if (response.ok) setRows((await response.json()).rows);
      } catch {
        // Offline for a moment: the next tick tries again.
      }
      tick();
    }, props.intervalMs);
    return () => clearInterval(timer);
  }, [props.refreshUrl]);

  if (rows.length === 0) return <p class="empty">{text.empty}</p>;
  return (
    <table class="jobs">
      <thead>
        <tr>
          <th>{text.state}</th>
          <th>{text.name}</th>
          <th>{text.schedule}</th>
          <th>{text.lastRun}</th>
          <th class="num">{text.success}</th>
          <th class="num">{text.p95}</th>
          <th class="num">{text.lateness}</th>
          <th class="num">{text.runs}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id} data-job={row.id}>
            <td class="state">
              <span class={stateClass(row.state)}>{text[row.state]}</span>
            </td>
            <td class="name">
              <a href={`/admin/jobs/${encodeURIComponent(row.id)}`}>{row.name}</a>
              <small>{row.method} {row.url}</small>
            </td>
            <td data-label={text.schedule}>
              <code>{row.schedule}</code>
              <small>{row.timezone}</small>
            </td>
            <td data-label={text.lastRun}>
              {row.lastRun
                ? (
                  <>
                    <span class={stateClass(row.lastRun.status)}>{row.lastRun.code || "—"}</span>
                    {" "}
                    <Time at={row.lastRun.scheduledAt} clock={clock} />
                  </>
                )
                : "—"}
            </td>
            <td class="num" data-label={text.success}>{formatRate(row.successRate)}</td>
            <td class="num" data-label={text.p95}>{formatP95(row.p95LatencyMs)}</td>
            <td class="num" data-label={text.lateness}>{formatP95(row.p95LateMs)}</td>
            <td class="num" data-label={text.runs}>{row.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
