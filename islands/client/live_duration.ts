// Browser entry of the live_duration island (built by `deno task build` into static/build/).
import { mount } from "../hydrate.ts";
import LiveDuration from "../live_duration.tsx";

mount("live_duration", LiveDuration);
