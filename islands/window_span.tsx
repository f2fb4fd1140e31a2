/**
 * A one-off maintenance window's start and end, as wall clock times in a zone, with the span
 * in UTC beside them. The server does not know the viewer's zone: it renders UTC and says so
 * (`guessZone`), and in the browser this island puts the browser's zone in instead, moving the
 * shown times with it, so the same instants read as the viewer's own clock. Without
 * JavaScript the fields stay in UTC and the zone can be typed.
 */
import { useEffect, useState } from "preact/hooks";
import { formatTime } from "../components/format.ts";
import { instantOfWallTime, wallTimeInZone } from "../components/wall_time.ts";

export interface WindowSpanProps {
  /** Wall clock times in `timezone` (`2026-03-29T01:00`), as typed or as stored. */
  start: string;
  end: string;
  timezone: string;
  /** Nobody chose the zone yet: the browser's own replaces it. */
  guessZone: boolean;
  /** The server's message for each field after a submit. */
  errors: { start?: string; end?: string; zone?: string };
  zonesListId: string;
  text: Record<"zone" | "zoneHint" | "start" | "end" | "utc", string>;
}

function instant(wall: string, zone: string): number | null {
  try {
    return instantOfWallTime(wall, zone);
  } catch {
    return null;
  }
}

export default function WindowSpan(props: WindowSpanProps) {
  const [zone, setZone] = useState(props.timezone);
  const [start, setStart] = useState(props.start);
  const [end, setEnd] = useState(props.end);
  useEffect(() => {
    if (!props.guessZone) return;
    const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!own || own === props.timezone) return;
    const move = (wall: string) => {
      const at = instant(wall, props.timezone);
      return at === null ? wall : wallTimeInZone(at, own);
    };
    setStart(move(props.start));
    setEnd(move(props.end));
    setZone(own);
  }, []);
  const from = instant(start, zone);
  const to = instant(end, zone);
  const { text, errors } = props;
  return (
    <div class="window-span">
      <div class={errors.zone ? "field field-error" : "field"}>
        <label for="mw-zone">{text.zone}</label>
        <input
          id="mw-zone"
          name="zone"
          value={zone}
          list={props.zonesListId}
          spellcheck={false}
          autocomplete="off"
          aria-invalid={errors.zone ? "true" : undefined}
          aria-describedby="mw-zone-hint"
          onInput={(e) => setZone((e.target as HTMLInputElement).value)}
        />
        <small class="hint" id="mw-zone-hint">{text.zoneHint}</small>
        {errors.zone && <p class="error" id="mw-zone-error" role="alert">{errors.zone}</p>}
      </div>
      <div class="span-fields">
        <div class={errors.start ? "field field-error" : "field"}>
          <label for="mw-start">{text.start}</label>
          <input
            id="mw-start"
            name="start"
            type="datetime-local"
            value={start}
            aria-invalid={errors.start ? "true" : undefined}
            onInput={(e) => setStart((e.target as HTMLInputElement).value)}
          />
          {errors.start && <p class="error" id="mw-start-error" role="alert">{errors.start}</p>}
        </div>
        <div class={errors.end ? "field field-error" : "field"}>
          <label for="mw-end">{text.end}</label>
          <input
            id="mw-end"
            name="end"
            type="datetime-local"
            value={end}
            aria-invalid={errors.end ? "true" : undefined}
            onInput={(e) => setEnd((e.target as HTMLInputElement).value)}
          />
          {errors.end && <p class="error" id="mw-end-error" role="alert">{errors.end}</p>}
        </div>
      </div>
      {from !== null && to !== null && (
        <p class="hint" data-testid="span-utc" aria-live="polite">
          {text.utc}: {formatTime(from).slice(0, 16)} → {formatTime(to).slice(0, 16)}
        </p>
      )}
    </div>
  );
}
