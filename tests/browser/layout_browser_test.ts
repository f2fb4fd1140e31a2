/** The admin pages live, on a phone and in dark mode, in headless Chromium: layout_scenario.ts. */
import { runScenario } from "./run_scenario.ts";

Deno.test({
  name: "the admin pages stay live, fit a phone and follow dark mode in headless Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) => runScenario(t, new URL("./layout_scenario.ts", import.meta.url), { minSteps: 9 }),
});
