/**
 * How long an open incident has lasted, counting on in the browser. The server says how long it
 * was when it rendered the page (on its own clock); the island adds the time since it mounted,
 * so a browser clock that is off does not matter. Without JavaScript the server's figure stays.
 */
import { useEffect, useState } from "preact/hooks";
import { formatDuration } from "../components/duration.ts";

export interface LiveDurationProps {
  /** The incident's length when the page was rendered, ms. */
  elapsedMs: number;
}

/** A second is enough: the text changes once a second at most. */
const TICK_MS = 1000;

export default function LiveDuration(props: LiveDurationProps) {
  const [elapsed, setElapsed] = useState(props.elapsedMs);
  useEffect(() => {
    const mounted = Date.now();
    const timer = setInterval(() => setElapsed(props.elapsedMs + Date.now() - mounted), TICK_MS);
    return () => clearInterval(timer);
  }, []);
  return <span data-testid="live-duration">{formatDuration(elapsed)}</span>;
}
