/**
 * Webhooks and deliveries in Postgres (`WebhookStore`). A webhook is its job's row of
 * `hibiki_webhooks` (deleted with the job by its foreign key), its failing streak a column
 * beside it. A delivery is a row of `hibiki_deliveries` whose `version` (from the one version
 * sequence) is the opaque version of a compare-and-set; its queued attempt is a waiting item
 * of the delivery lane at `nextAttemptAt` (outbox.ts), moved in the same transaction as every
 * save. A delivery written with its run lives only in its lease until its first attempt is
 * saved: that save inserts its row, only if absent.
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { LeaseRef } from "../lanes.ts";
import type { ListOptions } from "../store.ts";
import type { Delivery, Page, StoredDeliveryRef, WebhookRecord } from "../types.ts";
import {
  type AttemptFacts,
  type SaveDeliveryOptions,
  trimDelivery,
  type VersionedDelivery,
  type WebhookStore,
} from "../webhooks.ts";
import type { Sql } from "./connect.ts";
import {
  addDelivery,
  deliveryRef,
  heldDeliveryLease,
  queueAttempt,
  withdrawAttempt,
} from "./outbox.ts";
import { asJson, page, releaseLease } from "./util.ts";
import { decodeCursor } from "../cursor.ts";

type Row = Record<string, unknown>;

export class PgWebhookStore implements WebhookStore {
  constructor(private readonly sql: Sql) {}

  async create(webhook: WebhookRecord): Promise<void> {
    const { userId, jobId } = webhook;
    // The job must exist, and its foreign key keeps it so until this commits.
    const inserted = await this.sql`insert into public.hibiki_webhooks
        (user_id, job_id, webhook, version)
      select ${userId}, ${jobId}, ${asJson(this.sql, webhook)},
        nextval('public.hibiki_version')
      where exists (select 1 from public.hibiki_jobs where user_id = ${userId} and id = ${jobId})
      on conflict do nothing
      returning job_id`.catch((error) => {
      // The job was deleted between the check and the key's.
      if ((error as { code?: string })?.code === "23503") return [];
      throw error;
    });
    if (inserted.length === 1) return;
    if (await this.get(userId, jobId)) {
      throw new ConflictError(`Cannot create webhook: job "${jobId}" already has one`);
    }
    throw new NotFoundError(`Job "${jobId}" not found`);
  }

  async get(userId: string, jobId: string): Promise<WebhookRecord | null> {
    const [row] = await this.sql`select webhook from public.hibiki_webhooks
      where user_id = ${userId} and job_id = ${jobId}`;
    return (row?.webhook as WebhookRecord | undefined) ?? null;
  }

  async list(userId: string, options: ListOptions): Promise<Page<WebhookRecord>> {
    const after = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select job_id, webhook from public.hibiki_webhooks
      where user_id = ${userId}
        ${after === undefined ? this.sql`` : this.sql`and job_id > ${after}`}
      order by job_id limit ${options.limit + 1}`;
    return page(
      rows,
      options.limit,
      (r) => r.webhook as WebhookRecord,
      (r) => [r.job_id as string],
    );
  }

  /** Changes under the row's lock: concurrent changes apply one after another. */
  async update(
    userId: string,
    jobId: string,
    change: (webhook: WebhookRecord) => WebhookRecord,
  ): Promise<WebhookRecord> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx`select webhook from public.hibiki_webhooks
        where user_id = ${userId} and job_id = ${jobId} for update`;
      if (!row) throw new NotFoundError(`Job "${jobId}" has no webhook`);
      const current = row.webhook as WebhookRecord;
      const next = change(current);
      // Re-enabled: the failing streak that disabled it is over.
      const clear = next.enabled && !current.enabled;
      await tx`update public.hibiki_webhooks set webhook = ${asJson(tx, next)},
          failing_since = case when ${clear} then null else failing_since end,
          version = nextval('public.hibiki_version')
        where user_id = ${userId} and job_id = ${jobId}`;
      return next;
    });
  }

  async delete(userId: string, jobId: string): Promise<void> {
    const deleted = await this.sql`delete from public.hibiki_webhooks
      where user_id = ${userId} and job_id = ${jobId}`;
    if (deleted.count === 0) throw new NotFoundError(`Job "${jobId}" has no webhook`);
  }

  async queueDelivery(delivery: Delivery): Promise<void> {
    await this.sql.begin((tx) => addDelivery(tx, delivery));
  }

  heldLease(delivery: Delivery, leaseUntil: number): LeaseRef {
    return heldDeliveryLease(delivery, leaseUntil);
  }

  async getDelivery(
    deliveryId: string,
    where?: StoredDeliveryRef,
  ): Promise<VersionedDelivery | null> {
    const [row] = await this.sql`select delivery, version from public.hibiki_deliveries
      where id = ${deliveryId} ${where ? this.at(where) : this.sql``}`;
    return row ? versioned(row) : null;
  }

  async attemptFacts(
    deliveryId: string,
    where: StoredDeliveryRef,
    options: { withDelivery: boolean },
  ): Promise<AttemptFacts> {
    const { userId, jobId } = where;
    const [row] = await this.sql`select w.webhook, w.failing_since, d.delivery, d.version
      from (select 1) one
      left join public.hibiki_webhooks w on w.user_id = ${userId} and w.job_id = ${jobId}
      left join public.hibiki_deliveries d on ${options.withDelivery} and d.id = ${deliveryId}
        and d.user_id = ${userId} and d.job_id = ${jobId} and d.created_at = ${where.createdAt}`;
    return {
      webhook: (row.webhook as WebhookRecord | null) ?? null,
      failingSince: (row.failing_since as number | null) ?? null,
      delivery: row.delivery ? versioned(row) : null,
    };
  }

  async listDeliveries(
    userId: string,
    jobId: string,
    options: ListOptions,
  ): Promise<Page<Delivery>> {
    const after = decodeCursor(options.cursor, 2) as [number, string] | null;
    const rows = await this.sql`select id, created_at, delivery from public.hibiki_deliveries
      where user_id = ${userId} and job_id = ${jobId}
        ${after ? this.sql`and (created_at, id) < (${after[0]}, ${after[1]})` : this.sql``}
      order by created_at desc, id desc limit ${options.limit + 1}`;
    return page(
      rows,
      options.limit,
      (r) => r.delivery as Delivery,
      (r) => [r.created_at as number, r.id as string],
    );
  }

  async deleteDelivery(current: VersionedDelivery): Promise<void> {
    const { delivery } = current;
    const deleted = await this.sql.begin(async (tx) => {
      if (current.version === null) {
        // Read while it lived in its lease: still as read only while it has no record.
        const [row] = await tx`select 1 from public.hibiki_deliveries where id = ${delivery.id}`;
        if (row) return false;
      } else {
        const gone = await tx`delete from public.hibiki_deliveries
          where id = ${delivery.id} and version = ${Number(current.version)}`;
        if (gone.count === 0) return false;
      }
      if (delivery.nextAttemptAt !== null) {
        await withdrawAttempt(tx, delivery.id, delivery.nextAttemptAt);
      }
      return true;
    });
    if (!deleted) {
      throw new ConflictError("Cannot delete delivery: it changed meanwhile, try again");
    }
  }

  /**
   * Writes a delivery's new state if nobody else changed it since it was read; releases the
   * attempt's lease and moves its queued attempt, all in one transaction. The compare-and-set
   * comes first: when it fails nothing else is written.
   */
  async saveDelivery(
    current: VersionedDelivery,
    next: Delivery,
    options: SaveDeliveryOptions = {},
  ): Promise<boolean> {
    const stored = trimDelivery(next);
    const ref = deliveryRef(next);
    return await this.sql.begin(async (tx) => {
      // One statement: the compare-and-set, and the new version it wrote.
      const [written] = current.version === null
        ? await tx`insert into public.hibiki_deliveries
              (id, user_id, job_id, created_at, delivery, version)
            values (${next.id}, ${next.userId}, ${next.jobId}, ${ref.createdAt},
              ${asJson(tx, stored)}, nextval('public.hibiki_version'))
            on conflict do nothing
            returning version`
        : await tx`update public.hibiki_deliveries
            set delivery = ${asJson(tx, stored)}, version = nextval('public.hibiki_version')
            where id = ${next.id} and version = ${Number(current.version)}
            returning version`;
      if (!written) return false;
      const version = written.version as number;
      const previous = current.delivery.nextAttemptAt;
      // The attempt holding the lease took the queued attempt with it: none to withdraw.
      if (previous !== null && previous !== next.nextAttemptAt && !options.attempted) {
        await withdrawAttempt(tx, next.id, previous);
      }
      if (next.nextAttemptAt !== null && next.nextAttemptAt !== previous) {
        await queueAttempt(tx, next.id, next.nextAttemptAt, ref, version);
      }
      if (options.lease) await releaseLease(tx, options.lease);
      if (options.failing === "clear") {
        await tx`update public.hibiki_webhooks set failing_since = null
          where user_id = ${next.userId} and job_id = ${next.jobId}
            and failing_since is not null`;
      } else if (options.failing) {
        // The earliest start of the streak stands.
        const since = options.failing.since;
        await tx`update public.hibiki_webhooks
          set failing_since = least(coalesce(failing_since, ${since}), ${since})
          where user_id = ${next.userId} and job_id = ${next.jobId}
            and (failing_since is null or failing_since > ${since})`;
      }
      return true;
    });
  }

  /** The condition that a delivery row is where `where` says (its owner, job and time). */
  private at(where: StoredDeliveryRef) {
    return this.sql`and user_id = ${where.userId} and job_id = ${where.jobId}
      and created_at = ${where.createdAt}`;
  }
}

function versioned(row: Row): VersionedDelivery {
  return { delivery: row.delivery as Delivery, version: String(row.version) };
}
