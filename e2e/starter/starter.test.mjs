// The starter Worker (examples/starter-worker), the README's tutorial: run by
// scripts/starter-worker.sh, which builds it and starts node run.mjs with
// SONIC_E2E_WORKER_DIR=examples/starter-worker SONIC_E2E_TESTS_DIR=starter. Every request is real
// HTTP to workerd (Miniflare) on 127.0.0.1, against D1 migrated by `wrangler d1 migrations apply
// --local` and a local KV namespace.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../harness.mjs";

let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.stop();
});

const post = (body) => w.json("/users", { method: "POST", body: JSON.stringify(body) });
const ada = { id: "u1", name: "Ada", email: "ada@example.com", password: "hash", role: "admin" };

test("POST /users inserts into D1 and writes nothing to KV; the password is never sent back", async () => {
  const t0 = Date.now();
  const res = await post(ada);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const { data } = res.body;
  assert.deepEqual({ ...data, created_on: 0, updated_on: 0 }, {
    id: "u1", name: "Ada", email: "ada@example.com", role: "admin", created_on: 0, updated_on: 0,
  });
  assert.ok(data.created_on >= t0 && data.created_on <= Date.now() + 1, "created_on in Unix ms");
  const row = await w.db.prepare("SELECT * FROM users WHERE id = ?").bind("u1").first();
  assert.equal(row.password, "hash", "D1 holds the password");
  assert.equal(await w.kv.get("sonic:users:u1"), null, "an insert writes nothing to KV");
});

test("GET /users/:id: from D1 when KV has no copy, then from KV", async () => {
  await w.kv.delete("sonic:users:u1"); // as if it had expired
  const first = await w.json("/users/u1");
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.source, "d1");
  const second = await w.json("/users/u1");
  assert.equal(second.status, 200);
  assert.equal(second.body.source, "kv");
  assert.deepEqual(second.body.data, first.body.data);
  assert.equal(first.body.data.email, ada.email);
  assert.equal("password" in first.body.data, false);
});

test("an id is percent-decoded", async () => {
  const res = await post({ id: "u 2", email: "grace@example.com", password: "h" });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.data.role, "user", "the default role");
  const got = await w.json("/users/u%202");
  assert.equal(got.status, 200);
  assert.equal(got.body.data.id, "u 2");
});

test("an unknown id is 404; a taken email is 409; a malformed body is 400", async () => {
  const missing = await w.json("/users/nobody");
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { error: "no such user" });
  const taken = await post({ ...ada, id: "u3" });
  assert.equal(taken.status, 409, JSON.stringify(taken.body));
  const bad = await post({ id: "u4" });
  assert.equal(bad.status, 400);
});

test("GET /users lists the latest first, with the total", async () => {
  const res = await w.json("/users");
  assert.equal(res.status, 200);
  assert.equal(res.body.total, 2);
  assert.deepEqual(res.body.items.map((u) => u.id), ["u 2", "u1"]);
});
