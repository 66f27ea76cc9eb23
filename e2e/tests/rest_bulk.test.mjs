// A JSON array POSTed to the example Worker's REST API is inserted with one atomic D1 batch,
// chunked by Sonic under D1's 100-bound-parameter limit: all rows or none.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { asAdmin, startWorker } from "../harness.mjs";

let w;
const post = (path, body) => w.json(path, asAdmin({ method: "POST", body: JSON.stringify(body) }));
const count = async (where = "1") =>
  w.db.prepare(`SELECT count(*) AS n FROM posts WHERE ${where}`).first("n");

const posts = (from, n, user_id = "writer") =>
  Array.from({ length: n }, (_, i) => ({
    id: `bulk-${String(from + i).padStart(4, "0")}`,
    title: `Bulk post ${from + i} ✓`,
    body: (from + i) % 3 === 0 ? null : `body of ${from + i}`,
    user_id,
  }));

before(async () => {
  w = await startWorker();
  const res = await post("/v1/users", { id: "writer", email: "writer@example.com", password: "p", role: "user" });
  assert.equal(res.status, 201);
});
after(async () => {
  await w?.stop();
});

test("1,000 posts in one request", async () => {
  const t0 = Date.now();
  const res = await post("/v1/posts", posts(0, 1000));
  assert.equal(res.status, 201, JSON.stringify(res.body).slice(0, 500));
  assert.equal(res.body.data.length, 1000);
  assert.deepEqual(res.body.data.map((p) => p.id), posts(0, 1000).map((p) => p.id), "in order");
  for (const p of res.body.data) assert.ok(p.created_on >= t0 && p.updated_on === p.created_on);

  // The total, through the API and directly in D1.
  const list = await w.json("/v1/posts?limit=1");
  assert.equal(list.body.total, 1000);
  assert.equal(await count(), 1000);
  const direct = await w.db.prepare("SELECT * FROM posts ORDER BY id").all();
  assert.deepEqual(direct.results, res.body.data, "D1 holds exactly what was returned");

  const last = await w.json("/v1/posts/bulk-0999");
  assert.equal(last.status, 200);
  assert.deepEqual(last.body.data, res.body.data[999]);
  const filtered = await w.json("/v1/posts?filters[body][$null]=&limit=1");
  assert.equal(filtered.body.total, 334);
});

test("only the admin writes: the same request anonymously is a 403 and writes nothing", async () => {
  const before = await count();
  const res = await w.json("/v1/posts", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(posts(3000, 10)),
  });
  assert.equal(res.status, 403, JSON.stringify(res.body));
  assert.equal(await count(), before);
});

test("a failing row leaves no row of the request behind", async () => {
  const before = await count();
  // Row 700 reuses an id of the first request: D1 refuses it inside the batch.
  const batch = posts(1000, 1000);
  batch[700].id = "bulk-0005";
  const dup = await post("/v1/posts", batch);
  assert.equal(dup.status, 409, JSON.stringify(dup.body));
  assert.match(dup.body.error, /unique/i);
  assert.equal(await count(), before);
  assert.equal(await count("id >= 'bulk-1000'"), 0);

  // Row 999 names a user that does not exist.
  const orphan = posts(1000, 1000);
  orphan[999].user_id = "nobody";
  const fk = await post("/v1/posts", orphan);
  assert.equal(fk.status, 409, JSON.stringify(fk.body));
  assert.match(fk.body.error, /foreign key/i);
  assert.equal(await count(), before);
});

test("more than 1,000 records in one request are refused", async () => {
  const res = await post("/v1/posts", posts(5000, 1001));
  assert.equal(res.status, 413);
  assert.match(res.body.error, /at most 1000/);
  assert.equal(await count("id >= 'bulk-5000'"), 0);
});
