/**
 * The clock of a server-rendered page (language, the request's time, the viewer's zone), which
 * renderPage provides to every component, and the times drawn with it: `<PageTime>` ("3 minutes
 * ago") and `<ExactTime>` (the wall clock, for a run's own page). Server only: the islands'
 * scripts carry neither this context nor these components.
 */
import { Component, createContext } from "preact";
import { formatTime } from "./format.ts";
import { relativeTime } from "./relative_time.ts";
import { instant, type PageClock, Time, type TimeProps } from "./time.tsx";
import { formatInZone } from "./zone_time.ts";

export const PageClockContext = createContext<PageClock>({ lang: "en", now: 0, zone: null });

type PageTimeProps = Omit<TimeProps, "clock">;

/** `<Time>` on the page's clock. */
export class PageTime extends Component<PageTimeProps> {
  static override contextType = PageClockContext;

  override render() {
    return <Time at={this.props.at} clock={this.context as PageClock} />;
  }
}

/**
 * The exact time on the viewer's clock (UTC until the zone is known), the relative one on
 * hover: where the moment itself matters, as on a run's page.
 */
export class ExactTime extends Component<PageTimeProps> {
  static override contextType = PageClockContext;

  override render() {
    const clock = this.context as PageClock;
    const at = instant(this.props.at);
    if (at === null) return <>—</>;
    const relative = relativeTime(at, clock.now, clock.lang);
    const local = clock.zone && clock.zone !== "UTC" ? clock.zone : null;
    return (
      <time
        datetime={new Date(at).toISOString()}
        title={local ? `${relative}\n${formatTime(at)} UTC` : relative}
      >
        {local ? formatInZone(at, local) : `${formatTime(at)} UTC`}
      </time>
    );
  }
}
