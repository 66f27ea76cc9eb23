// Lists of the example Worker's REST API over HTTP: filters, sorts, pages, totals, and
// relations loaded with the records in one request (one statement on D1).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { asAdmin, startWorker } from "../harness.mjs";

let w;
const post = (path, body) => w.json(path, asAdmin({ method: "POST", body: JSON.stringify(body) }));
/** A D1 row as the API shows it: without the secret `password`. */
const shown = ({ password, ...rest }) => rest;
const list = async (query) => {
  const res = await w.json(`/v1/${query}`);
  assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.source, "d1", "lists always read D1");
  return res.body;
};
const ids = (body) => body.data.map((r) => r.id);
const q = encodeURIComponent;

// 3 users; 12 posts: p01..p12, by u1 (p01-p06), u2 (p07-p10), u3 (p11-p12); titles repeat.
const USERS = [
  { id: "u1", name: "Ada", email: "ada@example.com", password: "p", role: "admin" },
  { id: "u2", name: "Grace", email: "grace@example.com", password: "p", role: "user" },
  { id: "u3", name: null, email: "linus@example.com", password: "p", role: "user" },
];
const TITLES = ["Rust on D1", "KV caching", "Zebra", "Apple", "Rust again", "Mango"];
const POSTS = Array.from({ length: 12 }, (_, i) => ({
  id: `p${String(i + 1).padStart(2, "0")}`,
  title: TITLES[i % TITLES.length],
  body: i % 4 === 0 ? null : `body ${i + 1}`,
  user_id: i < 6 ? "u1" : i < 10 ? "u2" : "u3",
}));
const COMMENTS = [
  { id: "c1", post_id: "p01", body: "first!" },
  { id: "c2", post_id: "p01", body: "second" },
  { id: "c3", post_id: "p07", body: "nice" },
];

before(async () => {
  w = await startWorker();
  for (const [table, rows] of [["users", USERS], ["posts", POSTS], ["comments", COMMENTS]]) {
    const res = await post(`/v1/${table}`, rows);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
});
after(async () => {
  await w?.stop();
});

describe("GET /v1/posts", () => {
  test("everything, by primary key, with the total", async () => {
    const body = await list("posts");
    assert.deepEqual(ids(body), POSTS.map((p) => p.id));
    assert.equal(body.total, 12);
    const direct = await w.db.prepare("SELECT * FROM posts ORDER BY id").all();
    assert.deepEqual(body.data, direct.results, "the records are the D1 rows");
  });

  test("limit and offset page through; total counts every match", async () => {
    const pages = [];
    for (let offset = 0; offset < 12; offset += 5) {
      const body = await list(`posts?sort=title&limit=5&offset=${offset}`);
      assert.equal(body.total, 12);
      pages.push(...ids(body));
    }
    const expected = [...POSTS].sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : a.id < b.id ? -1 : 1));
    assert.deepEqual(pages, expected.map((p) => p.id), "ties broken by id: no repeats, no gaps");
    const past = await list("posts?offset=50");
    assert.deepEqual(past, { data: [], source: "d1", total: 12 });
    const none = await list("posts?limit=0");
    assert.deepEqual(none, { data: [], source: "d1", total: 12 });
  });

  test("sort: several keys, comma-separated or repeated, asc and desc", async () => {
    const byUserThenTitle = [...POSTS].sort(
      (a, b) => (a.user_id !== b.user_id ? (a.user_id < b.user_id ? 1 : -1) : a.title < b.title ? -1 : a.title > b.title ? 1 : a.id < b.id ? -1 : 1),
    );
    const comma = await list("posts?sort=user_id:desc,title:asc");
    assert.deepEqual(ids(comma), byUserThenTitle.map((p) => p.id));
    const repeated = await list("posts?sort=user_id:desc&sort=title");
    assert.deepEqual(ids(repeated), ids(comma));
    const desc = await list("posts?sort=id:desc&limit=3");
    assert.deepEqual(ids(desc), ["p12", "p11", "p10"]);
  });

  test("filters: operators; same field and operator repeated = OR; otherwise AND", async () => {
    const cases = [
      ["filters[user_id][$eq]=u2", (p) => p.user_id === "u2"],
      ["filters[user_id]=u3", (p) => p.user_id === "u3"],
      ["filters[user_id][$ne]=u1", (p) => p.user_id !== "u1"],
      ["filters[title][$eq]=Zebra&filters[title][$eq]=Apple", (p) => ["Zebra", "Apple"].includes(p.title)],
      [`filters[title][$like]=${q("Rust%")}`, (p) => p.title.startsWith("Rust")],
      [`filters[title][$nlike]=${q("%a%")}`, (p) => !/a/i.test(p.title)],
      [`filters[title][$like]=${q("Rust%")}&filters[user_id][$eq]=u2`, (p) => p.title.startsWith("Rust") && p.user_id === "u2"],
      ["filters[id][$gte]=p03&filters[id][$lt]=p06", (p) => p.id >= "p03" && p.id < "p06"],
      ["filters[id][$gt]=p10", (p) => p.id > "p10"],
      ["filters[id][$lte]=p02", (p) => p.id <= "p02"],
      ["filters[id][$in]=p01,p05,p99", (p) => ["p01", "p05"].includes(p.id)],
      ["filters[id][$nin]=p01,p02,p03", (p) => !["p01", "p02", "p03"].includes(p.id)],
      ["filters[id][$between]=p04,p06", (p) => p.id >= "p04" && p.id <= "p06"],
      ["filters[body][$null]=", (p) => p.body === null],
      ["filters[body][$notnull]=", (p) => p.body !== null],
      ["filters[created_on][$gt]=0", () => true],
    ];
    for (const [query, keep] of cases) {
      const body = await list(`posts?${query}&limit=100`);
      const expected = POSTS.filter(keep).map((p) => p.id);
      assert.deepEqual(ids(body), expected, query);
      assert.equal(body.total, expected.length, query);
    }
  });

  test("filter, sort and page together", async () => {
    const body = await list("posts?filters[user_id][$eq]=u1&sort=title:desc&limit=2&offset=1");
    const u1 = POSTS.filter((p) => p.user_id === "u1").sort((a, b) => (a.title < b.title ? 1 : -1));
    assert.deepEqual(ids(body), u1.slice(1, 3).map((p) => p.id));
    assert.equal(body.total, 6);
  });
});

describe("relations, in the same request", () => {
  test("posts with their author", async () => {
    const body = await list("posts?with=author&sort=id");
    assert.equal(body.data.length, 12);
    const users = Object.fromEntries(
      (await w.db.prepare("SELECT * FROM users").all()).results.map((u) => [u.id, shown(u)]),
    );
    for (const p of body.data) {
      assert.deepEqual(p.author, users[p.user_id], p.id);
      assert.equal("password" in p.author, false, "secret inside relations too");
    }
    assert.equal(body.total, 12);
  });

  test("users with their posts (and those posts' comments)", async () => {
    const body = await list("users?with=posts&sort=id");
    assert.deepEqual(ids(body), ["u1", "u2", "u3"]);
    assert.ok(body.data.every((u) => !("password" in u)), "the secret column is never shown");
    for (const u of body.data) {
      const own = (await w.db.prepare("SELECT * FROM posts WHERE user_id = ? ORDER BY id").bind(u.id).all()).results;
      assert.deepEqual(u.posts, own, u.id);
    }
    const nested = await list("users?with=posts.comments&filters[id][$eq]=u1");
    const p01 = nested.data[0].posts.find((p) => p.id === "p01");
    assert.deepEqual(p01.comments.map((c) => c.body), ["first!", "second"]);
    assert.deepEqual(nested.data[0].posts.find((p) => p.id === "p02").comments, []);
  });

  test("several relations, a filter, and a single record with relations", async () => {
    const body = await list("posts?with=author,comments&filters[user_id][$eq]=u2&sort=id");
    assert.deepEqual(ids(body), ["p07", "p08", "p09", "p10"]);
    assert.equal(body.data[0].author.name, "Grace");
    assert.deepEqual(body.data[0].comments.map((c) => c.id), ["c3"]);
    const one = await w.json("/v1/comments/c3?with=post.author");
    assert.equal(one.status, 200);
    assert.equal(one.body.source, "d1");
    assert.equal(one.body.data.post.id, "p07");
    assert.equal(one.body.data.post.author.email, "grace@example.com");
  });

  test("records without relations asked for have none", async () => {
    const body = await list("posts?limit=1");
    assert.equal("author" in body.data[0], false);
    assert.equal("comments" in body.data[0], false);
  });
});
