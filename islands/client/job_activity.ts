// Browser entry of the job page's islands (built by `deno task build` into static/build/):
// the state badge, the figures and the runs share one script and one live feed.
import { mount } from "../hydrate.ts";
import JobActivity from "../job_activity.tsx";
import JobFigures from "../job_figures.tsx";
import JobState from "../job_state.tsx";

mount("job_state", JobState);
mount("job_figures", JobFigures);
mount("job_activity", JobActivity);
