/** The state badge beside a job's name on its page, kept current by the page's live feed. */
import { Component } from "preact";
import { stateClass } from "../components/format.ts";
import { type Feed, watchFeed } from "./job_feed.ts";

export interface JobStateProps {
  feed: Feed;
  state: string;
  /** The states' names in the page's language. */
  names: Record<string, string>;
}

export default class JobState extends Component<JobStateProps, { state: string }> {
  constructor(props: JobStateProps) {
    super(props);
    this.state = { state: props.state };
  }

  override componentDidMount() {
    watchFeed(this.props.feed, (data) => this.setState({ state: data.state }));
  }

  override render() {
    const { state } = this.state;
    return <span class={stateClass(state)}>{this.props.names[state] ?? state}</span>;
  }
}
