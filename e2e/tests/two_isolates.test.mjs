// Two instances of the example Worker (two isolates, as in one location) over the same D1
// database and KV namespace: whatever instance wrote, no read through either returns a value
// older than the last write acknowledged before the read began (sonic-core/docs/coherence.md).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { asAdmin, filled, startWorker } from "../harness.mjs";

let w;
let a;
let b;
const body = (payload) => asAdmin({ method: "PUT", body: JSON.stringify(payload) });
const dbName = async (id) => (await w.db.prepare("SELECT name FROM users WHERE id = ?").bind(id).first())?.name;

before(async () => {
  w = await startWorker({ second: true });
  a = w;
  b = w.second;
  const res = await a.json("/v1/users", asAdmin({
    method: "POST",
    body: JSON.stringify({ id: "shared", name: "v0", email: "shared@example.com", password: "p", role: "user" }),
  }));
  assert.equal(res.status, 201, JSON.stringify(res.body));
});
after(async () => {
  await w?.stop();
});

test("a write through one instance is never hidden by the other's cached copy", async () => {
  for (const reader of [a, b]) {
    await reader.json("/v1/users/shared");
    await filled(w.kv, "users", "shared"); // the fill runs on wait_until, after the response
    assert.equal((await reader.json("/v1/users/shared")).body.source, "kv", "both have it cached");
  }
  for (let i = 1; i <= 10; i++) {
    const [writer, reader] = i % 2 ? [a, b] : [b, a];
    const res = await writer.json("/v1/users/shared", body({ name: `v${i}` }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const r of [reader, writer, reader]) {
      const read = await r.json("/v1/users/shared");
      assert.equal(read.body.data.name, `v${i}`, `after write ${i}: ${JSON.stringify(read.body)}`);
    }
  }
});

test("concurrent writes through both instances: every later read sees the one D1 kept", async () => {
  for (let i = 0; i < 10; i++) {
    // Each instance reads (and fills) while the other writes.
    const results = await Promise.all([
      a.json("/v1/users/shared", body({ name: `a${i}` })),
      b.json("/v1/users/shared"),
      b.json("/v1/users/shared", body({ name: `b${i}` })),
      a.json("/v1/users/shared"),
    ]);
    assert.equal(results[0].status, 200);
    assert.equal(results[2].status, 200);
    const kept = await dbName("shared");
    assert.ok([`a${i}`, `b${i}`].includes(kept), kept);
    for (const r of [a, b, a, b]) {
      const read = await r.json("/v1/users/shared");
      assert.equal(read.body.data.name, kept, `round ${i}: ${JSON.stringify(read.body)}`);
    }
  }
});

test("a delete through one instance: the other serves 404, not its cached copy", async () => {
  await b.json("/v1/users/shared");
  await filled(w.kv, "users", "shared");
  assert.equal((await b.json("/v1/users/shared")).body.source, "kv");
  assert.equal((await a.fetch("/v1/users/shared", asAdmin({ method: "DELETE" }))).status, 204);
  assert.equal((await b.json("/v1/users/shared")).status, 404);
  assert.equal((await a.json("/v1/users/shared")).status, 404);
});
