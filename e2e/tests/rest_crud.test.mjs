// The example Worker's REST API, one record at a time: every call over HTTP on 127.0.0.1,
// with D1 and KV inspected directly through the harness's `w.db` / `w.kv` (the same database and
// namespace, through a second Worker in the same Miniflare instance: see harness.mjs).
//
// Records are cached in KV under `sonic:{table}:{id}` as an envelope whose `row` holds the
// column values in order and whose `tg` / `bg` are the table and bucket generations it was
// filled under (sonic_db_core::cache::envelope): an insert writes nothing to KV, the first
// read fills, and a write puts fresh generations, so the next read is from D1 again.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { asAdmin, currentEntry, filled, startWorker } from "../harness.mjs";

let w;
// Writes are the admin's (the Worker's secret ADMIN_TOKEN); reads are anonymous.
const send = (method, path, body) =>
  w.json(path, asAdmin({ method, body: body === undefined ? undefined : JSON.stringify(body) }));
const get = (path) => w.json(path);
const row = (table, id) => w.db.prepare(`SELECT * FROM ${table} WHERE id = ?`).bind(id).first();
const cached = async (table, id) => {
  const text = await w.kv.get(`sonic:${table}:${id}`);
  return text === null ? null : JSON.parse(text);
};
const current = (table, id) => currentEntry(w.kv, table, id);
// A read that missed fills KV on the Worker's `wait_until`, after the response: wait for it.
const fill = (table, id) => filled(w.kv, table, id);
const USER_COLUMNS = ["id", "name", "email", "password", "role", "created_on", "updated_on"];
/** A D1 row as the API shows it: without the secret `password` (`#[column(secret)]`). */
const shown = (r) => {
  if (r === null) return null;
  const { password, ...rest } = r;
  return rest;
};
const shownRow = async (table, id) => shown(await row(table, id));

function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.stop();
});

describe("a user's life", () => {
  const ada = { id: "u1", name: "Ada", email: "ada@example.com", password: "hash", role: "admin" };
  let created;

  test("POST /v1/users stores it in D1 and writes nothing to KV", async () => {
    const t0 = Date.now();
    const res = await send("POST", "/v1/users", ada);
    assert.match(res.headers.get("content-type"), /^application\/json/);
    created = ok(res, 201).data;
    assert.deepEqual({ ...created, created_on: 0, updated_on: 0 }, { ...shown(ada), created_on: 0, updated_on: 0 });
    assert.equal("password" in created, false, "the secret is written, never shown");
    assert.ok(created.created_on >= t0 && created.created_on <= Date.now() + 1, "audit time in Unix ms");
    assert.equal(created.updated_on, created.created_on);

    assert.deepEqual(await row("users", "u1"), { ...created, password: ada.password }, "D1 holds exactly what was returned, and the secret");
    assert.equal(await cached("users", "u1"), null, "a new key has nothing stale to replace");
  });

  test("GET /v1/users/:id: from D1 first (filling KV), then from KV, equal to the D1 row", async () => {
    assert.deepEqual(ok(await get("/v1/users/u1")), { data: created, source: "d1" });
    const envelope = await fill("users", "u1");
    assert.equal(envelope.t, "users");
    const stored = await row("users", "u1");
    assert.deepEqual(envelope.row, USER_COLUMNS.map((c) => stored[c]), "KV holds the same row");
    const res = ok(await get("/v1/users/u1"));
    assert.deepEqual(res, { data: created, source: "kv" });
    assert.deepEqual(shown(stored), res.data);
  });

  test("PUT merges the given fields, stamps updated_on, and the next read sees it", async () => {
    await new Promise((r) => setTimeout(r, 5)); // a later millisecond for updated_on
    const res = ok(await send("PUT", "/v1/users/u1", { name: "Ada Lovelace" }));
    assert.equal(res.data.name, "Ada Lovelace");
    assert.equal(res.data.email, ada.email, "fields not sent are kept");
    assert.equal(res.data.created_on, created.created_on);
    assert.ok(res.data.updated_on > created.updated_on);
    assert.deepEqual(await shownRow("users", "u1"), res.data);

    assert.equal(await current("users", "u1"), null, "the update invalidated the cached row");
    const read = ok(await get("/v1/users/u1"));
    assert.equal(read.source, "d1");
    assert.deepEqual(read.data, res.data, "read after update returns the new value");
    assert.deepEqual((await fill("users", "u1")).row, USER_COLUMNS.map((c) => ({ ...res.data, password: ada.password })[c]));
    assert.equal(ok(await get("/v1/users/u1")).source, "kv");

    // The id may be repeated in the body, server-set fields are ignored, null clears.
    const again = ok(await send("PUT", "/v1/users/u1", { id: "u1", name: null, created_on: 1 }));
    assert.equal(again.data.name, null);
    assert.equal(again.data.created_on, created.created_on);
    assert.equal((await get("/v1/users/u1")).body.data.name, null);
  });

  test("DELETE removes it from D1 and invalidates it in KV; then reads, updates and deletes are 404", async () => {
    ok(await get("/v1/users/u1"));
    await fill("users", "u1"); // cached before the delete
    const res = await w.fetch("/v1/users/u1", asAdmin({ method: "DELETE" }));
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
    assert.equal(await row("users", "u1"), null);
    assert.equal(await current("users", "u1"), null);

    const read = await get("/v1/users/u1");
    assert.equal(read.status, 404);
    assert.deepEqual({ ...read.body, request_id: "" }, { error: "no `users` record with id `u1`", status: 404, request_id: "" });
    assert.equal(read.body.request_id, read.headers.get("x-request-id"));
    assert.equal((await send("DELETE", "/v1/users/u1")).status, 404);
    assert.equal((await send("PUT", "/v1/users/u1", { name: "x" })).status, 404);
  });
});

test("a row written to D1 directly is read from D1 first, then from KV", async () => {
  await w.db
    .prepare("INSERT INTO users (id, email, password) VALUES ('seeded', 'seeded@example.com', 'p')")
    .run();
  const first = ok(await get("/v1/users/seeded"));
  assert.equal(first.source, "d1");
  assert.equal(first.data.role, "user", "the column's default");
  assert.deepEqual(first.data, await shownRow("users", "seeded"));
  await fill("users", "seeded");
  const second = ok(await get("/v1/users/seeded"));
  assert.equal(second.source, "kv");
  assert.deepEqual(second.data, first.data);
});

test("a record posted without id gets a UUID", async () => {
  const res = ok(await send("POST", "/v1/users", { email: "anon@example.com", password: "p", role: "user" }), 201);
  assert.match(res.data.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(await shownRow("users", res.data.id), res.data);
});

describe("values cross intact", () => {
  before(async () => {
    ok(await send("POST", "/v1/users", { id: "author", email: "author@example.com", password: "p", role: "user" }), 201);
  });

  test("unicode, quotes, NUL and SQL-looking text in titles", async () => {
    const titles = [
      "Ünïcödé ✓ 🦀 日本語 עברית",
      "e\u0301 (combining) vs é",
      "'; DROP TABLE posts; --",
      'quotes " \' ` and \\ backslash',
      "NUL \u0000 inside",
      "%_ like wildcards",
      "",
    ];
    for (const [i, title] of titles.entries()) {
      const id = `edge-${i}`;
      const res = ok(await send("POST", "/v1/posts", { id, title, user_id: "author" }), 201);
      assert.equal(res.data.title, title);
      assert.equal((await row("posts", id)).title, title, "D1 holds the exact text");
      assert.equal(ok(await get(`/v1/posts/${id}`)).source, "d1");
      await fill("posts", id);
      const read = ok(await get(`/v1/posts/${id}`));
      assert.equal(read.source, "kv");
      assert.equal(read.data.title, title);
    }
    assert.equal(await w.db.prepare("SELECT count(*) AS n FROM posts").first("n"), titles.length);
    const crab = ok(await get(`/v1/posts?filters[title][$like]=${encodeURIComponent("%🦀%")}`));
    assert.deepEqual(crab.data.map((p) => p.id), ["edge-0"]);
    const exact = ok(await get(`/v1/posts?filters[title][$eq]=${encodeURIComponent(titles[2])}`));
    assert.deepEqual(exact.data.map((p) => p.id), ["edge-2"]);
  });

  test("ids with spaces, `?`, `#` and unicode; an id whose KV key is over 512 bytes", async () => {
    // `sonic:posts:` + 510 bytes: KV's key limit is 512, so the key is a hash.
    for (const id of ["a b?c#d%e", "ü日本", "x".repeat(510)]) {
      const res = ok(await send("POST", "/v1/posts", { id, title: "odd id", user_id: "author" }), 201);
      assert.equal(res.data.id, id);
      const path = `/v1/posts/${encodeURIComponent(id)}`;
      ok(await get(path));
      await fill("posts", id);
      const read = ok(await get(path));
      assert.equal(read.data.id, id);
      assert.equal(read.source, "kv", "cached (a long id's key is hashed)");
      ok(await send("PUT", path, { title: "renamed" }));
      assert.equal((await row("posts", id)).title, "renamed");
      assert.equal((await send("DELETE", path)).status, 204);
      assert.equal(await row("posts", id), null);
    }
    // Ids a URL cannot address back are refused on create: a `/`, over 512 bytes, `.`/`..`.
    for (const id of ["a/b", "x".repeat(513), "..", "."]) {
      const res = await send("POST", "/v1/posts", { id, title: "odd id", user_id: "author" });
      assert.equal(res.status, 400, `${id.slice(0, 20)}: ${JSON.stringify(res.body)}`);
      assert.equal(await row("posts", id), null);
    }
  });

  test("a 200 KB body", async () => {
    const body = "ü".repeat(100_000);
    ok(await send("POST", "/v1/posts", { id: "big", title: "big", body, user_id: "author" }), 201);
    assert.equal((await row("posts", "big")).body, body);
    assert.equal(ok(await get("/v1/posts/big")).data.body, body);
  });
});

test("deleting a user cascades to its posts and their comments, in D1 and in KV", async () => {
  ok(await send("POST", "/v1/users", { id: "gone", email: "gone@example.com", password: "p", role: "user" }), 201);
  ok(await send("POST", "/v1/posts", [
    { id: "gone-1", title: "one", user_id: "gone" },
    { id: "gone-2", title: "two", user_id: "gone" },
  ]), 201);
  ok(await send("POST", "/v1/comments", { id: "gone-c", post_id: "gone-1", body: "hi" }), 201);
  for (const [table, id] of [["posts", "gone-1"], ["posts", "gone-2"], ["comments", "gone-c"]]) {
    ok(await get(`/v1/${table}/${id}`));
    await fill(table, id);
    assert.equal(ok(await get(`/v1/${table}/${id}`)).source, "kv");
  }

  assert.equal((await send("DELETE", "/v1/users/gone")).status, 204);
  assert.equal(await row("posts", "gone-1"), null, "ON DELETE CASCADE");
  assert.equal(await row("comments", "gone-c"), null);
  for (const [table, id] of [["posts", "gone-1"], ["posts", "gone-2"], ["comments", "gone-c"]]) {
    assert.equal(await current(table, id), null, `current KV entry of ${table} ${id}`);
    assert.equal((await get(`/v1/${table}/${id}`)).status, 404, `${table} ${id}`);
  }
});

test("a cascade of 600 cached children (past every budget): no child is served afterwards", async () => {
  ok(await send("POST", "/v1/users", { id: "many", email: "many@example.com", password: "p", role: "user" }), 201);
  const ids = Array.from({ length: 600 }, (_, i) => `many-${i}`);
  for (let i = 0; i < ids.length; i += 200) {
    const batch = ids.slice(i, i + 200).map((id) => ({ id, title: id, user_id: "many" }));
    ok(await send("POST", "/v1/posts", batch), 201);
  }
  // Cache every child (a miss that fills), 20 requests at a time, and check a sample is then a
  // KV hit.
  const each = async (f) => {
    for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map(f));
  };
  await each(async (id) => ok(await get(`/v1/posts/${id}`)));
  for (const id of ids.slice(0, 20)) {
    await fill("posts", id);
    assert.equal(ok(await get(`/v1/posts/${id}`)).source, "kv");
  }

  assert.equal((await send("DELETE", "/v1/users/many")).status, 204);
  assert.equal(await w.db.prepare("SELECT count(*) AS n FROM posts WHERE user_id = 'many'").first("n"), 0);
  assert.notEqual(await w.kv.get("sonic:posts:#g"), null, "one table generation instead of 600 keys");
  await each(async (id) => {
    const res = await get(`/v1/posts/${id}`);
    assert.equal(res.status, 404, `post ${id}: ${JSON.stringify(res.body)}`);
  });
});
