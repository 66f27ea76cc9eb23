// The sonic-db-api example Worker (examples/api-worker): run by scripts/api-worker.sh, which
// builds it and starts node run.mjs with SONIC_E2E_WORKER_DIR=examples/api-worker
// SONIC_E2E_TESTS_DIR=api. Three principals, by bearer token from the Worker's secrets
// (passed here as bindings): each sees and changes exactly what the rules in
// examples/api-worker/src/lib.rs allow, and every refusal leaves D1 unchanged.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../harness.mjs";

const ADMIN = "admin-token-0123456789";
const ADA = "ada-token-0123456789"; // user u1
const BOB = "bob-token-0123456789"; // user u2

let w;
before(async () => {
  w = await startWorker({ vars: { ADMIN_TOKEN: ADMIN, USER_TOKENS: `u1:${ADA},u2:${BOB}` } });
  await w.db.batch([
    w.db.prepare("INSERT INTO users (id, name, email, password, role, created_on, updated_on) VALUES ('u1', 'Ada', 'ada@example.com', 'hash-ada', 'user', 1, 1)"),
    w.db.prepare("INSERT INTO users (id, name, email, password, role, created_on, updated_on) VALUES ('u2', 'Bob', 'bob@example.com', 'hash-bob', 'user', 1, 1)"),
    w.db.prepare("INSERT INTO posts (id, title, body, user_id, created_on, updated_on) VALUES ('p1', 'Ada''s', NULL, 'u1', 1, 1)"),
    w.db.prepare("INSERT INTO posts (id, title, body, user_id, created_on, updated_on) VALUES ('p2', 'Bob''s', NULL, 'u2', 1, 1)"),
  ]);
});
after(async () => {
  await w?.stop();
});

const as = (token) => (path, init = {}) => {
  const headers = { "content-type": "application/json", ...(init.headers ?? {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return w.json(path, { ...init, headers, body });
};
const anonymous = as(null);
const ada = as(ADA);
const admin = as(ADMIN);

const snapshot = async () => JSON.stringify([
  (await w.db.prepare("SELECT * FROM users ORDER BY id").all()).results,
  (await w.db.prepare("SELECT * FROM posts ORDER BY id").all()).results,
  (await w.db.prepare("SELECT * FROM comments ORDER BY id").all()).results,
]);

test("anonymous: reads without e-mails or passwords, writes nothing", async () => {
  const users = await anonymous("/v1/users");
  assert.equal(users.status, 200, JSON.stringify(users.body));
  assert.equal(users.body.total, 2);
  const text = JSON.stringify(users.body);
  assert.ok(!text.includes("hash-") && !text.includes("password") && !text.includes("example.com"), text);
  const withAuthor = JSON.stringify((await anonymous("/v1/posts?with=author")).body);
  assert.ok(withAuthor.includes("Ada") && !withAuthor.includes("hash-") && !withAuthor.includes("@"), withAuthor);
  assert.equal((await anonymous("/v1/users?filters[password][$like]=hash%25")).status, 400);
  assert.equal((await anonymous("/v1/users?sort=email")).status, 400);

  const before = await snapshot();
  for (const [method, path, body] of [
    ["POST", "/v1/posts", { title: "spam", user_id: "u1" }],
    ["PATCH", "/v1/posts/p1", { title: "defaced" }],
    ["DELETE", "/v1/posts/p1", undefined],
    ["PATCH", "/v1/users/u1", { role: "admin" }],
  ]) {
    const res = await anonymous(path, { method, body });
    assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.equal(typeof res.body.error, "string");
  }
  assert.equal(await snapshot(), before);
});

test("a wrong token is a 401, not anonymous", async () => {
  const res = await as("nope")("/v1/users");
  assert.equal(res.status, 401);
  assert.equal(res.body.error, "unknown token");
});

test("user: sees e-mails, writes own posts and self, not others' nor roles", async () => {
  const users = await ada("/v1/users/u2");
  assert.equal(users.status, 200);
  assert.equal(users.body.data.email, "bob@example.com");
  assert.equal(users.body.data.password, undefined);

  const created = await ada("/v1/posts", { method: "POST", body: { title: "New", user_id: "u2" } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.data.user_id, "u1", "the author is the caller, whatever the body says");

  const own = await ada("/v1/posts/p1", { method: "PATCH", body: { title: "Ada's, edited" } });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.ok(own.headers.get("etag"));

  const before = await snapshot();
  assert.equal((await ada("/v1/posts/p2", { method: "PATCH", body: { title: "mine" } })).status, 404);
  assert.equal((await ada("/v1/posts/p2", { method: "DELETE" })).status, 404);
  assert.equal((await ada("/v1/users", { method: "POST", body: { email: "x@x", password: "x", role: "user" } })).status, 403);
  assert.equal(await snapshot(), before);

  const self = await ada("/v1/users/u1", { method: "PATCH", body: { name: "Ada L.", role: "admin" } });
  assert.equal(self.status, 200, JSON.stringify(self.body));
  assert.equal(self.body.data.name, "Ada L.");
  assert.equal(self.body.data.role, "user", "role is not writable by users: dropped");
});

test("admin: everything, but never a password", async () => {
  const created = await admin("/v1/users", {
    method: "POST",
    body: { email: "cy@example.com", password: "hash-cy", role: "admin" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.ok(!JSON.stringify(created.body).includes("hash-cy"));
  const id = created.body.data.id;
  const row = await w.db.prepare("SELECT password FROM users WHERE id = ?").bind(id).first();
  assert.equal(row.password, "hash-cy");

  const bob = await admin("/v1/posts/p2", { method: "PATCH", body: { body: "moderated" } });
  assert.equal(bob.status, 200, JSON.stringify(bob.body));
  assert.equal((await admin(`/v1/users/${id}`, { method: "DELETE" })).status, 204);
  assert.equal((await admin(`/v1/users/${id}`)).status, 404);
});

test("records come from KV once cached; a stale If-Match is a 412", async () => {
  const first = await admin("/v1/posts/p2");
  assert.equal(first.status, 200);
  const second = await admin("/v1/posts/p2");
  assert.equal(second.body.source, "kv");
  const tag = second.headers.get("etag");
  const ok = await admin("/v1/posts/p2", { method: "PATCH", headers: { "if-match": tag }, body: { title: "v2" } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const before = await snapshot();
  const stale = await admin("/v1/posts/p2", { method: "PATCH", headers: { "if-match": tag }, body: { title: "v3" } });
  assert.equal(stale.status, 412, JSON.stringify(stale.body));
  assert.equal(await snapshot(), before);
});

test("errors are JSON: unknown paths and methods, bad ids, big bodies", async () => {
  for (const [path, init, status] of [
    ["/nowhere", {}, 404],
    ["/v1/nope", {}, 404],
    ["/v1/posts", { method: "PUT", body: {} }, 405],
    ["/v1/posts", { method: "POST", body: { title: "x".repeat(2 * 1024 * 1024) } }, 413],
  ]) {
    const res = await admin(path, init);
    assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
    assert.equal(typeof res.body.error, "string");
  }
});
