// sonic-db-kv's WorkersKv end to end: the Worker's /_backend/kv/* routes
// (examples/worker/src/backend_routes.rs) call the KvBackend operations; KV is seeded and
// inspected directly through the harness's `w.kv` (the same namespace, read and written by a
// second Worker in the same Miniflare instance: see harness.mjs).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startWorker } from "../harness.mjs";

let w;
const kv = (op, body) => w.json(`/_backend/kv/${op}`, { method: "POST", body: JSON.stringify(body) });
const allBytes = Array.from({ length: 256 }, (_, i) => i);
const nowSecs = () => Math.floor(Date.now() / 1000);

function ok(res) {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

function refused(res) {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.kind, "kv", JSON.stringify(res.body));
  return res.body.error.message;
}

before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.stop();
});

describe("put, get, delete", () => {
  test("bytes round-trip exactly, also bytes that are not UTF-8", async () => {
    ok(await kv("put", { key: "bytes", bytes: allBytes }));
    const got = ok(await kv("get", { key: "bytes" }));
    assert.deepEqual(got.bytes, allBytes);
    assert.equal(got.text, null);
    const direct = await w.kv.get("bytes", "arrayBuffer");
    assert.deepEqual([...new Uint8Array(direct)], allBytes);

    ok(await kv("put", { key: "empty", bytes: [] }));
    assert.deepEqual(ok(await kv("get", { key: "empty" })).bytes, []);
  });

  test("a value written by someone else is read; an absent key is null", async () => {
    await w.kv.put("seeded", "héllo ✓");
    assert.deepEqual(ok(await kv("get", { key: "seeded" })), {
      bytes: [...Buffer.from("héllo ✓")],
      text: "héllo ✓",
    });
    assert.deepEqual(ok(await kv("get", { key: "absent" })), { bytes: null, text: null });
  });

  test("TTL and metadata reach KV", async () => {
    const t0 = nowSecs();
    ok(await kv("put", { key: "meta:1", text: "v", ttl: 120, metadata: { table: "users", v: 3 } }));
    const direct = await w.kv.getWithMetadata("meta:1");
    assert.deepEqual(direct, { value: "v", metadata: { table: "users", v: 3 }, cacheStatus: null });
    const page = ok(await kv("list", { prefix: "meta:" }));
    assert.equal(page.keys.length, 1);
    assert.deepEqual(page.keys[0].metadata, { table: "users", v: 3 });
    const exp = page.keys[0].expiration;
    assert.ok(exp >= t0 + 119 && exp <= nowSecs() + 121, `expiration ${exp}, now ${nowSecs()}`);
  });

  test("absolute expiration: 60 s ahead or more", async () => {
    ok(await kv("put", { key: "abs:ok", text: "v", expiration: nowSecs() + 120 }));
    assert.equal(await w.kv.get("abs:ok"), "v");
    assert.match(refused(await kv("put", { key: "abs:soon", text: "v", expiration: nowSecs() + 10 })), /in the future/);
    assert.equal(await w.kv.get("abs:soon"), null);
  });

  test("delete removes; deleting an absent key succeeds", async () => {
    await w.kv.put("doomed", "x");
    ok(await kv("delete", { key: "doomed" }));
    assert.equal(await w.kv.get("doomed"), null);
    assert.deepEqual(ok(await kv("get", { key: "doomed" })).bytes, null);
    ok(await kv("delete", { key: "never-existed" }));
  });
});

describe("platform rules are checked before KV is called", () => {
  test("TTL under 60 s is refused (and KV itself would refuse it too)", async () => {
    const message = refused(await kv("put", { key: "short-ttl", text: "v", ttl: 59 }));
    assert.match(message, /expiration TTL of 59 s is below the minimum of 60 s/);
    assert.equal(await w.kv.get("short-ttl"), null);
    await assert.rejects(w.kv.put("short-ttl", "v", { expirationTtl: 30 }), /Invalid expiration_ttl of 30/);
    ok(await kv("put", { key: "ttl-60", text: "v", ttl: 60 }));
  });

  test("keys over 512 bytes are refused by Sonic, not by KV", async () => {
    for (const key of ["k".repeat(513), "€".repeat(171) /* 171 chars, 513 bytes */]) {
      for (const [op, body] of [
        ["put", { key, text: "v" }],
        ["get", { key }],
        ["delete", { key }],
        ["get_bulk", { keys: ["fine", key] }],
      ]) {
        const message = refused(await kv(op, body));
        assert.match(message, /key of 513 bytes is longer than 512 bytes/, `${op}: ${message}`);
        // KV's own refusal reads "KV PUT failed: 414 …": this one never reached it.
        assert.doesNotMatch(message, /KV (PUT|GET) failed/);
      }
    }
    const max = "k".repeat(512);
    ok(await kv("put", { key: max, text: "v" }));
    assert.equal(await w.kv.get(max), "v");
  });

  test("empty, '.' and '..' keys; oversized metadata; bad list limits", async () => {
    for (const key of ["", ".", ".."]) refused(await kv("put", { key, text: "v" }));
    const big = { pad: "m".repeat(1100) };
    assert.match(refused(await kv("put", { key: "big-meta", text: "v", metadata: big })), /metadata of \d+ bytes/);
    assert.equal(await w.kv.get("big-meta"), null);
    for (const limit of [0, 1001]) {
      assert.match(refused(await kv("list", { limit })), /list limit/);
    }
  });
});

describe("bulk get", () => {
  before(async () => {
    for (let i = 0; i < 150; i++) await w.kv.put(`bulk:${String(i).padStart(3, "0")}`, `value ${i}`);
  });

  test("values in the order asked, null for absent keys", async () => {
    const body = ok(await kv("get_bulk", { keys: ["bulk:002", "bulk:missing", "bulk:000"] }));
    assert.deepEqual(body.values, [[...Buffer.from("value 2")], null, [...Buffer.from("value 0")]]);
  });

  test("more than 100 keys per call are refused; get_all splits them", async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `bulk:${String(i).padStart(3, "0")}`);
    assert.match(refused(await kv("get_bulk", { keys })), /bulk get of 150 keys: at most 100/);
    const all = ok(await kv("get_all", { keys: [...keys, "bulk:missing"] }));
    assert.equal(all.values.length, 151);
    assert.deepEqual(all.values[149], [...Buffer.from("value 149")]);
    assert.equal(all.values[150], null);
  });

  test("text values through the runtime's bulk get, chunked by 100", async () => {
    const keys = Array.from({ length: 150 }, (_, i) => `bulk:${String(i).padStart(3, "0")}`);
    const body = ok(await kv("get_bulk_text", { keys: ["bulk:missing", ...keys] }));
    assert.equal(body.values.length, 151);
    assert.equal(body.values[0], null);
    assert.equal(body.values[1], "value 0");
    assert.equal(body.values[150], "value 149");
  });
});

describe("list", () => {
  before(async () => {
    for (let i = 0; i < 25; i++) await w.kv.put(`page:${String(i).padStart(2, "0")}`, "x");
    await w.kv.put("pagex", "not in the prefix");
    await w.kv.put("other:1", "x");
  });

  test("pages follow the cursor past the limit", async () => {
    const names = [];
    let cursor;
    const sizes = [];
    for (;;) {
      const page = ok(await kv("list", { prefix: "page:", limit: 10, cursor }));
      sizes.push(page.keys.length);
      names.push(...page.keys.map((k) => k.name));
      if (page.list_complete) {
        assert.equal(page.cursor, null);
        break;
      }
      assert.equal(typeof page.cursor, "string");
      cursor = page.cursor;
      assert.ok(sizes.length < 10, "the cursor must end");
    }
    assert.deepEqual(sizes, [10, 10, 5]);
    assert.deepEqual(names, Array.from({ length: 25 }, (_, i) => `page:${String(i).padStart(2, "0")}`));
  });

  test("list_all and delete_prefix follow the cursor too", async () => {
    const all = ok(await kv("list_all", { prefix: "page:" }));
    assert.equal(all.keys.length, 25);
    assert.deepEqual(ok(await kv("delete_prefix", { prefix: "page:" })), { deleted: 25 });
    const { keys } = await w.kv.list({ prefix: "page" });
    assert.deepEqual(keys.map((k) => k.name), ["pagex"]);
    assert.equal(await w.kv.get("other:1"), "x");
  });
});
