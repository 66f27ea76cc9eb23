// Client mistakes against the example Worker's REST API (sonic-db-api): each gets a 4xx with a
// clear `{"error", "status", "request_id"}` (400 malformed or unknown input, 401 an unknown
// token, 403 a write without the admin's token, 404 missing, 405 wrong method, 409 conflicts,
// 413 too large) and changes nothing: D1 rows and KV keys are compared before and after.
// Never a 5xx.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { asAdmin, startWorker } from "../harness.mjs";

let w;
// As the admin, who may write: what is refused is the input, not the caller.
const raw = (method, path, body) => w.json(path, asAdmin({ method, body }));
/** Every row of the three tables (one D1 batch) and every KV entry. */
const snapshot = async () => {
  const tables = ["users", "posts", "comments"];
  const results = await w.db.batch(tables.map((t) => w.db.prepare(`SELECT * FROM ${t} ORDER BY id`)));
  const { keys } = await w.kv.list();
  const values = await Promise.all(keys.map(({ name }) => w.kv.get(name)));
  return {
    tables: Object.fromEntries(tables.map((t, i) => [t, results[i].results])),
    kv: Object.fromEntries(keys.map(({ name }, i) => [name, values[i]])),
  };
};
let initial;

const user = (extra = {}) =>
  JSON.stringify({ id: "n1", email: "new@example.com", password: "p", role: "user", ...extra });

before(async () => {
  w = await startWorker();
  const seed = [
    ["/v1/users", [
      { id: "u1", name: "Ada", email: "ada@example.com", password: "p", role: "admin" },
      { id: "u2", name: "Grace", email: "grace@example.com", password: "p", role: "user" },
    ]],
    ["/v1/posts", [{ id: "p1", title: "Hello", user_id: "u1" }]],
    ["/v1/comments", [{ id: "c1", post_id: "p1", body: "Hi" }]],
  ];
  for (const [path, body] of seed) {
    const res = await raw("POST", path, JSON.stringify(body));
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  // Fill KV for a read, so that "KV unchanged" covers cached entries too.
  assert.equal((await w.json("/v1/posts/p1")).status, 200);
  initial = await snapshot();
  // Inserts write nothing to KV; the read filled the post.
  assert.deepEqual(Object.keys(initial.kv).sort(), ["sonic:posts:p1"]);
});
after(async () => {
  await w?.stop();
});

/** [method, path, body, status, message pattern] */
const CASES = [
  // Bodies of POST
  ["POST", "/v1/users", "{", 400, /^malformed JSON/],
  ["POST", "/v1/users", "", 400, /no body/],
  ["POST", "/v1/users", "\xff\xfe", 400, /malformed JSON/],
  ["POST", "/v1/users", "42", 400, /must be a JSON object, not a number/],
  ["POST", "/v1/users", '"text"', 400, /must be a JSON object, not a string/],
  ["POST", "/v1/users", user({ nickname: "n" }), 400, /unknown field `nickname` of `users`/],
  ["POST", "/v1/users", user({ posts: [] }), 400, /`posts` is a relation of `users`/],
  ["POST", "/v1/users", user({ email: 5 }), 400, /field `email`: invalid type: integer `5`, expected a string/],
  ["POST", "/v1/users", user({ email: ["a"] }), 400, /field `email`: invalid type: sequence/],
  ["POST", "/v1/users", user({ role: "boss" }), 400, /field `role`: unknown variant `boss`/],
  ["POST", "/v1/users", user({ email: null }), 400, /field `email`: invalid type: null/],
  ["POST", "/v1/users", user({ name: 1.5 }), 400, /field `name`: invalid type: floating point/],
  ["POST", "/v1/users", JSON.stringify({ id: "n1", password: "p", role: "user" }), 400, /missing field `email`/],
  ["POST", "/v1/users", `[${user()}, ${user({ id: "n2", email: 7 })}]`, 400, /^record 1: field `email`/],
  ["POST", "/v1/users", `[${user()}, null]`, 400, /^record 1: a record must be a JSON object, not null/],
  ["POST", "/v1/users?x=1", user(), 400, /unknown query parameter `x`/],
  // Over the body cap (1 MiB): refused before it is parsed.
  ["POST", "/v1/posts", JSON.stringify({ title: "t", user_id: "u1", body: "x".repeat(2_000_001) }), 413, /at most 1048576/],
  ["POST", "/v1/users", '{"id":"n1","email":"a@example.com","email":"b@example.com","password":"p"}', 400, /the key `email` is given twice/],
  // Conflicts with what is stored
  ["POST", "/v1/users", user({ email: "ada@example.com" }), 409, /unique constraint violated.*users\.email/],
  ["POST", "/v1/users", user({ id: "u1" }), 409, /unique constraint violated.*users\.id/],
  ["POST", "/v1/users", `[${user()}, ${user({ id: "n2" })}]`, 409, /unique constraint violated/],
  ["POST", "/v1/posts", JSON.stringify({ title: "t", user_id: "nobody" }), 409, /foreign key constraint violated/],
  ["POST", "/v1/comments", JSON.stringify({ post_id: "nope", body: "b" }), 409, /foreign key/],
  // Bodies of PUT
  ["PUT", "/v1/users/u1", "{", 400, /^malformed JSON/],
  ["PUT", "/v1/users/u1", "[]", 400, /must be a JSON object, not an array/],
  ["PUT", "/v1/users/u1", JSON.stringify({ id: "u2" }), 400, /the `id` in the body \("u2"\) is not the one in the path \(`u1`\)/],
  ["PUT", "/v1/users/u1", JSON.stringify({ nick: "x" }), 400, /unknown field `nick`/],
  ["PUT", "/v1/users/u1", JSON.stringify({ name: 3 }), 400, /cannot encode column `users`.`name`: expected a JSON string, found a JSON number 3/],
  ["PUT", "/v1/users/u1", JSON.stringify({ role: "root" }), 400, /cannot encode column `users`.`role`: expected one of "admin", "user"/],
  ["PUT", "/v1/users/u1", JSON.stringify({ email: "grace@example.com" }), 409, /unique/],
  ["PUT", "/v1/posts/p1", JSON.stringify({ user_id: "nobody" }), 409, /foreign key/],
  ["PUT", "/v1/users/u1?x=1", "{}", 400, /unknown query parameter `x`/],
  // List parameters
  ["GET", "/v1/posts?sort=nope", undefined, 400, /unknown field `nope` of `posts`/],
  ["GET", "/v1/posts?sort=title:sideways", undefined, 400, /unknown sort direction `sideways`/],
  ["GET", "/v1/posts?sort=title,", undefined, 400, /`sort` has an empty item/],
  ["GET", "/v1/posts?sort=author", undefined, 400, /unknown field `author`/],
  ["GET", "/v1/posts?filters[nope][$eq]=1", undefined, 400, /unknown field `nope` of `posts`/],
  ["GET", "/v1/users?filters[password][$like]=h%25", undefined, 400, /unknown field `password` of `users`/],
  ["GET", "/v1/users?sort=password", undefined, 400, /unknown field `password`/],
  ["GET", "/v1/posts?filters[title][$regex]=x", undefined, 400, /unknown filter operator `\$regex`/],
  ["GET", "/v1/posts?filters[created_on][$gt]=soon", undefined, 400, /cannot encode column `posts`.`created_on`/],
  ["GET", "/v1/posts?filters[title][$between]=a", undefined, 400, /takes 2 operand/],
  ["GET", "/v1/posts?filters[title]x=1", undefined, 400, /malformed filter/],
  ["GET", "/v1/posts?filters[title][$eq][x]=1", undefined, 400, /malformed filter/],
  ["GET", `/v1/posts?filters[title][$like]=${"a".repeat(51)}`, undefined, 400, /51 bytes; at most 50/],
  // 25 `_`, escaped to 50 bytes, and two wildcards.
  ["GET", `/v1/posts?filters[title][$contains]=${"_".repeat(25)}`, undefined, 400, /52 bytes; at most 50/],
  ["GET", "/v1/posts?limit=-1", undefined, 400, /`limit` must be an integer from 0/],
  ["GET", "/v1/posts?limit=ten", undefined, 400, /`limit` must be an integer/],
  ["GET", "/v1/posts?limit=101", undefined, 400, /`limit` is 101; `posts` pages hold at most 100 records/],
  ["GET", "/v1/posts?with=author&limit=26", undefined, 400, /at most 25 records with relations/],
  ["GET", "/v1/posts?limit=1&limit=2", undefined, 400, /`limit` is given twice/],
  ["GET", "/v1/posts?offset=x", undefined, 400, /`offset` must be an integer/],
  ["GET", "/v1/posts?with=nope", undefined, 400, /`posts` has no relation `nope` to load \(with: author, comments\)/],
  ["GET", "/v1/users?with=posts,posts.comments", undefined, 400, /`with` names `posts` twice \(`posts.comments`\)/],
  ["GET", "/v1/users/u1?with=posts.comments&with=posts", undefined, 400, /`with` names `posts` twice/],
  ["GET", "/v1/posts?limt=5", undefined, 400, /unknown query parameter `limt`/],
  ["GET", "/v1/posts/p1?sort=id", undefined, 400, /unknown query parameter `sort`/],
  // Missing things, wrong methods
  ["GET", "/v1/posts/nope", undefined, 404, /no `posts` record with id `nope`/],
  ["PUT", "/v1/posts/nope", '{"title":"x"}', 404, /no `posts` record with id `nope`/],
  ["PATCH", "/v1/users/u1", "{}", 400, /the body names no field of `users` you may change/],
  ["DELETE", "/v1/posts/nope", undefined, 404, /no `posts` record with id `nope`/],
  ["GET", "/v1/tables", undefined, 404, /no table `tables` \(tables: users, posts, comments\)/],
  ["DELETE", "/v1/users", undefined, 405, /method not allowed here \(allowed: GET, POST\)/],
  ["PUT", "/v1/users", "{}", 405, /allowed: GET, POST/],
  ["POST", "/v1/users/u1", "{}", 405, /allowed: GET, PUT, PATCH, DELETE/],
  ["OPTIONS", "/v1/users/u1", undefined, 405, /allowed: GET, PUT, PATCH, DELETE/],
  // A method the API does not know is not a GET (the `worker` crate's `Method` maps every
  // unknown name to `Get`; the API reads the name as sent).
  ["PROPFIND", "/v1/users/u1", undefined, 405, /allowed: GET, PUT, PATCH, DELETE/],
  ["PROPFIND", "/v1/users", undefined, 405, /allowed: GET, POST/],
  ["GET", "/admin/login", undefined, 404, /no route `\/admin\/login`/],
  ["GET", "/v1/users/u1/posts", undefined, 404, /no route/],
];

describe("bad input changes nothing", () => {
  for (const [method, path, body, status, pattern] of CASES) {
    test(`${method} ${path.slice(0, 70)} ${body === undefined ? "" : body.slice(0, 40)} → ${status}`, async () => {
      const res = await raw(method, path, body);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.headers.get("content-type"), /^application\/json/);
      assert.equal(typeof res.body.error, "string", JSON.stringify(res.body));
      assert.match(res.body.error, pattern);
      assert.equal(res.body.status, status);
      assert.ok(res.body.request_id, "every error names its request");
      assert.equal(res.body.request_id, res.headers.get("x-request-id"));
      if (status === 405) assert.ok(res.headers.get("allow"));
      assert.deepEqual(await snapshot(), initial, "D1 and KV unchanged");
    });
  }

  test("writes without the admin's token: 403 anonymously, 401 with another token", async () => {
    for (const [method, path, body] of [
      ["POST", "/v1/users", user()],
      ["PUT", "/v1/users/u1", JSON.stringify({ name: "x" })],
      ["DELETE", "/v1/posts/p1", undefined],
    ]) {
      const anonymous = await w.json(path, { method, body, headers: { "content-type": "application/json" } });
      assert.equal(anonymous.status, 403, `${method} ${path}: ${JSON.stringify(anonymous.body)}`);
      assert.equal(typeof anonymous.body.error, "string");
      const headers = { "content-type": "application/json", authorization: "Bearer nope" };
      const stranger = await w.json(path, { method, body, headers });
      assert.equal(stranger.status, 401, `${method} ${path}: ${JSON.stringify(stranger.body)}`);
    }
    const read = await w.json("/v1/users", { headers: { authorization: "Bearer nope" } });
    assert.equal(read.status, 401, "an unknown token is refused, not taken as anonymous");
    assert.deepEqual(await snapshot(), initial, "D1 and KV unchanged");
  });

  test("and the seeded records still read back", async () => {
    assert.equal((await w.json("/v1/users/u1")).body.data.email, "ada@example.com");
    assert.equal((await w.json("/v1/users?limit=0")).body.total, 2);
    assert.equal(await w.db.prepare("SELECT count(*) AS n FROM posts").first("n"), 1);
  });
});

// Was a 400 when the example took audit columns from bodies: they are server-managed now,
// never required nor taken from a body, whatever their value.
test("server-managed created_on in a body is ignored, whatever its type", async () => {
  const t0 = Date.now();
  const res = await raw("POST", "/v1/users", user({ id: "n9", email: "n9@example.com", created_on: "today" }));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.ok(res.body.data.created_on >= t0, JSON.stringify(res.body));
});
