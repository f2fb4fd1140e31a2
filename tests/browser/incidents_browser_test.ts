/** Incidents and the job form's alert settings in real headless Chromium: incidents_scenario.ts. */
import { runScenario } from "./run_scenario.ts";

Deno.test({
  name: "incidents and a job's alert settings work end to end in headless Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) => runScenario(t, new URL("./incidents_scenario.ts", import.meta.url), { minSteps: 8 }),
});
