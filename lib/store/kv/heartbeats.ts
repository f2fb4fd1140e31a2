/**
 * Heartbeat pings in Deno KV: the token index (`["ping_token", sha256]`, kept in step with its
 * job by `writePingIndex` in the job's own atomic op), the expiring `/start` mark, and the late
 * check's question, answered from the job's runs by one range read of the window.
 */
import {
  type HeartbeatStore,
  type PingFacts,
  type PingTarget,
  START_TTL_MS,
} from "../heartbeats.ts";
import type { Job, Run } from "../types.ts";
import { kvKeys } from "./keys.ts";

export class KvHeartbeatStore implements HeartbeatStore {
  constructor(private readonly kv: Deno.Kv) {}

  async findByTokenHash(tokenHash: string): Promise<PingTarget | null> {
    return (await this.kv.get<PingTarget>(kvKeys.pingToken(tokenHash))).value;
  }

  async pingFacts(
    tokenHash: string,
    { userId, jobId }: { userId: string; jobId: string },
  ): Promise<PingFacts> {
    const [target, start] = await this.kv.getMany<[PingTarget, number]>([
      kvKeys.pingToken(tokenHash),
      kvKeys.pingStart(userId, jobId),
    ]);
    const current = target.value?.jobId === jobId && target.value.userId === userId
      ? target.value
      : null;
    const guards: Deno.AtomicCheck[] = [
      { key: target.key, versionstamp: target.versionstamp },
      { key: start.key, versionstamp: start.versionstamp },
    ];
    return { target: current, startedAt: start.value, guards };
  }

  async markStart(userId: string, jobId: string, at: number): Promise<void> {
    await this.kv.set(kvKeys.pingStart(userId, jobId), at, { expireIn: START_TTL_MS });
  }

  async clearStart(userId: string, jobId: string, at: number): Promise<void> {
    const key = kvKeys.pingStart(userId, jobId);
    const entry = await this.kv.get<number>(key);
    if (entry.value !== at) return;
    // A start that came meanwhile is a new run of the job: the check keeps it.
    await this.kv.atomic().check(entry).delete(key).commit();
  }

  async successPingBetween(
    userId: string,
    jobId: string,
    { from, to }: { from: number; to: number },
  ): Promise<boolean> {
    if (to < from) return false;
    const runs = kvKeys.runsOf(userId, jobId);
    // Newest first: the ping that answers is most often the latest one.
    const iter = this.kv.list<Run>(
      { start: [...runs, from], end: [...runs, to + 1] },
      { reverse: true, batchSize: 50 },
    );
    for await (const entry of iter) {
      if (entry.value.ping && entry.value.status === "success") return true;
    }
    return false;
  }
}

/** Keeps a heartbeat job's token index in step with it (add to the job's own write). */
export function writePingIndex(
  op: Deno.AtomicOperation,
  before: Job | null,
  after: Job | null,
): void {
  const old = before?.heartbeat?.tokenHash;
  const now = after?.heartbeat?.tokenHash;
  if (old && old !== now) op.delete(kvKeys.pingToken(old));
  if (before?.heartbeat && !after) op.delete(kvKeys.pingStart(before.userId, before.id));
  if (after && now) {
    const target: PingTarget = { userId: after.userId, jobId: after.id, enabled: after.enabled };
    op.set(kvKeys.pingToken(now), target);
  }
}
