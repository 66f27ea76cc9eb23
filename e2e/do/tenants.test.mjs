// Tenants routed across three D1 databases and two Durable Objects (examples/do-worker,
// sonic-db-shard): every tenant reads its own rows, a cache entry of one shard is never served
// for another, and a list across shards is one merged page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../harness.mjs";

const SHARDS = ["DB1", "DB2", "DB3", "object-1", "object-2"];
let w;
let tenants; // shard name → a tenant placed there

before(async () => {
  w = await startWorker({ vars: { SONIC_TEST_ROUTES: "1" } });
  const setup = await w.json("/tenants/_setup", { method: "POST" });
  assert.equal(setup.status, 200, JSON.stringify(setup.body));
  assert.deepEqual(setup.body.shards, SHARDS);
  tenants = {};
  for (let i = 0; Object.keys(tenants).length < SHARDS.length && i < 1000; i++) {
    const res = await w.json(`/tenants/tenant-${i}/shard`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    tenants[res.body.shard] ??= `tenant-${i}`;
  }
  assert.deepEqual(Object.keys(tenants).sort(), [...SHARDS].sort(), "a tenant on every shard");
});
after(async () => {
  await w?.stop();
});

test("each tenant reads its own note of a shared id, first from its database, then its cache", async () => {
  for (const [shard, tenant] of Object.entries(tenants)) {
    const res = await w.json(`/tenants/${tenant}/notes`, {
      method: "POST",
      body: JSON.stringify({ id: "same-id", text: `written on ${shard}` }),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  for (const [shard, tenant] of Object.entries(tenants)) {
    for (const source of ["d1", "kv"]) {
      // A cache fill may be deferred: the second read is KV's once the fill landed.
      let res;
      for (let attempt = 0; attempt < 20; attempt++) {
        res = await w.json(`/tenants/${tenant}/notes/same-id`);
        if (res.body.source === source || source === "d1") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, {
        data: { id: "same-id", tenant, text: `written on ${shard}` },
        source,
      });
    }
  }
  // Cache keys live under each shard's prefix of the one namespace.
  const { keys } = await w.kv.list({});
  const prefixes = new Set(keys.map((k) => k.name.split("/")[0]));
  for (const p of prefixes) assert.ok(SHARDS.includes(p), `a cache key outside the shards: ${p}`);
  assert.ok(prefixes.size >= SHARDS.length, [...prefixes].join(", "));
});

test("a delete on one shard leaves every other tenant's note and cache entry", async () => {
  const [first, ...others] = Object.values(tenants);
  const gone = await w.fetch(`/tenants/${first}/notes/same-id`, { method: "DELETE" });
  assert.equal(gone.status, 204);
  assert.equal((await w.json(`/tenants/${first}/notes/same-id`)).status, 404);
  for (const tenant of others) {
    const res = await w.json(`/tenants/${tenant}/notes/same-id`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.tenant, tenant);
    assert.equal(res.body.source, "kv", "its cache entry survived the other shard's delete");
  }
});

test("a list across every shard is one merged page with the exact total", async () => {
  for (const [i, tenant] of Object.values(tenants).entries()) {
    const res = await w.json(`/tenants/${tenant}/notes`, {
      method: "POST",
      body: JSON.stringify({ id: `n${i}`, text: "more" }),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const page = await w.json("/tenants/_all?offset=1&limit=3");
  assert.equal(page.status, 200, JSON.stringify(page.body));
  // 4 "same-id" notes left + 5 "n…" notes; sorted by id then tenant.
  assert.equal(page.body.total, 9);
  assert.deepEqual(
    page.body.data.map((n) => n.id),
    ["n1", "n2", "n3"],
  );
});
