/**
 * Load from `wrk` (when installed), so the client does not take the server's CPU: one thread,
 * `connections` connections for `seconds`, the request shaped by a Lua script. Used by the
 * inbound and pings scenarios.
 */

export interface WrkResult {
  rate: number;
  p50: number;
  p99: number;
  client: "wrk";
  sent: number;
}

export async function runWrk(
  wrk: string,
  target: string,
  options: { lua: string; connections: number; seconds: number },
): Promise<WrkResult> {
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(script, options.lua);
  const out = await new Deno.Command(wrk, {
    args: [
      "-t1",
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      "--latency",
      "-s",
      script,
      target,
    ],
    stderr: "piped",
  }).output();
  await Deno.remove(script);
  const text = new TextDecoder().decode(out.stdout);
  const ms = (label: string) => {
    const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`).exec(text);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const sent = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  if (/Non-2xx/.test(text)) throw new Error(`wrk saw errors:\n${text}`);
  return { rate, p50: ms("50%"), p99: ms("99%"), client: "wrk", sent };
}
