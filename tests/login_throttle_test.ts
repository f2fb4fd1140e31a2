/**
 * The sign-in throttle under concurrency: a burst of wrong passwords sent at once is slowed
 * down exactly like the same attempts sent one after another.
 */
import assert from "node:assert/strict";
import { AdminTestSystem } from "./admin_client.ts";

async function wrongSignIns(s: AdminTestSystem, count: number, together: boolean) {
  const clients = Array.from({ length: count }, () => s.client());
  // Each client first fetches the sign-in page for its CSRF token.
  for (const client of clients) await client.get("/admin/login");
  const attempt = (client: (typeof clients)[number]) =>
    client.post("/admin/login", { user: "default", password: "wrong password" });
  const pages = [];
  if (together) pages.push(...await Promise.all(clients.map(attempt)));
  else for (const client of clients) pages.push(await attempt(client));
  const counts: Record<number, number> = {};
  for (const page of pages) counts[page.status] = (counts[page.status] ?? 0) + 1;
  return counts;
}

Deno.test("30 wrong sign-ins sent at once get as many 429s as 30 sent one by one", async () => {
  let sequential: Record<number, number>;
  {
    await using s = await AdminTestSystem.start();
    sequential = await quietly(() => wrongSignIns(s, 30, false));
  }
  assert.deepEqual(sequential, { 401: 5, 429: 25 });
  await using s = await AdminTestSystem.start();
  assert.deepEqual(await quietly(() => wrongSignIns(s, 30, true)), sequential);
});

/** Failed and throttled sign-ins are logged as warnings; the test does not need them. */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await work();
  } finally {
    console.warn = warn;
  }
}

Deno.test("successful sign-ins are not counted against the address", async () => {
  await using s = await AdminTestSystem.start();
  for (let i = 0; i < 25; i++) assert.equal((await s.client().signIn()).status, 303);
});

Deno.test("a user name of 3,000 characters is a wrong sign-in, not a server error", async () => {
  await using s = await AdminTestSystem.start();
  const page = await quietly(() => s.client().signIn("u".repeat(3000), "wrong password"));
  assert.equal(page.status, 401);
});
