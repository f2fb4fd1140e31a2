/**
 * A throwaway Postgres for tests: `initdb` in a temporary folder (as the `postgres` user when
 * running as root, since Postgres refuses to run as root), listening on 127.0.0.1 only, on a
 * free port of its own, with no Unix socket and fsync off. `deno task test` starts one for the
 * whole run (scripts/test.ts) and hands its URL to every test file in
 * `HIBIKI_TEST_DATABASE_URL`; a test file run on its own starts one for itself.
 */
import { freePort } from "./subprocess.ts";

/** What to do when there is no Postgres: said by every test that needs one. */
export const HOW_TO_GET_POSTGRES =
  "Cannot find Postgres for the Postgres store tests: install it (Debian/Ubuntu: " +
  "`sudo apt-get install postgresql`; macOS: `brew install postgresql`) so that `initdb` and " +
  "`pg_ctl` are on PATH or under /usr/lib/postgresql/*/bin, or set HIBIKI_TEST_DATABASE_URL " +
  "to a database the tests may create databases on";

export interface Cluster {
  /** `postgres://…` of the cluster's `postgres` database, as its superuser. */
  url: string;
  stop(): Promise<void>;
  /** The same, synchronously: for an `unload` listener, which cannot wait. */
  stopSync(): void;
}

/** The folder holding `initdb` and `pg_ctl`, or null when Postgres is not installed. */
export async function postgresBin(): Promise<string | null> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && await isFile(`${dir}/initdb`) && await isFile(`${dir}/pg_ctl`)) return dir;
  }
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch {
    return null;
  }
  for (const version of versions.sort((a, b) => b - a)) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (await isFile(`${dir}/initdb`) && await isFile(`${dir}/pg_ctl`)) return dir;
  }
  return null;
}

/** Starts a cluster; throws with HOW_TO_GET_POSTGRES when Postgres is not installed. */
export async function startCluster(): Promise<Cluster> {
  const bin = await postgresBin();
  if (!bin) throw new Error(HOW_TO_GET_POSTGRES);
  const root = Deno.uid() === 0;
  const dir = await Deno.makeTempDir({ prefix: "hibiki-pg-" });
  const data = `${dir}/data`;
  if (root) await run(["chown", "postgres:postgres", dir]);
  // As root, every Postgres program runs as the `postgres` user (it refuses root).
  const as = (args: string[]) => root ? ["runuser", "-u", "postgres", "--", ...args] : args;
  await run(as([
    `${bin}/initdb`,
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ]));
  const port = freePort();
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    "-c unix_socket_directories=''",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  await run(as([`${bin}/pg_ctl`, "-D", data, "-o", options, "-l", `${dir}/log`, "-w", "start"]));
  let stopped = false;
  const stopArgs = as([`${bin}/pg_ctl`, "-D", data, "-m", "immediate", "-w", "stop"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(stopArgs).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
    stopSync() {
      if (stopped) return;
      stopped = true;
      new Deno.Command(stopArgs[0], { args: stopArgs.slice(1), stdout: "null", stderr: "null" })
        .outputSync();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

async function run(args: string[]): Promise<void> {
  const { success, stdout, stderr } = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    const text = new TextDecoder().decode(stderr) || new TextDecoder().decode(stdout);
    throw new Error(`Cannot run ${args.join(" ")}: ${text.trim()}`);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
