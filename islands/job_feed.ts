/**
 * The job page's islands (state badge, figures, runs and chart) share one poll of the page's
 * live feed (`/admin/jobs/:id/live.json`, lib/jobs/job_live.ts): every few seconds while the
 * tab is visible, one request, and each island takes what it shows from the answer.
 */
import type { JobFigures } from "../lib/jobs/job_live.ts";
import type { RunRow } from "./run_row.ts";

/** Where an island's live data comes from, and how often. */
export interface Feed {
  url: string;
  intervalMs: number;
}

export interface LiveData {
  state: string;
  figures: JobFigures;
  /** Newest first. */
  runs: RunRow[];
}

/** Called with each fresh answer and the browser's time when it came. */
export type Listener = (data: LiveData, now: number) => void;

/** The listeners of each feed; its poll starts with the first (the islands stay for good). */
const polls = new Map<string, Listener[]>();

/** Starts listening to `feed`: one poll however many islands listen. */
export function watchFeed(feed: Feed, listener: Listener): void {
  let listeners = polls.get(feed.url);
  if (!listeners) {
    const all: Listener[] = listeners = [];
    polls.set(feed.url, all);
    setInterval(async () => {
      if (document.hidden) return;
      try {
        const response = await fetch(feed.url, { headers: { accept: "application/json" } });
        if (!response.ok) return;
        const data = await response.json() as LiveData;
        for (const each of all) each(data, Date.now());
      } catch {
        // Offline for a moment: the next tick tries again.
      }
    }, feed.intervalMs);
  }
  listeners.push(listener);
}
