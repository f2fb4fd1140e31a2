/** The Alerts pages (channels, maintenance windows) in real headless Chromium: alerts_scenario.ts. */
import { runScenario } from "./run_scenario.ts";

Deno.test({
  name: "the Alerts pages work end to end in headless Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) => runScenario(t, new URL("./alerts_scenario.ts", import.meta.url), { minSteps: 10 }),
});
