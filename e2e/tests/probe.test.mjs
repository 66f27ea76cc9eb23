// Probe routes of the example Worker: HTTP on 127.0.0.1 against real workerd, with D1/KV
// state checked directly through Miniflare's bindings.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startWorker } from "../harness.mjs";

let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.stop();
});

test("GET /health", async () => {
  assert.match(w.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const res = await w.json("/health");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { ok: true });
});

test("unknown route is 404", async () => {
  const res = await w.fetch("/nope");
  await res.arrayBuffer();
  assert.equal(res.status, 404);
});

describe("D1", () => {
  test("migrations were applied by wrangler into the state the Worker serves", async () => {
    const { results } = await w.db.prepare("SELECT name FROM d1_migrations ORDER BY id").all();
    assert.deepEqual(results.map((r) => r.name), ["0001_init.sql"]);
    const cols = await w.db.prepare("SELECT name, type FROM pragma_table_info('probe')").all();
    assert.deepEqual(cols.results, [
      { name: "id", type: "INTEGER" },
      { name: "v", type: "TEXT" },
    ]);
  });

  test("GET /_probe/d1 runs SELECT 1", async () => {
    const res = await w.json("/_probe/d1");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { one: 1 });
  });

  test("round trip: Worker writes, D1 holds it, Worker reads it back", async () => {
    const put = await w.json("/_probe/d1/42", { method: "PUT", body: "héllo 'quoted' ✓" });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { id: 42, v: "héllo 'quoted' ✓" });

    const direct = await w.db.prepare("SELECT id, v FROM probe WHERE id = ?").bind(42).first();
    assert.deepEqual(direct, put.body);

    const update = await w.json("/_probe/d1/42", { method: "PUT", body: "second" });
    assert.deepEqual(update.body, { id: 42, v: "second" });
    const { results } = await w.db.prepare("SELECT id, v FROM probe ORDER BY id").all();
    assert.deepEqual(results, [{ id: 42, v: "second" }]);

    const get = await w.json("/_probe/d1/42");
    assert.equal(get.status, 200);
    assert.deepEqual(get.body, { id: 42, v: "second" });
  });

  test("row seeded directly in D1 is served by the Worker; missing row is 404", async () => {
    await w.db.prepare("INSERT INTO probe (id, v) VALUES (?, ?)").bind(7, "seeded").run();
    assert.deepEqual((await w.json("/_probe/d1/7")).body, { id: 7, v: "seeded" });
    assert.equal((await w.json("/_probe/d1/9999")).status, 404);
    assert.equal((await w.json("/_probe/d1/not-a-number")).status, 400);
  });

  test("largest safe integer id survives the JS-number round trip", async () => {
    const id = Number.MAX_SAFE_INTEGER;
    const put = await w.json(`/_probe/d1/${id}`, { method: "PUT", body: "edge" });
    assert.deepEqual(put.body, { id, v: "edge" });
    assert.equal((await w.json(`/_probe/d1/${BigInt(id) + 1n}`)).status, 400);
  });
});

describe("KV", () => {
  test("GET /_probe/kv puts then gets", async () => {
    const res = await w.json("/_probe/kv");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { key: "_probe:kv", value: "pong" });
    assert.equal(await w.kv.get("_probe:kv"), "pong");
  });

  test("Worker put is visible through the KV binding, and the other way round", async () => {
    const put = await w.fetch("/_probe/kv/greeting", { method: "PUT", body: "hello kv" });
    await put.arrayBuffer();
    assert.equal(put.status, 204);
    assert.equal(await w.kv.get("greeting"), "hello kv");
    assert.deepEqual((await w.json("/_probe/kv/greeting")).body, { key: "greeting", value: "hello kv" });

    await w.kv.put("seeded", "from the test");
    assert.deepEqual((await w.json("/_probe/kv/seeded")).body, { key: "seeded", value: "from the test" });
    assert.equal((await w.json("/_probe/kv/absent")).status, 404);
  });
});
