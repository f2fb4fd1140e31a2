/**
 * The figures beside a job's settings (24-hour success rate and percentiles, run count, last
 * and next run), kept current by the page's live feed like the runs table below them.
 */
import { Component, type ComponentChildren } from "preact";
import { formatP95, formatRate } from "../components/format.ts";
import { browserClock, type PageClock, Time } from "../components/time.tsx";
import type { JobFigures as Figures } from "../lib/jobs/job_live.ts";
import { type Feed, watchFeed } from "./job_feed.ts";

export interface JobFiguresProps {
  feed: Feed;
  figures: Figures;
  /** The server's clock when it drew the page; the browser's once running. */
  clock: PageClock;
  text: Record<string, string>;
}

export default class JobFigures
  extends Component<JobFiguresProps, { figures: Figures; clock: PageClock }> {
  constructor(props: JobFiguresProps) {
    super(props);
    this.state = { figures: props.figures, clock: props.clock };
  }

  override componentDidMount() {
    const clock = (now?: number) => browserClock(this.props.clock, now);
    this.setState({ clock: clock() });
    watchFeed(
      this.props.feed,
      (data, now) => this.setState({ figures: data.figures, clock: clock(now) }),
    );
  }

  override render() {
    const { text } = this.props;
    const { figures: f } = this.state;
    const figure = (label: string, value: ComponentChildren) => (
      <div>
        <dt>{label}</dt>
        <dd>{value}</dd>
      </div>
    );
    return (
      <dl class="figures">
        {figure(text.success, formatRate(f.successRate))}
        {figure(text.p95, formatP95(f.p95LatencyMs))}
        {figure(text.lateness, formatP95(f.p95LateMs))}
        {figure(text.runs, f.count)}
        {figure(text.lastRun, <Time at={f.lastRunAt} clock={this.state.clock} />)}
        {figure(text.nextRun, <Time at={f.nextRunAt} clock={this.state.clock} />)}
      </dl>
    );
  }
}
