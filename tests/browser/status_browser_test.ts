/** A public status page in real headless Chromium: status_scenario.ts. */
import { runScenario } from "./run_scenario.ts";

Deno.test({
  name: "a public status page reads well in headless Chromium at 1280 and 390 px",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) => runScenario(t, new URL("./status_scenario.ts", import.meta.url), { minSteps: 5 }),
});
