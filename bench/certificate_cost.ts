/**
 * What reading an https target's certificate adds to a run (lib/net/tls_certificate.ts):
 * `deno run -A bench/certificate_cost.ts [runs]` (default 100 each). A TLS server with the test
 * certificate runs in another process so its CPU is not counted. Runs without the read are
 * taken in turn with runs whose read must handshake (a target's first run in an hour), then
 * with runs whose read is answered from memory (every other run); each on a new connection
 * per run (a job firing every minute: idle connections are kept 4 s), then on a kept-alive one.
 * Prints medians and p90 of the run's wall time (the probe call, waiting for the read
 * included), its `durationMs`, and the process's CPU time (user + system) per run.
 */
import { cpuUsage } from "node:process";
import { closeOutbound, useExtraCaCerts } from "../lib/net/outbound.ts";
import { probe } from "../lib/net/probe.ts";
import { CertificateReader } from "../lib/net/tls_certificate.ts";

const runs = Number(Deno.args[0] ?? 100);
const dir = new URL("../tests/fixtures/tls/", import.meta.url);

const serverSource = `
const dir = new URL(${JSON.stringify(dir.href)});
const server = Deno.serve({
  hostname: "127.0.0.1", port: 0,
  cert: Deno.readTextFileSync(new URL("server.pem", dir)),
  key: Deno.readTextFileSync(new URL("server.key", dir)),
  onListen: ({ port }) => console.log(port),
}, () => new Response("ok"));
`;
const child = new Deno.Command(Deno.execPath(), {
  args: ["eval", serverSource],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
const port = Number((await reader.read()).value?.trim());
const url = `https://127.0.0.1:${port}/`;
useExtraCaCerts([await Deno.readTextFile(new URL("ca.pem", dir))]);

type Mode = "without read" | "read, handshake" | "read, from memory";
const warm = new CertificateReader();

function cpuMicros(): number {
  const { user, system } = cpuUsage();
  return user + system;
}

async function once(
  mode: Mode,
  fresh: boolean,
): Promise<{ wall: number; duration: number; cpu: number }> {
  if (fresh) closeOutbound();
  const certificates = mode === "without read"
    ? undefined
    : mode === "read, handshake"
    ? new CertificateReader()
    : warm;
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  const result = await probe(
    { url, method: "GET", headers: {}, body: null, timeoutMs: 5000 },
    { allowPrivate: true, certificates },
  );
  const wall = performance.now() - t0;
  const cpu = cpuMicros() - cpu0;
  if (!result.success) throw new Error(`Run failed: ${JSON.stringify(result.error)}`);
  if (certificates && !result.certificate) throw new Error("Certificate not read");
  return { wall, duration: result.durationMs, cpu };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// Taken in pairs: a handshake's clean-up (its socket closing) lands on the run after it, so
// "from memory" is compared with runs that follow no handshake.
const pairs: Mode[][] = [["without read", "read, handshake"], [
  "without read",
  "read, from memory",
]];
for (const [fresh, modes] of [true, false].flatMap((f) => pairs.map((p) => [f, p] as const))) {
  const samples = new Map(modes.map((mode) => [mode, { wall: [], duration: [], cpu: [] }])) as Map<
    Mode,
    { wall: number[]; duration: number[]; cpu: number[] }
  >;
  // Warm-up: module code, the root store, the shared reader's memory.
  for (const mode of modes) for (let i = 0; i < 10; i++) await once(mode, fresh);
  for (let i = 0; i < runs; i++) {
    for (const mode of modes) {
      const sample = await once(mode, fresh);
      const kept = samples.get(mode)!;
      kept.wall.push(sample.wall);
      kept.duration.push(sample.duration);
      kept.cpu.push(sample.cpu);
    }
  }
  const how = fresh ? "a new connection per run" : "the run's connection kept alive";
  console.log(`\n${runs} runs each, ${how}, median (p90)`);
  console.log("mode               | wall ms        | durationMs | CPU µs");
  for (const mode of modes) {
    const { wall, duration, cpu } = samples.get(mode)!;
    const cell = (values: number[], digits: number) =>
      `${quantile(values, 0.5).toFixed(digits)} (${quantile(values, 0.9).toFixed(digits)})`;
    console.log(
      `${mode.padEnd(18)} | ${cell(wall, 2).padEnd(14)} | ${cell(duration, 0).padEnd(10)} | ${
        cell(cpu, 0)
      }`,
    );
  }
}
closeOutbound();
child.kill();
await child.status;
