/** The admin pages in real headless Chromium (see scenario.ts for the steps). */
import { runScenario } from "./run_scenario.ts";

Deno.test({
  name: "the admin pages work end to end in headless Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) => runScenario(t, new URL("./scenario.ts", import.meta.url), { minSteps: 10 }),
});
