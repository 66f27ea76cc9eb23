// Loaded `many` relations on workerd: a user with thousands of posts, or with posts whose
// bodies add up past D1's 2 MB string limit, loaded with `?with=posts` gets a capped 200
// (the cap in the SQL, the response's `truncated` naming the relation) or a 413, never a 500,
// and the state is unchanged.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { asAdmin, startWorker } from "../harness.mjs";

let w;
const post = (path, body) => w.json(path, asAdmin({ method: "POST", body: JSON.stringify(body) }));
const CAP = 100; // sonic_db_api::DEFAULT_MAX_RELATED, the example's cap
const MANY = 3000;
const BIG = 25;
const BIG_BODY = 95_000; // 25 × 95 KB ≈ 2.4 MB in one JSON aggregation
const pad = (i) => String(i).padStart(5, "0");

/** Every row of the tables the test touches, for "nothing changed" checks. */
const snapshot = async () => {
  const posts = await w.db.prepare("SELECT id, user_id, title, length(body) AS len, updated_on FROM posts ORDER BY id").all();
  const users = await w.db.prepare("SELECT * FROM users ORDER BY id").all();
  const comments = await w.db.prepare("SELECT * FROM comments ORDER BY id").all();
  return JSON.stringify([posts.results, users.results, comments.results]);
};

before(async () => {
  w = await startWorker();
  const users = [
    { id: "many", email: "many@example.com", password: "p", role: "user" },
    { id: "big", email: "big@example.com", password: "p", role: "user" },
  ];
  let res = await post("/v1/users", users);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  for (let start = 0; start < MANY; start += 1000) {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      id: `m${pad(start + i)}`, title: `post ${start + i}`, body: "short", user_id: "many",
    }));
    res = await post("/v1/posts", rows);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  // Comments on the first post of `many`, more than the cap.
  const comments = Array.from({ length: 150 }, (_, i) => ({ id: `c${pad(i)}`, post_id: "m00000", body: `comment ${i}` }));
  res = await post("/v1/comments", comments);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  for (let start = 0; start < BIG; start += 5) {
    const rows = Array.from({ length: 5 }, (_, i) => ({
      id: `b${pad(start + i)}`, title: `big ${start + i}`, body: "x".repeat(BIG_BODY), user_id: "big",
    }));
    res = await post("/v1/posts", rows);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
});
after(async () => {
  await w?.stop();
});

test("thousands of posts loaded as a relation: the first 100, and `truncated` says so", async () => {
  const before = await snapshot();
  const started = performance.now();
  const one = await w.json("/v1/users/many?with=posts");
  const ms = performance.now() - started;
  assert.equal(one.status, 200, JSON.stringify(one.body).slice(0, 300));
  console.log(`# /v1/users/many?with=posts (${MANY} posts): ${JSON.stringify(one.body).length} bytes in ${ms.toFixed(0)} ms`);
  assert.equal(one.body.data.posts.length, CAP);
  assert.deepEqual(one.body.data.posts.map((p) => p.id), Array.from({ length: CAP }, (_, i) => `m${pad(i)}`));
  assert.deepEqual(one.body.truncated, { posts: CAP });
  assert.equal(one.body.data.password, undefined);

  const nested = await w.json("/v1/users/many?with=posts.comments");
  assert.equal(nested.status, 200, JSON.stringify(nested.body).slice(0, 300));
  assert.equal(nested.body.data.posts.length, CAP);
  assert.equal(nested.body.data.posts[0].comments.length, CAP);
  assert.deepEqual(nested.body.truncated, { posts: CAP, "posts.comments": CAP });

  const list = await w.json("/v1/users?with=posts&filters[id][$eq]=many");
  assert.equal(list.status, 200, JSON.stringify(list.body).slice(0, 300));
  assert.equal(list.body.data[0].posts.length, CAP);
  assert.deepEqual(list.body.truncated, { posts: CAP });
  assert.equal(await snapshot(), before, "reads change nothing");
});

test("posts with large bodies past D1's size limit: a 200 or a 413, never a 500", async () => {
  const before = await snapshot();
  for (const path of ["/v1/users/big?with=posts", "/v1/users?with=posts", "/v1/posts/b00000?with=author"]) {
    const res = await w.json(path);
    assert.ok([200, 413].includes(res.status), `${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    if (res.status === 413) {
      assert.match(res.body.error, /larger than the database allows/);
      assert.doesNotMatch(res.body.error, /SQLITE|D1_ERROR/, "the database's text stays in the log");
      assert.equal(typeof res.body.request_id, "string");
    } else {
      const users = Array.isArray(res.body.data) ? res.body.data : [res.body.data];
      for (const user of users.filter((u) => u.posts)) assert.ok(user.posts.length <= CAP);
    }
    console.log(`# ${path}: ${res.status}`);
  }
  // The same record without the relation still reads.
  assert.equal((await w.json("/v1/users/big")).status, 200);
  assert.equal(await snapshot(), before, "nothing changed");
});
