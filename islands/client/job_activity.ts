// Browser entry of the job_activity island (built by `deno task build` into static/build/).
import { mount } from "../hydrate.ts";
import JobActivity from "../job_activity.tsx";

mount("job_activity", JobActivity);
