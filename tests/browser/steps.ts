/**
 * What a browser scenario (run in a child process, see run_scenario.ts) reports with: one JSON
 * line per step, and where its screenshots go: docs/screenshots/ with
 * HIBIKI_UPDATE_SCREENSHOTS=1, else a temporary folder removed at the end, so running the
 * tests leaves the tree as it was.
 */

export const UPDATE_SHOTS = Deno.env.get("HIBIKI_UPDATE_SCREENSHOTS") === "1";

/** The folder screenshots are written to (a `file:` URL ending in a slash). */
export const SHOTS = UPDATE_SHOTS
  ? new URL("../../docs/screenshots/", import.meta.url)
  : new URL(`file://${await Deno.makeTempDir({ prefix: "hibiki-screenshots-" })}/`);

/** Runs one step; after a failure the remaining steps are reported as skipped by the caller. */
export async function step(name: string, fn: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await fn();
    console.log(
      JSON.stringify({ step: name, ok: true, ms: Math.round(performance.now() - started) }),
    );
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.log(JSON.stringify({ step: name, ok: false, error: message }));
    throw error;
  }
}

/** Runs the scenario, removes temporary screenshots and exits with 0 when every step passed. */
export async function finish(scenario: () => Promise<void>): Promise<never> {
  let code = 0;
  try {
    await scenario();
  } catch {
    code = 1;
  }
  if (!UPDATE_SHOTS) await Deno.remove(SHOTS, { recursive: true }).catch(() => {});
  Deno.exit(code);
}
