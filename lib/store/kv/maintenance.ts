/**
 * Maintenance windows in Deno KV: each under its owner, a copy in the index by the instant it
 * stops covering (written in the same atomic op, so the index never points at an older
 * version), and expiring cuts.
 */
import type { MaintenanceEnd, MaintenanceWindow } from "../../alerts/types.ts";
import { ConflictError, NotFoundError } from "../../errors.ts";
import {
  coverageUntil,
  CUT_RETENTION_MS,
  type MaintenanceChange,
  type MaintenanceStore,
} from "../maintenance.ts";
import type { ListOptions } from "../store.ts";
import type { Page } from "../types.ts";
import { kvKeys } from "./keys.ts";
import { collect } from "./kv_store.ts";

export class KvMaintenanceStore implements MaintenanceStore {
  constructor(private readonly kv: Deno.Kv) {}

  async create(window: MaintenanceWindow): Promise<void> {
    const key = kvKeys.maintenance(window.userId, window.id);
    const result = await this.kv.atomic()
      .check({ key, versionstamp: null })
      .set(key, window)
      .set(untilKey(window), window)
      .commit();
    if (!result.ok) {
      throw new ConflictError(`Cannot create maintenance window: "${window.id}" exists`);
    }
  }

  async get(userId: string, id: string): Promise<MaintenanceWindow | null> {
    return (await this.kv.get<MaintenanceWindow>(kvKeys.maintenance(userId, id))).value;
  }

  async list(userId: string, options: ListOptions): Promise<Page<MaintenanceWindow>> {
    const iter = this.kv.list<MaintenanceWindow>(
      { prefix: kvKeys.maintenanceOf(userId) },
      { limit: options.limit, cursor: options.cursor },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    return { values, cursor: values.length === options.limit ? iter.cursor || null : null };
  }

  async update(
    userId: string,
    id: string,
    change: (current: MaintenanceWindow) => MaintenanceChange,
  ): Promise<MaintenanceWindow> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.kv.get<MaintenanceWindow>(kvKeys.maintenance(userId, id));
      if (!current.value) throw new NotFoundError(`Maintenance window "${id}" not found`);
      const { window, cut } = change(current.value);
      const op = this.kv.atomic().check(current)
        .delete(untilKey(current.value))
        .set(current.key, window)
        .set(untilKey(window), window);
      if (cut) addCut(op, cut);
      if ((await op.commit()).ok) return window;
    }
    throw new ConflictError("Cannot update maintenance window: too many concurrent changes");
  }

  async delete(
    userId: string,
    id: string,
    cut: (current: MaintenanceWindow) => MaintenanceEnd | null,
  ): Promise<MaintenanceWindow> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.kv.get<MaintenanceWindow>(kvKeys.maintenance(userId, id));
      if (!current.value) throw new NotFoundError(`Maintenance window "${id}" not found`);
      const op = this.kv.atomic().check(current).delete(current.key)
        .delete(untilKey(current.value));
      const taken = cut(current.value);
      if (taken) addCut(op, taken);
      if ((await op.commit()).ok) return current.value;
    }
    throw new ConflictError("Cannot delete maintenance window: too many concurrent changes");
  }

  async liveSince(from: number): Promise<MaintenanceWindow[]> {
    const index = kvKeys.maintenanceByUntil();
    const iter = this.kv.list<MaintenanceWindow>({
      start: [...index, from],
      end: [...index, Infinity],
    });
    return (await collect(iter)).map((entry) => entry.value);
  }

  async cutsBetween(from: number, to: number): Promise<MaintenanceEnd[]> {
    const index = kvKeys.maintenanceCuts();
    const iter = this.kv.list<MaintenanceEnd>({ start: [...index, from], end: [...index, to] });
    return (await collect(iter)).map((entry) => entry.value);
  }
}

function untilKey(window: MaintenanceWindow): Deno.KvKey {
  return kvKeys.maintenanceUntil(coverageUntil(window), window.userId, window.id);
}

function addCut(op: Deno.AtomicOperation, cut: MaintenanceEnd): void {
  const nonce = crypto.randomUUID();
  op.set(kvKeys.maintenanceCut(cut.at, cut.userId, cut.windowId, nonce), cut, {
    expireIn: CUT_RETENTION_MS,
  });
}
