/**
 * Messages on the Deno KV queue. The queue carries wake-ups (a fire's time has come) and
 * background chores; the fires themselves live in the store, so a message that is lost or
 * repeated changes nothing but timing. Every handler is idempotent.
 */
import { z } from "zod";

export const queueMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("wake") }),
  z.object({ type: z.literal("purge") }),
]);

export type QueueMessage = z.infer<typeof queueMessage>;

export interface QueueHandlers {
  wake: () => Promise<void>;
  purge: () => Promise<void>;
}

export async function handleQueueMessage(raw: unknown, handlers: QueueHandlers): Promise<void> {
  const parsed = queueMessage.safeParse(raw);
  if (!parsed.success) {
    // Retrying cannot fix a malformed message: log it and let it go.
    console.error(`Dropping unknown queue message: ${JSON.stringify(raw).slice(0, 200)}`);
    return;
  }
  await handlers[parsed.data.type]();
}
