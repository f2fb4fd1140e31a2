/**
 * A job's recent runs: a latency chart with failures marked (job_chart.tsx) and the runs
 * table. New runs appear by themselves: the page's live feed (job_feed.ts) brings the newest
 * runs every few seconds and they are merged in.
 */
import { Component } from "preact";
import { formatMs, stateClass } from "../components/format.ts";
import { browserClock, type PageClock, Time } from "../components/time.tsx";
import { Chart } from "./job_chart.tsx";
import { type Feed, watchFeed } from "./job_feed.ts";
import type { RunRow } from "./run_row.ts";

export { type RunExecution, type RunRow, runRow } from "./run_row.ts";

export interface JobActivityProps {
  jobId: string;
  runs: RunRow[];
  /** Rows in the table; the chart shows every run loaded. */
  tableSize: number;
  feed: Feed;
  /** The server's clock when it drew the page; the browser's once running. */
  clock: PageClock;
  text: Record<string, string>;
  /** Show each run's Cloud Run execution (name, tasks, logs, status). */
  executions?: boolean;
}

/** A link to an execution's logs: only an https address becomes a link. */
export function LogLink({ uri, label }: { uri: string | null | undefined; label: string }) {
  if (!uri) return <>—</>;
  return /^https:\/\//i.test(uri)
    ? <a href={uri} rel="noopener noreferrer" target="_blank">{label}</a>
    : <code>{uri}</code>;
}

function merge(known: RunRow[], fresh: RunRow[], keep: number): RunRow[] {
  const byId = new Map(known.map((r) => [r.id, r]));
  for (const run of fresh) byId.set(run.id, run);
  return [...byId.values()].sort((a, b) =>
    b.scheduledAt.localeCompare(a.scheduledAt) || b.id.localeCompare(a.id)
  ).slice(0, keep);
}

/**
 * Class components, not hooks: this island ships with uPlot, and leaving `preact/hooks` out
 * keeps the job page's JavaScript inside its 30 KB budget.
 */
export default class JobActivity
  extends Component<JobActivityProps, { runs: RunRow[]; clock: PageClock }> {
  constructor(props: JobActivityProps) {
    super(props);
    // Drawn first as the server drew it (hydration), then on the browser's clock and zone.
    this.state = { runs: props.runs, clock: props.clock };
  }

  override componentDidMount() {
    const keep = Math.max(this.props.runs.length, 120);
    const clock = (now?: number) => browserClock(this.props.clock, now);
    this.setState({ clock: clock() });
    watchFeed(this.props.feed, (data, now) => {
      this.setState(({ runs }) => ({ runs: merge(runs, data.runs, keep), clock: clock(now) }));
    });
  }

  override render() {
    const { text, jobId, tableSize } = this.props;
    const { runs } = this.state;
    return (
      <div class="activity">
        <Chart runs={runs} text={text} />
        {runs.length === 0 ? <p class="empty">{text.noRuns}</p> : (
          // A phone scrolls the table inside its box, never the page.
          <div class="scroll-x">
            <table class="runs">
              <thead>
                <tr>
                  <th>{text.scheduled}</th>
                  <th>{text.status}</th>
                  <th class="num">{text.latency}</th>
                  <th class="num">{text.lateness}</th>
                  <th>{text.where}</th>
                  {this.props.executions && <th>{text.execution}</th>}
                  <th>{text.detail}</th>
                </tr>
              </thead>
              <tbody>
                {runs.slice(0, tableSize).map((run) => (
                  <tr key={run.id}>
                    <td>
                      <a
                        href={`/admin/jobs/${encodeURIComponent(jobId)}/runs/${
                          encodeURIComponent(run.id)
                        }`}
                      >
                        <Time at={run.scheduledAt} clock={this.state.clock} />
                      </a>
                      {run.trigger === "MANUAL" && <small>{text.manual}</small>}
                    </td>
                    <td>
                      <span class={stateClass(run.status)}>{text[run.status] ?? run.status}</span>
                      {run.code > 0 && <>{" "}{run.code}</>}
                    </td>
                    <td class="num">{formatMs(run.durationMs)}</td>
                    <td class="num">{formatMs(run.lateMs)}</td>
                    <td>{run.where}</td>
                    {this.props.executions && (
                      <td class="execution">
                        {run.execution
                          ? (
                            <>
                              <code title={run.execution.name}>
                                {run.execution.name.split("/").pop()}
                              </code>{" "}
                              <span class={stateClass(run.execution.status.toLowerCase())}>
                                {run.execution.status}
                              </span>{" "}
                              {run.execution.succeededCount} ✓ {run.execution.failedCount} ✗{" "}
                              <LogLink uri={run.execution.logUri} label={text.logs} />
                            </>
                          )
                          : "—"}
                      </td>
                    )}
                    <td class="problem">{run.problem ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    );
  }
}
