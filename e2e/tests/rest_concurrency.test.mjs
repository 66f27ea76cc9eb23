// 20 concurrent clients × 50 requests each against the example Worker's REST API over
// loopback: creates, reads, updates and lists interleaved. Each client writes only its own
// posts, so the final state is known exactly: D1 must hold exactly the expected rows, every
// read must have returned the client's latest write, KV must agree with D1, and no request may
// end in a 5xx.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { asAdmin, currentEntry, startWorker } from "../harness.mjs";

const CLIENTS = 20;
const REQUESTS = 50;

let w;
const send = (method, path, body) =>
  w.json(path, asAdmin({ method, body: body === undefined ? undefined : JSON.stringify(body) }));

before(async () => {
  w = await startWorker();
  const users = Array.from({ length: CLIENTS }, (_, c) => ({
    id: `u${c}`,
    name: `Client ${c}`,
    email: `client${c}@example.com`,
    password: "p",
    role: "user",
  }));
  const res = await send("POST", "/v1/users", users);
  assert.equal(res.status, 201, JSON.stringify(res.body));
});
after(async () => {
  await w?.stop();
});

/** One client: its requests in sequence; returns its expected posts and every response. */
async function client(c) {
  const titles = new Map(); // post id → latest title this client wrote
  const log = [];
  const call = async (what, method, path, body) => {
    const res = await send(method, path, body);
    log.push({ what, method, path, status: res.status, body: res.body });
    return res;
  };
  let updates = 0;
  for (let j = 0; j < REQUESTS; j++) {
    const own = [...titles.keys()];
    switch (j % 5) {
      case 0: {
        const id = `c${c}-p${j}`;
        const title = `client ${c} post ${j}`;
        const res = await call("create", "POST", "/v1/posts", { id, title, user_id: `u${c}` });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        titles.set(id, title);
        break;
      }
      case 1: {
        const id = own[j % own.length];
        const res = await call("read", "GET", `/v1/posts/${id}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.data.title, titles.get(id), `client ${c} reads its latest write of ${id}`);
        break;
      }
      case 2: {
        const id = own[updates++ % own.length];
        const title = `client ${c} post ${id} v${j} ✓`;
        const res = await call("update", "PUT", `/v1/posts/${id}`, { title });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.data.title, title);
        titles.set(id, title);
        break;
      }
      case 3: {
        const res = await call("list", "GET", `/v1/posts?filters[user_id][$eq]=u${c}&sort=id&limit=100`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.total, titles.size);
        for (const p of res.body.data) assert.equal(p.title, titles.get(p.id));
        break;
      }
      default: {
        // Shared reads of records nobody writes: another client's user.
        const other = (c + j) % CLIENTS;
        const res = await call("read user", "GET", `/v1/users/u${other}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.data.email, `client${other}@example.com`);
      }
    }
  }
  return { titles, log };
}

test(`${CLIENTS} clients × ${REQUESTS} requests`, async () => {
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  const elapsed = performance.now() - t0;
  const failed = results.filter((r) => r.status === "rejected");
  assert.deepEqual(failed.map((r) => String(r.reason?.stack ?? r.reason)), []);
  const runs = results.map((r) => r.value);

  const log = runs.flatMap((r) => r.log);
  assert.equal(log.length, CLIENTS * REQUESTS);
  const errors = log.filter((e) => e.status >= 500);
  assert.deepEqual(errors, [], "no 5xx");
  const byKind = {};
  for (const e of log) byKind[e.what] = (byKind[e.what] ?? 0) + 1;
  assert.deepEqual(byKind, { create: 200, read: 200, update: 200, list: 200, "read user": 200 });
  console.log(`# ${log.length} requests from ${CLIENTS} clients in ${elapsed.toFixed(0)} ms`);

  // D1 holds exactly the expected rows.
  const expected = new Map(runs.flatMap((r) => [...r.titles]));
  assert.equal(expected.size, CLIENTS * (REQUESTS / 5));
  assert.equal(await w.db.prepare("SELECT count(*) AS n FROM posts").first("n"), expected.size);
  assert.equal(await w.db.prepare("SELECT count(*) AS n FROM users").first("n"), CLIENTS);
  const perUser = await w.db.prepare("SELECT user_id, count(*) AS n FROM posts GROUP BY user_id ORDER BY user_id").all();
  assert.deepEqual(
    perUser.results,
    Array.from({ length: CLIENTS }, (_, c) => ({ user_id: `u${c}`, n: REQUESTS / 5 })).sort((a, b) =>
      a.user_id < b.user_id ? -1 : 1,
    ),
  );
  const rows = (await w.db.prepare("SELECT * FROM posts").all()).results;
  for (const row of rows) {
    assert.equal(row.title, expected.get(row.id), row.id);
    // KV, where it holds a current entry of the record (tagged with the current generations;
    // an older one may stay, never served), holds the same row as D1.
    const cached = await currentEntry(w.kv, "posts", row.id);
    if (cached !== null) {
      assert.deepEqual(cached.row, [row.id, row.title, row.body, row.user_id, row.created_on, row.updated_on]);
    }
  }
  const list = await w.json("/v1/posts?limit=0");
  assert.equal(list.body.total, expected.size);
});
