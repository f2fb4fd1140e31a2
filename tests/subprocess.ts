/**
 * Running Hibiki's programs as a user would: the repository's own `deno task` flags, a
 * process's output read as it comes, and a free port on loopback.
 */
import { fileURLToPath } from "node:url";

/** The repository root, where deno.json and main.ts live. */
export const REPO = fileURLToPath(new URL("../", import.meta.url));

/**
 * The `deno` arguments of a task in deno.json (`run`, its flags and the script made absolute),
 * without the environment assignments in front, so a test runs exactly what the task runs
 * but may choose its own working folder.
 */
export async function taskArgs(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${REPO}deno.json`));
  const words = (config.tasks[task] as string).split(/\s+/);
  const args = words.slice(words.indexOf("deno") + 1);
  const script = args.length - 1;
  if (args[script].endsWith(".ts")) args[script] = REPO + args[script];
  return args;
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Text of one output stream of a child, read in the background as it comes. */
export class Output {
  text = "";
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.text += decoder.decode(chunk, { stream: true });
    })();
  }

  /** Waits until the text matches `pattern` (or the stream ends, or `ms` pass). */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray | null> {
    const deadline = Date.now() + ms;
    let ended = false;
    this.done.then(() => (ended = true));
    while (Date.now() < deadline) {
      const match = this.text.match(pattern);
      if (match || ended) return match;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.text.match(pattern);
  }
}

export interface Child {
  process: Deno.ChildProcess;
  stdout: Output;
  stderr: Output;
  /** The exit code; ends the process first if it is still running after `ms`. */
  exit(ms?: number): Promise<{ code: number; timedOut: boolean }>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function spawn(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? REPO,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Output(process.stdout);
  const stderr = new Output(process.stderr);
  let exited = false;
  const status = process.status.then((s) => {
    exited = true;
    return s;
  });
  const exit = async (ms = 30_000) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill("SIGKILL");
    }, ms);
    const { code } = await status;
    clearTimeout(timer);
    await Promise.all([stdout.done, stderr.done]);
    return { code, timedOut };
  };
  return {
    process,
    stdout,
    stderr,
    exit,
    async [Symbol.asyncDispose]() {
      if (!exited) process.kill("SIGTERM");
      await exit(10_000);
    },
  };
}
