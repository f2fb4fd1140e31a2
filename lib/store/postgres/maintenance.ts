/**
 * Maintenance windows in Postgres: a row per window with the instant it stops covering
 * (`covers_until`, indexed, so the chore reads only windows that can still end), and the cuts,
 * deleted once older than CUT_RETENTION_MS as new ones are written.
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { MaintenanceEnd, MaintenanceWindow } from "../../alerts/types.ts";
import {
  coverageUntil,
  CUT_RETENTION_MS,
  type MaintenanceChange,
  type MaintenanceStore,
} from "../maintenance.ts";
import type { ListOptions } from "../store.ts";
import type { Page } from "../types.ts";
import type { Sql } from "./connect.ts";
import { asJson, page, type Tx } from "./util.ts";
import { decodeCursor } from "../cursor.ts";

export class PgMaintenanceStore implements MaintenanceStore {
  constructor(private readonly sql: Sql) {}

  async create(window: MaintenanceWindow): Promise<void> {
    const inserted = await this.sql`insert into public.hibiki_maintenance
        (user_id, id, "window", covers_until)
      values (${window.userId}, ${window.id}, ${asJson(this.sql, window)},
        ${coverageUntil(window)})
      on conflict do nothing`;
    if (inserted.count === 0) {
      throw new ConflictError(`Cannot create maintenance window: "${window.id}" exists`);
    }
  }

  async get(userId: string, id: string): Promise<MaintenanceWindow | null> {
    const [row] = await this.sql`select "window" from public.hibiki_maintenance
      where user_id = ${userId} and id = ${id}`;
    return (row?.window as MaintenanceWindow | undefined) ?? null;
  }

  async list(userId: string, options: ListOptions): Promise<Page<MaintenanceWindow>> {
    const after = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select id, "window" from public.hibiki_maintenance
      where user_id = ${userId} ${after === undefined ? this.sql`` : this.sql`and id > ${after}`}
      order by id limit ${options.limit + 1}`;
    return page(rows, options.limit, (r) => r.window as MaintenanceWindow, (r) => [r.id as string]);
  }

  async update(
    userId: string,
    id: string,
    change: (current: MaintenanceWindow) => MaintenanceChange,
  ): Promise<MaintenanceWindow> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx`select "window" from public.hibiki_maintenance
        where user_id = ${userId} and id = ${id} for update`;
      if (!row) throw new NotFoundError(`Maintenance window "${id}" not found`);
      const { window, cut } = change(row.window as MaintenanceWindow);
      await tx`update public.hibiki_maintenance set "window" = ${asJson(tx, window)},
          covers_until = ${coverageUntil(window)}
        where user_id = ${userId} and id = ${id}`;
      if (cut) await addCut(tx, cut);
      return window;
    });
  }

  async delete(
    userId: string,
    id: string,
    cut: (current: MaintenanceWindow) => MaintenanceEnd | null,
  ): Promise<MaintenanceWindow> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx`delete from public.hibiki_maintenance
        where user_id = ${userId} and id = ${id} returning "window"`;
      if (!row) throw new NotFoundError(`Maintenance window "${id}" not found`);
      const taken = cut(row.window as MaintenanceWindow);
      if (taken) await addCut(tx, taken);
      return row.window as MaintenanceWindow;
    });
  }

  async liveSince(from: number): Promise<MaintenanceWindow[]> {
    const rows = await this.sql`select "window" from public.hibiki_maintenance
      where covers_until >= ${from} order by covers_until, user_id, id`;
    return rows.map((r) => r.window as MaintenanceWindow);
  }

  async cutsBetween(from: number, to: number): Promise<MaintenanceEnd[]> {
    const rows = await this.sql`select cut from public.hibiki_maintenance_cuts
      where at >= ${from} and at < ${to} order by at, user_id, window_id, nonce`;
    return rows.map((r) => r.cut as MaintenanceEnd);
  }
}

async function addCut(tx: Tx, cut: MaintenanceEnd): Promise<void> {
  await tx`delete from public.hibiki_maintenance_cuts where at < ${cut.at - CUT_RETENTION_MS}`;
  await tx`insert into public.hibiki_maintenance_cuts (at, user_id, window_id, nonce, cut)
    values (${cut.at}, ${cut.userId}, ${cut.windowId}, ${crypto.randomUUID()},
      ${asJson(tx, cut)})`;
}
