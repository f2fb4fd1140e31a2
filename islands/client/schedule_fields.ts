// Browser entry of the schedule_fields island (built by `deno task build` into static/build/).
import { mount } from "../hydrate.ts";
import ScheduleFields from "../schedule_fields.tsx";

mount("schedule_fields", ScheduleFields);
