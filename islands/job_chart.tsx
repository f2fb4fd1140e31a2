/**
 * The job page's latency chart (uPlot, loaded only in the browser): successful runs as a line,
 * failures as red points, time along the bottom on the viewer's clock, colours from the
 * stylesheet so dark mode applies to it too.
 */
import { Component, createRef } from "preact";
import type { RunRow } from "./run_row.ts";

/** The narrowest time axis, in seconds: a lone run sits in ten minutes, not in years. */
const MIN_SPAN_S = 600;

/**
 * The time axis's range, in seconds: the runs' own span, widened around its middle to ten
 * minutes when narrower. uPlot's own answer for a single point is that point plus 86,400,000
 * seconds (a day in ms, taken as seconds): an axis from 2026 to 2029.
 */
export function timeRange(times: number[]): [number, number] | [null, null] {
  if (times.length === 0) return [null, null];
  const min = Math.min(...times);
  const max = Math.max(...times);
  const pad = Math.max(0, (MIN_SPAN_S - (max - min)) / 2);
  return [min - pad, max + pad];
}

type UPlotLike = { setData(data: unknown): void; setSize(size: object): void; destroy(): void };
type ChartProps = { runs: RunRow[]; text: Record<string, string> };

export class Chart extends Component<ChartProps> {
  private box = createRef<HTMLDivElement>();
  private chart: UPlotLike | null = null;
  private gone = false;
  private resize = () =>
    this.chart?.setSize({ width: this.box.current?.clientWidth ?? 600, height: 220 });

  override componentDidMount() {
    addEventListener("resize", this.resize);
    import("uplot").then(({ default: UPlot }) => {
      const box = this.box.current;
      if (this.gone || !box) return;
      const { text } = this.props;
      // The stylesheet's colours (light or dark, as the page was opened).
      const css = getComputedStyle(box);
      const color = (name: string) => css.getPropertyValue(name).trim();
      const axis = { stroke: color("--muted"), grid: { stroke: color("--line") } };
      this.chart = new UPlot(
        {
          width: box.clientWidth || 600,
          height: 220,
          scales: { x: { time: true, range: (u) => timeRange(u.data[0] as number[]) } },
          axes: [axis, { ...axis, label: "ms" }],
          series: [
            {},
            { label: text.latency, stroke: color("--accent"), width: 1.5, spanGaps: true },
            {
              label: text.failures,
              stroke: color("--bad"),
              fill: color("--bad"),
              paths: () => null,
              points: { show: true, size: 8, fill: color("--bad") },
            },
          ],
        },
        chartData(this.props.runs) as never,
        box,
      ) as unknown as UPlotLike;
    });
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
