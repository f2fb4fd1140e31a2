/**
 * The inbound hook forms: create (a secret Hibiki makes is shown once), edit (the secret is
 * kept unless a new one is typed or asked for), delete with confirmation, and the API's
 * errors beside the part of the form they name.
 */
import assert from "node:assert/strict";
import type { HookView } from "../lib/inbound/types.ts";
import { AdminTestSystem, expectRedirect } from "./admin_client.ts";

const XSS = `<img src=x onerror=alert(1)>"'&`;

async function signedIn() {
  const s = await AdminTestSystem.start({ HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" });
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  return { s, client };
}

const FIELDS = {
  name: "github",
  mode: "header_secret",
  header: "Secret",
  prefix: "",
  encoding: "hex",
  toleranceSeconds: "",
  secret: "",
  actionType: "store",
  relayUrl: "",
  relayHeaders: "",
  jobId: "",
  enabled: "1",
};

function errorText(html: string, id: string): string | null {
  return new RegExp(`id="${id}"[^>]*>([^<]+)<`).exec(html)?.[1] ?? null;
}

async function receive(s: AdminTestSystem, path: string, headers: Record<string, string>) {
  const response = await s.system.app.request(`http://hibiki.test${path}`, {
    method: "POST",
    body: JSON.stringify({ hello: "world" }),
    headers: { "content-type": "application/json", ...headers },
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("creating a hook shows its new secrets once; they verify requests", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const list = await client.get("/admin/hooks");
  assert.match(list.html, /<a class="button primary" href="\/admin\/hooks\/new">New hook<\/a>/);
  const form = await client.get("/admin/hooks/new");
  assert.equal(form.status, 200);
  assert.match(form.html, /<select id="hook-mode" name="mode">/);
  assert.doesNotMatch(form.html, /\son[a-z]+=/i);

  const created = await client.post("/admin/hooks/new", {
    ...FIELDS,
    name: XSS,
    actionType: "relay",
    relayUrl: "http://127.0.0.1:9/relay",
    relayHeaders: "X-Team: ops",
    challenge: "1",
  });
  assert.equal(created.status, 200);
  assert.doesNotMatch(created.html, /<img src=x/);
  const secret = /data-testid="new-verification-secret">([^<]+)</.exec(created.html)?.[1];
  const relay = /data-testid="new-relay-secret">([^<]+)</.exec(created.html)?.[1];
  assert.ok(secret && secret.length >= 40, "the generated secret is shown");
  assert.match(relay ?? "", /^whsec_/);
  const path = /data-testid="hook-url">http:\/\/hibiki\.test(\/hooks\/hook_[0-9a-f]{32})</
    .exec(created.html)?.[1];
  assert.ok(path);
  const hook = (await client.api<HookView[]>("GET", "/api/hooks?limit=10"))[0];
  assert.equal(hook.name, XSS);
  assert.equal(hook.challenge, true);
  assert.deepEqual(hook.action, {
    type: "relay",
    url: "http://127.0.0.1:9/relay",
    headers: { "X-Team": "ops" },
    timeoutMs: 10_000,
    secret: hook.action.secret,
  });
  assert.equal(await receive(s, path, { Secret: "wrong-secret" }), 401);
  assert.equal(await receive(s, path, { Secret: secret! }), 200);

  // Shown once: the hook's page has only the masked secret.
  const page = await client.get(`/admin/hooks/${hook.id}`);
  assert.ok(!page.html.includes(secret!));
  assert.ok(!page.html.includes(relay!));
  assert.match(page.html, /data-testid="masked-secret"/);
});

Deno.test("editing a hook keeps its secret unless a new one is asked for", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const job = await client.createJob({
    name: "Rebuild",
    url: "https://example.com/",
    schedule: "0 9 * * *",
  });
  const hook = await client.api<HookView>("POST", "/api/hooks", {
    name: "deploys",
    verification: { mode: "header_secret", header: "Secret", secret: "s3cret-value" },
    action: { type: "store" },
  });
  const edit = await client.get(`/admin/hooks/${hook.id}/edit`);
  assert.equal(edit.status, 200);
  assert.match(edit.html, /<input id="hook-name" name="name" type="text" value="deploys"/);
  assert.ok(!edit.html.includes("s3cret-value"), "the secret is never shown back");
  assert.match(edit.html, new RegExp(`<option value="${job.id}">Rebuild</option>`));

  const saved = await client.post(`/admin/hooks/${hook.id}/edit`, {
    ...FIELDS,
    name: "deploys (renamed)",
    actionType: "run",
    jobId: job.id,
  });
  assert.equal(saved.status, 200);
  assert.match(saved.html, /Hook saved\./);
  assert.doesNotMatch(saved.html, /new-verification-secret/);
  const after = await client.api<HookView>("GET", `/api/hooks/${hook.id}`);
  assert.equal(after.name, "deploys (renamed)");
  assert.deepEqual(after.action, { type: "run", jobId: job.id });
  assert.equal(await receive(s, `/hooks/${hook.id}`, { Secret: "s3cret-value" }), 200);

  // Changing the header needs the secret again, or a new one: said beside Verification.
  const refused = await client.post(`/admin/hooks/${hook.id}/edit`, {
    ...FIELDS,
    header: "X-Token",
  });
  assert.equal(refused.status, 400);
  assert.match(refused.html, /<fieldset id="hook-verification" class="field-error"/);
  assert.match(errorText(refused.html, "hook-verification-error") ?? "", /Make a new secret/);
  const renewed = await client.post(`/admin/hooks/${hook.id}/edit`, {
    ...FIELDS,
    header: "X-Token",
    newSecret: "1",
  });
  const secret = /data-testid="new-verification-secret">([^<]+)</.exec(renewed.html)?.[1];
  assert.ok(secret);
  assert.equal(await receive(s, `/hooks/${hook.id}`, { "X-Token": "s3cret-value" }), 401);
  assert.equal(await receive(s, `/hooks/${hook.id}`, { "X-Token": secret }), 200);
});

Deno.test("a conflicting delivery shows as a conflict beside the event it conflicts with", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const hook = await client.api<HookView>("POST", "/api/hooks", {
    name: "deploys",
    verification: { mode: "none" },
  });
  const send = async (body: string) => {
    const response = await s.system.app.request(`http://hibiki.test/hooks/${hook.id}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-webhook-id": "msg-7" },
    });
    return (await response.json()).data.eventId as string;
  };
  const firstId = await send('{"v":1}');
  const conflictId = await send('{"v":2}');
  const page = await client.get(`/admin/hooks/${hook.id}`);
  assert.match(page.html, /<span class="badge badge-conflict">conflict<\/span>/);
  const detail = await client.get(`/admin/hooks/${hook.id}/events/${conflictId}`);
  assert.equal(detail.status, 200);
  assert.match(detail.html, /Conflicts with/);
  assert.ok(detail.html.includes(`href="/admin/hooks/${hook.id}/events/${firstId}"`));
});

Deno.test("a rejected hook form shows the API's message beside the part it names", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  await client.get("/admin/hooks/new");
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ name: " " }, "hook-name-error", /name must not be empty/],
    [{ mode: "stripe" }, "hook-verification-error", /copy the signing secret from Stripe/],
    [{ mode: "stripe", secret: "short" }, "hook-verification-error", /at least 8 characters/],
    [{ mode: "hmac_sha256", prefix: "a b" }, "hook-verification-error", /printable ASCII/],
    [{ actionType: "relay", relayUrl: "ftp://example.com/" }, "hook-action-error", /http/],
    [{ actionType: "run" }, "hook-action-error", /choose a job/],
    [{ actionType: "run", jobId: "no-such-job" }, "hook-action-error", /not found/],
  ];
  for (const [change, id, message] of cases) {
    const page = await client.post("/admin/hooks/new", { ...FIELDS, ...change });
    assert.equal(page.status, 400, JSON.stringify(change));
    assert.match(errorText(page.html, id) ?? "", message, JSON.stringify(change));
    // The typed secret is not sent back.
    assert.doesNotMatch(page.html, /value="short"/);
  }
  assert.equal((await client.api<HookView[]>("GET", "/api/hooks?limit=10")).length, 0);
});

Deno.test("deleting a hook needs the confirmation box and the CSRF token", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const hook = await client.api<HookView>("POST", "/api/hooks", {
    name: "old",
    verification: { mode: "none" },
  });
  const page = await client.get(`/admin/hooks/${hook.id}`);
  assert.match(
    page.html,
    new RegExp(`action="/admin/hooks/${hook.id}/delete" class="danger-zone"`),
  );
  assert.equal((await client.post(`/admin/hooks/${hook.id}/delete`, {})).status, 400);
  assert.equal(
    (await client.post(`/admin/hooks/${hook.id}/delete`, { confirm: "1", _csrf: "x" })).status,
    403,
  );
  expectRedirect(
    await client.post(`/admin/hooks/${hook.id}/delete`, { confirm: "1" }),
    "/admin/hooks",
  );
  assert.equal((await client.get(`/admin/hooks/${hook.id}`)).status, 404);
});
