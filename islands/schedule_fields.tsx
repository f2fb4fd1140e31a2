/**
 * The Schedule and Timezone fields of the job form, with the next five fire times. The
 * browser evaluates the expression with the same code as the scheduler (lib/schedule/), so
 * the preview and the check happen as you type; the server checks again on submit.
 */
import { useState } from "preact/hooks";
import { formatInZone } from "../components/zone_time.ts";
import { nextFireTimes, parseSchedule } from "../lib/schedule/schedule.ts";

export interface ScheduleFieldsProps {
  schedule: string;
  timezone: string;
  /** The server's message for each field after a submit. */
  errors: { schedule?: string; timezone?: string };
  /** Phase of `@every` schedules comes from the job id. */
  jobKey: string;
  /** Time the page was made; the browser uses its own clock. */
  now: number;
  zonesListId: string;
  text: Record<"schedule" | "timezone" | "next" | "hint", string>;
}

function preview(schedule: string, timezone: string, key: string, now: number) {
  try {
    const parsed = parseSchedule(schedule, { timezone: timezone || "UTC", key });
    const times = nextFireTimes(parsed, now, { limit: 5 });
    return {
      times: times.map((at) => formatInZone(at, parsed.timezone)),
      error: null,
      field: null,
    };
  } catch (error) {
    const field = (error as { field?: string }).field === "timezone" ? "timezone" : "schedule";
    return { times: [], error: (error as Error).message, field };
  }
}

export default function ScheduleFields(props: ScheduleFieldsProps) {
  const [schedule, setSchedule] = useState(props.schedule);
  const [timezone, setTimezone] = useState(props.timezone);
  const [edited, setEdited] = useState(false);
  const now = typeof document === "undefined" ? props.now : Date.now();
  const live = schedule.trim() === "" ? null : preview(schedule, timezone, props.jobKey, now);
  // Until the user types, the server's message stands; then the live check takes over.
  const errors = edited ? { [live?.field ?? "schedule"]: live?.error ?? undefined } : props.errors;
  const { text } = props;
  return (
    <div class="schedule-fields">
      <div class={errors.schedule ? "field field-error" : "field"}>
        <label for="job-schedule">{text.schedule}</label>
        <input
          id="job-schedule"
          name="schedule"
          value={schedule}
          required
          spellcheck={false}
          autocomplete="off"
          aria-invalid={errors.schedule ? "true" : undefined}
          aria-describedby="job-schedule-hint job-schedule-error"
          onInput={(e) => {
            setSchedule((e.target as HTMLInputElement).value);
            setEdited(true);
          }}
        />
        <small class="hint" id="job-schedule-hint">{text.hint}</small>
        {errors.schedule && (
          <p class="error" id="job-schedule-error" role="alert">{errors.schedule}</p>
        )}
      </div>
      <div class={errors.timezone ? "field field-error" : "field"}>
        <label for="job-timezone">{text.timezone}</label>
        <input
          id="job-timezone"
          name="timezone"
          value={timezone}
          list={props.zonesListId}
          spellcheck={false}
          autocomplete="off"
          aria-invalid={errors.timezone ? "true" : undefined}
          onInput={(e) => {
            setTimezone((e.target as HTMLInputElement).value);
            setEdited(true);
          }}
        />
        {errors.timezone && (
          <p class="error" id="job-timezone-error" role="alert">{errors.timezone}</p>
        )}
      </div>
      {live && live.times.length > 0 && (
        <div class="next-times" aria-live="polite">
          <p>{text.next}</p>
          <ol>
            {live.times.map((time) => (
              <li>
                <time>{time}</time>
              </li>
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}
