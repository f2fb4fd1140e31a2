/** The one error a schedule or time zone that cannot be used raises, naming the field at fault. */
export class ScheduleError extends RangeError {
  override name = "ScheduleError";
  constructor(message: string, readonly field: "schedule" | "timezone") {
    super(message);
  }
}
