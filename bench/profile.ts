/**
 * `--profile`: a CPU profile of the main thread while a scenario runs, through V8's inspector.
 * Writes `bench/<scenario>.cpuprofile` (opens in Chrome DevTools) and prints the functions
 * with the most self time, which is usually all one needs to see where a figure goes.
 * `profileChild` does the same for a server the scenario spawned with `--inspect`: Deno 2.9
 * has no `--cpu-prof`, and V8's `--prof` log needs a processor Deno does not ship.
 */
import { Session } from "node:inspector/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export async function startProfile(): Promise<() => Promise<Profile>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    return profile as unknown as Profile;
  };
}

/**
 * Starts V8's sampling profiler in a child process started with `--inspect=127.0.0.1:<port>`,
 * over the Chrome DevTools Protocol (the same `Profiler` domain `startProfile` uses in this
 * process); the returned function stops it and hands back the profile.
 */
export async function profileChild(inspectPort: number): Promise<() => Promise<Profile>> {
  const targets = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json() as {
    webSocketDebuggerUrl: string;
  }[];
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`Cannot reach the inspector on port ${inspectPort}`));
  });
  const pending = new Map<number, (message: Record<string, unknown>) => void>();
  socket.onmessage = (e) => {
    const message = JSON.parse(e.data);
    if (typeof message.id === "number") pending.get(message.id)?.(message);
  };
  let nextId = 1;
  const post = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (message) => {
        pending.delete(id);
        if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        else resolve(message.result as Record<string, unknown>);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
  return async () => {
    const { profile } = await post("Profiler.stop");
    socket.close();
    return profile as unknown as Profile;
  };
}

/** Self time per function (ms), most first. */
export function selfTimes(profile: Profile, top = 25): { name: string; ms: number; pct: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const file = frame.url.split("/").slice(-2).join("/");
    const name = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    const us = profile.timeDeltas[i] ?? 0;
    totals.set(name, (totals.get(name) ?? 0) + us);
    all += us;
  });
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / all }));
}

/** `selfTimes` as printed lines: ms, share, function and where it is. */
export function selfTimeLines(profile: Profile, top = 25): string[] {
  return selfTimes(profile, top).map((row) =>
    `  ${row.ms.toFixed(0).padStart(7)} ms ${row.pct.toFixed(1).padStart(5)}%  ${row.name}`
  );
}
