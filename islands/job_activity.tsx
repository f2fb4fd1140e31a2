/**
 * A job's recent runs: a latency chart with failures marked (uPlot, loaded only in the
 * browser) and the runs table. New runs appear by themselves: the island asks the JSON API for
 * the newest runs every few seconds and merges them in.
 */
import { Component, createRef } from "preact";
import { formatMs, formatTime, stateClass } from "../components/format.ts";

export interface RunRow {
  id: string;
  where: string;
  trigger: string;
  status: string;
  code: number;
  scheduledAt: string;
  durationMs: number | null;
  lateMs: number | null;
  problem: string | null;
  /** A Cloud Run job's execution. */
  execution?: RunExecution | null;
}

export interface RunExecution {
  name: string;
  succeededCount: number;
  failedCount: number;
  logUri: string | null;
  status: string;
}

export interface JobActivityProps {
  jobId: string;
  runs: RunRow[];
  /** Rows in the table; the chart shows every run loaded. */
  tableSize: number;
  intervalMs: number;
  text: Record<string, string>;
  /** Show each run's Cloud Run execution (name, tasks, logs, status). */
  executions?: boolean;
}

/** The row of a run as the API returns it. */
export function runRow(run: {
  id: string;
  where: string;
  trigger: string;
  status: string;
  code: number;
  scheduledAt: string;
  durationMs: number | null;
  lateMs: number | null;
  error: { message: string } | null;
  failure: string | null;
  execution?: RunExecution | null;
}): RunRow {
  return {
    id: run.id,
    where: run.where,
    trigger: run.trigger,
    status: run.status,
    code: run.code,
    scheduledAt: run.scheduledAt,
    durationMs: run.durationMs,
    lateMs: run.lateMs,
    problem: (run.error?.message ?? run.failure)?.slice(0, 200) ?? null,
    ...(run.execution ? { execution: run.execution } : {}),
  };
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
export default class JobActivity extends Component<JobActivityProps, { runs: RunRow[] }> {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(props: JobActivityProps) {
    super(props);
    this.state = { runs: props.runs };
  }

  override componentDidMount() {
    const url = `/api/jobs/${encodeURIComponent(this.props.jobId)}/runs?limit=10`;
    const keep = Math.max(this.props.runs.length, 120);
    this.timer = setInterval(async () => {
      if (document.hidden) return;
      try {
        const response = await fetch(url, { headers: { accept: "application/json" } });
        if (!response.ok) return;
        const fresh = (await response.json()).data.map(runRow);
        this.setState(({ runs }) => ({ runs: merge(runs, fresh, keep) }));
      } catch {
        // Offline for a moment: the next tick tries again.
      }
    }, this.props.intervalMs);
  }

  override componentWillUnmount() {
    clearInterval(this.timer);
  }

  override render() {
    const { text, jobId, tableSize } = this.props;
    const { runs } = this.state;
    return (
      <div class="activity">
        <Chart runs={runs} text={text} />
        {runs.length === 0 ? <p class="empty">{text.noRuns}</p> : (
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
                      {formatTime(run.scheduledAt)}
                    </a>
                    {run.trigger === "MANUAL" && <small>{text.manual}</small>}
                  </td>
                  <td>
                    <span class={stateClass(run.status)}>{text[run.status] ?? run.status}</span>
                    {run.code > 0 && <>{run.code}</>}
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
        )}
      </div>
    );
  }
}

type UPlotLike = { setData(data: unknown): void; setSize(size: object): void; destroy(): void };
type ChartProps = { runs: RunRow[]; text: Record<string, string> };

/** The latency chart; uPlot draws into the element once the page is in the browser. */
class Chart extends Component<ChartProps> {
  private box = createRef<HTMLDivElement>();
  private chart: UPlotLike | null = null;
  private gone = false;
  private resize = () =>
    this.chart?.setSize({ width: this.box.current?.clientWidth ?? 600, height: 220 });

  override componentDidMount() {
    import("uplot").then(({ default: UPlot }) => {
      if (this.gone || !this.box.current) return;
      const { text } = this.props;
      this.chart = new UPlot(
        {
          width: this.box.current.clientWidth || 600,
          height: 220,
          scales: { x: { time: true } },
          axes: [{}, { label: "ms" }],
          series: [
            {},
            { label: text.latency, stroke: "#2f6fdd", width: 1.5, spanGaps: true },
            {
              label: text.failures,
              stroke: "#d33",
              fill: "#d33",
              paths: () => null,
              points: { show: true, size: 8, fill: "#d33" },
            },
          ],
        },
        chartData(this.props.runs) as never,
        this.box.current,
      ) as unknown as UPlotLike;
    });
    addEventListener("resize", this.resize);
  }

  override componentWillUnmount() {
    this.gone = true;
    removeEventListener("resize", this.resize);
    this.chart?.destroy();
  }

  override shouldComponentUpdate(next: ChartProps) {
    // uPlot owns the element's contents: new runs become new data, never a re-render.
    if (next.runs !== this.props.runs) this.chart?.setData(chartData(next.runs));
    return false;
  }

  override render() {
    return <div class="chart" ref={this.box} role="img" aria-label={this.props.text.chart} />;
  }
}

function chartData(runs: RunRow[]): [number[], (number | null)[], (number | null)[]] {
  const ordered = [...runs].reverse();
  return [
    ordered.map((r) => Date.parse(r.scheduledAt) / 1000),
    ordered.map((r) => r.status === "success" ? r.durationMs : null),
    ordered.map((r) => r.status === "failure" ? r.durationMs ?? 0 : null),
  ];
}
