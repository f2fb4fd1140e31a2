/**
 * Runs a browser scenario in a child Deno with every permission, because playwright-core reads
 * /proc and the home folder as it loads; `deno task test` already grants --allow-run, so this
 * adds no privilege. Each JSON line the scenario prints (steps.ts) becomes a test step. Without
 * Chromium (chromium.ts) the test fails and says how to install it.
 */
import assert from "node:assert/strict";
import { CHROMIUM } from "./chromium.ts";

const TIME_LIMIT_MS = 180_000;

export async function runScenario(
  t: Deno.TestContext,
  scenario: URL,
  options: { minSteps: number },
): Promise<void> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    assert.fail(
      `Cannot run the browser tests: ${CHROMIUM} is missing. ` +
        "Install it (apt-get install chromium fonts-noto-cjk) or set CHROMIUM_PATH to a Chrome",
    );
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", scenario.pathname],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIME_LIMIT_MS);
  const { stdout, code } = await child.output().finally(() => clearTimeout(timer));
  const steps = new TextDecoder().decode(stdout).split("\n").filter((l) => l.startsWith("{"))
    .map((line) => JSON.parse(line) as { step: string; ok: boolean; ms?: number; error?: string });
  for (const step of steps) {
    await t.step(`${step.step}${step.ms === undefined ? "" : ` (${step.ms} ms)`}`, () => {
      if (!step.ok) assert.fail(step.error);
    });
  }
  assert.equal(code, 0, `the browser scenario exited with ${code}`);
  assert.ok(steps.length >= options.minSteps, `only ${steps.length} steps reported`);
}
