// sonic-db-d1's D1Backend end to end: the Worker's /_backend/sql, /_backend/batch and
// /_backend/session routes (examples/worker/src/backend_routes.rs) run Statements through the
// backend; D1 is inspected directly through the harness's `w.db` (the same database, read and
// written by a second Worker in the same Miniflare instance: see harness.mjs).
//
// Values travel tagged: {type: "integer", value: "<decimal string>"} (exact beyond 2^53),
// {type: "real", value}, {type: "text", value}, {type: "blob", value: [bytes]}, {type: "null"},
// and {type: "bool", value} as a parameter.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startWorker } from "../harness.mjs";

const I = (v) => ({ type: "integer", value: String(v) });
const R = (v) => ({ type: "real", value: v });
const T = (v) => ({ type: "text", value: v });
const B = (v) => ({ type: "blob", value: v });
const BOOL = (v) => ({ type: "bool", value: v });
const NULL = { type: "null" };

const MAX_SAFE = "9007199254740991"; // 2^53 - 1

let w;
const post = (path, body) => w.json(path, { method: "POST", body: JSON.stringify(body) });
const sql = (text, params = []) => post("/_backend/sql", { sql: text, params });
const batch = (statements) => post("/_backend/batch", { statements });
const count = async (table, where = "1") =>
  (await w.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).first("n"));

function ok(res) {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

function fails(res, status, kind) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.kind, kind, JSON.stringify(res.body));
  return res.body.error.message;
}

before(async () => {
  w = await startWorker();
  await w.db.batch([
    // This file's own `users` and `posts` replace the example's migrated tables of those names.
    w.db.prepare("DROP TABLE IF EXISTS comments"),
    w.db.prepare("DROP TABLE IF EXISTS posts"),
    w.db.prepare("DROP TABLE IF EXISTS users"),
    w.db.prepare("CREATE TABLE vals (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, x)"),
    w.db.prepare(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, active INTEGER)",
    ),
    w.db.prepare(
      "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT CHECK (length(title) > 0))",
    ),
  ]);
});
after(async () => {
  await w?.stop();
});

describe("values cross exactly", () => {
  test("integers at ±(2^53 − 1) round-trip exactly", async () => {
    for (const v of [MAX_SAFE, `-${MAX_SAFE}`, "0", "1", "-1", "4294967296"]) {
      const body = ok(await sql("INSERT INTO vals (i) VALUES (?) RETURNING id, i, typeof(i) AS t", [I(v)]));
      assert.deepEqual(body.columns, ["id", "i", "t"]);
      assert.deepEqual(body.rows[0].slice(1), [I(v), T("integer")]);
      assert.equal(body.changes, 1);
      // D1 itself holds exactly that integer.
      const id = Number(body.rows[0][0].value);
      const stored = await w.db.prepare("SELECT CAST(i AS TEXT) AS i FROM vals WHERE id = ?").bind(id).first("i");
      assert.equal(stored, v);
    }
  });

  test("integers beyond ±(2^53 − 1) bind exactly (as text under their cast, #12 item 3)", async () => {
    for (const v of ["9007199254740992", "-9007199254740992", "9007199254740993", "-9007199254740993", "9223372036854775807", "-9223372036854775808"]) {
      const body = ok(
        await sql("INSERT INTO vals (i) VALUES (?) RETURNING id, CAST(i AS TEXT) AS s, typeof(i) AS t, i = ? AS same", [I(v), I(v)]),
      );
      assert.deepEqual(body.rows[0].slice(1), [T(v), T("integer"), I(1)]);
      const id = Number(body.rows[0][0].value);
      const stored = await w.db.prepare("SELECT CAST(i AS TEXT) AS i, typeof(i) AS t FROM vals WHERE id = ?").bind(id).first();
      assert.deepEqual(stored, { i: v, t: "integer" });
      // The same inside a batch, and in a comparison.
      const b = await batch([
        { sql: "INSERT INTO vals (s, i) VALUES ('batch-big', ?)", params: [I(v)] },
        { sql: "SELECT CAST(count(*) AS TEXT) AS n FROM vals WHERE i = ?", params: [I(v)] },
      ]);
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.deepEqual(b.body.results[1].rows[0], [T("2")]);
    }
  });

  test("integers beyond 2^53 stored through SQL read back as REAL, never as a wrong integer", async () => {
    const body = ok(await sql("SELECT 9223372036854775807 AS big, 9007199254740993 AS b53, 9007199254740991 AS safe"));
    assert.deepEqual(body.rows[0], [R(9223372036854775807), R(9007199254740992), I(MAX_SAFE)]);
  });

  test("REAL", async () => {
    for (const v of [1.5, -0.25, 1e300, -1e-300, 5e-324, 0.1 + 0.2]) {
      const body = ok(await sql("INSERT INTO vals (r) VALUES (?) RETURNING r, typeof(r) AS t", [R(v)]));
      assert.deepEqual(body.rows[0], [R(v), T("real")]);
    }
    // A whole REAL arrives from D1 as a JS number without fraction: read as INTEGER 2 (which
    // f64: FromValue accepts), although SQLite stored a REAL.
    const whole = ok(await sql("INSERT INTO vals (r) VALUES (?) RETURNING r, typeof(r) AS t", [R(2.0)]));
    assert.deepEqual(whole.rows[0], [I(2), T("real")]);
    for (const v of ["NaN", "Infinity", "-Infinity"]) {
      assert.match(fails(await sql("INSERT INTO vals (r) VALUES (?)", [R(v)]), 400, "limit"), /REAL/);
    }
  });

  test("TEXT: unicode, quotes, NUL, empty, long", async () => {
    const samples = [
      "",
      "🦀 emoji 👩‍👩‍👧 ZWJ",
      "quotes ' \" ` ; -- /* */ ?",
      "back\\slash\nnew line\ttab\r",
      "nul \u0000 inside",
      "é ü 中文 עברית",
      "x".repeat(10_000),
    ];
    for (const s of samples) {
      const body = ok(
        await sql("INSERT INTO vals (s) VALUES (?) RETURNING s, typeof(s) AS t, hex(s) AS h", [T(s)]),
      );
      assert.deepEqual(body.rows[0][0], T(s));
      assert.deepEqual(body.rows[0][1], T("text"));
      assert.equal(body.rows[0][2].value, Buffer.from(s, "utf8").toString("hex").toUpperCase());
    }
  });

  test("BLOB: every byte value, and empty", async () => {
    const bytes = Array.from({ length: 256 }, (_, i) => i);
    const body = ok(
      await sql("INSERT INTO vals (b) VALUES (?) RETURNING id, b, typeof(b) AS t, length(b) AS n", [B(bytes)]),
    );
    assert.deepEqual(body.rows[0].slice(1), [B(bytes), T("blob"), I(256)]);
    const id = Number(body.rows[0][0].value);
    const hex = await w.db.prepare("SELECT hex(b) AS h FROM vals WHERE id = ?").bind(id).first("h");
    assert.equal(hex, Buffer.from(bytes).toString("hex").toUpperCase());
    const read = ok(await sql("SELECT b FROM vals WHERE id = ?", [I(id)]));
    assert.deepEqual(read.rows, [[B(bytes)]]);

    const empty = ok(await sql("INSERT INTO vals (b) VALUES (?) RETURNING b, typeof(b) AS t", [B([])]));
    assert.deepEqual(empty.rows[0], [B([]), T("blob")]);
  });

  test("NULL", async () => {
    const body = ok(await sql("INSERT INTO vals (x, s) VALUES (?, ?) RETURNING x, s, typeof(x) AS t", [NULL, NULL]));
    assert.deepEqual(body.rows[0], [NULL, NULL, T("null")]);
  });

  test("integer parameters bind as INTEGER (D1 alone would bind every number as REAL)", async () => {
    const body = ok(
      await sql("SELECT typeof(?) AS t, ? / 2 AS half, json_object('a', ?) AS j, '7' = ? AS eq, typeof(?) AS r", [
        I(1),
        I(5),
        I(1),
        I(7),
        R(1.0),
      ]),
    );
    assert.deepEqual(body.rows[0], [T("integer"), I(2), T('{"a":1}'), I(1), T("real")]);
    // Numbered parameters keep their numbers.
    const numbered = ok(await sql("SELECT ?2 AS b, ?1 AS a, typeof(?2) AS t", [T("a"), I(2)]));
    assert.deepEqual(numbered.rows[0], [I(2), T("a"), T("integer")]);
  });

  test("bool is stored as INTEGER 1/0", async () => {
    for (const [v, n] of [[true, 1], [false, 0]]) {
      const body = ok(await sql("INSERT INTO vals (x) VALUES (?) RETURNING id, x, typeof(x) AS t", [BOOL(v)]));
      assert.deepEqual(body.rows[0].slice(1), [I(n), T("integer")]);
      const id = Number(body.rows[0][0].value);
      assert.equal(await w.db.prepare("SELECT x FROM vals WHERE id = ?").bind(id).first("x"), n);
    }
  });
});

describe("results", () => {
  test("changes and last_insert_rowid", async () => {
    const ins = ok(await sql("INSERT INTO users (email, active) VALUES ('c1@x', 1), ('c2@x', 1), ('c3@x', 0)"));
    assert.equal(ins.changes, 3);
    assert.deepEqual(ins.columns, []);
    const maxId = await w.db.prepare("SELECT max(id) AS m FROM users").first("m");
    assert.equal(ins.last_insert_rowid, String(maxId));

    assert.equal(ok(await sql("UPDATE users SET active = 0 WHERE email IN ('c1@x', 'c2@x')")).changes, 2);
    assert.equal(ok(await sql("UPDATE users SET active = 0 WHERE email = 'nobody'")).changes, 0);
    const sel = ok(await sql("SELECT count(*) AS n FROM users WHERE email LIKE 'c_@x'"));
    assert.equal(sel.changes, 0, "a SELECT after writes reports no changes");
    assert.equal(sel.last_insert_rowid, null);
    assert.deepEqual(sel.rows, [[I(3)]]);

    const ret = ok(await sql("UPDATE users SET active = 1 WHERE email LIKE 'c_@x' RETURNING email"));
    assert.equal(ret.changes, 3);
    assert.equal(ret.rows.length, 3);
    assert.equal(ok(await sql("DELETE FROM users WHERE email = 'c3@x'")).changes, 1);
  });

  test("same-named columns stay apart; empty results keep their columns", async () => {
    const dup = ok(await sql("SELECT 1 AS x, 2 AS x, 3 AS \"10\""));
    assert.deepEqual(dup.columns, ["x", "x", "10"]);
    assert.deepEqual(dup.rows, [[I(1), I(2), I(3)]]);
    const empty = ok(await sql("SELECT id, email FROM users WHERE 0"));
    assert.deepEqual(empty.columns, ["id", "email"]);
    assert.deepEqual(empty.rows, []);
  });

  test("SQL with several statements runs whole and returns the last result (as D1 does)", async () => {
    const body = ok(await sql("INSERT INTO vals (s) VALUES ('multi'); SELECT s FROM vals WHERE s = 'multi'"));
    assert.deepEqual(body.rows, [[T("multi")]]);
  });

  test("100 parameters pass, 101 are refused before sending", async () => {
    const marks = (n) => Array.from({ length: n }, () => "?").join(", ");
    const params = (n) => Array.from({ length: n }, (_, i) => I(i));
    const body = ok(await sql(`SELECT ${marks(100)}`, params(100)));
    assert.equal(body.columns.length, 100);
    assert.deepEqual(body.rows[0][99], I(99));
    assert.match(fails(await sql(`SELECT ${marks(101)}`, params(101)), 400, "limit"), /101 bound parameters/);
  });
});

describe("errors keep SQLite's message and are classified", () => {
  before(async () => {
    await w.db.prepare("INSERT INTO users (id, email) VALUES (1000, 'taken@x')").run();
  });

  test("UNIQUE violation from a run-style write", async () => {
    const message = fails(await sql("INSERT INTO users (email) VALUES (?)", [T("taken@x")]), 409, "unique");
    assert.match(message, /UNIQUE constraint failed: users\.email/);
    assert.doesNotMatch(message, /D1_ERROR/);
  });

  test("UNIQUE violation from a rows-returning (raw) statement", async () => {
    const message = fails(
      await sql("INSERT INTO users (email) VALUES (?) RETURNING id", [T("taken@x")]),
      409,
      "unique",
    );
    assert.match(message, /UNIQUE constraint failed: users\.email/);
  });

  test("PRIMARY KEY and UNIQUE violations inside a batch", async () => {
    const message = fails(await batch([{ sql: "INSERT INTO users (id, email) VALUES (1000, 'other@x')" }]), 409, "unique");
    assert.match(message, /UNIQUE constraint failed: users\.id/);
  });

  test("FOREIGN KEY, NOT NULL, CHECK, syntax", async () => {
    assert.match(
      fails(await sql("INSERT INTO posts (user_id, title) VALUES (?, 't')", [I(999)]), 409, "foreign_key"),
      /FOREIGN KEY constraint failed/,
    );
    assert.match(
      fails(await sql("INSERT INTO users (email) VALUES (?)", [NULL]), 409, "constraint"),
      /NOT NULL constraint failed: users\.email/,
    );
    assert.match(
      fails(await sql("INSERT INTO posts (user_id, title) VALUES (1000, '')"), 409, "constraint"),
      /CHECK constraint failed/,
    );
    assert.match(fails(await sql("SELEC 1"), 500, "database"), /near "SELEC": syntax error/);
    assert.match(fails(await sql("SELECT * FROM nope"), 500, "database"), /no such table: nope/);
    assert.match(
      fails(await sql("SELECT ?, ?", [I(1)]), 500, "database"),
      /Wrong number of parameter bindings/,
    );
  });

  test("worker's own D1Database::prepare does not fail on invalid SQL: D1 reports it on run", async () => {
    const body = ok(await post("/_backend/probe/worker_prepare", { sql: "THIS IS NOT SQL" }));
    assert.equal(body.prepared, true);
    assert.equal(body.ran, false);
    assert.match(body.error, /D1_ERROR: near "THIS": syntax error/);
  });
});

describe("batch", () => {
  test("is atomic: a failing second statement rolls back the first", async () => {
    const res = await batch([
      { sql: "INSERT INTO users (email) VALUES (?)", params: [T("rolled-back@x")] },
      { sql: "INSERT INTO users (email) VALUES (?)", params: [T("taken@x")] },
    ]);
    assert.match(fails(res, 409, "unique"), /UNIQUE constraint failed: users\.email/);
    assert.equal(await count("users", "email = 'rolled-back@x'"), 0);
  });

  test("returns one result per statement", async () => {
    const body = ok(
      await batch([
        { sql: "INSERT INTO users (email) VALUES (?) RETURNING email", params: [T("b1@x")] },
        { sql: "INSERT INTO users (email) VALUES (?), (?)", params: [T("b2@x"), T("b3@x")] },
        { sql: "UPDATE users SET active = ? WHERE email LIKE 'b_@x'", params: [BOOL(true)] },
        { sql: "SELECT email, active FROM users WHERE email LIKE 'b_@x' ORDER BY email" },
        { sql: "SELECT id FROM users WHERE 0" },
      ]),
    );
    const [ret, ins, upd, sel, none] = body.results;
    assert.deepEqual(ret.rows, [[T("b1@x")]]);
    assert.equal(ret.changes, 1);
    assert.equal(ins.changes, 2);
    const maxId = await w.db.prepare("SELECT max(id) AS m FROM users").first("m");
    assert.equal(ins.last_insert_rowid, String(maxId));
    assert.equal(upd.changes, 3);
    assert.deepEqual(sel.columns, ["email", "active"]);
    assert.deepEqual(sel.rows, [[T("b1@x"), I(1)], [T("b2@x"), I(1)], [T("b3@x"), I(1)]]);
    assert.equal(sel.changes, 0);
    // D1's batch() returns rows as objects: an empty result has no column names.
    assert.deepEqual(none, { columns: [], rows: [], changes: 0, last_insert_rowid: null });
  });

  test("D1 limitation: batch rows are keyed by column name, so same-named columns merge", async () => {
    const body = ok(await batch([{ sql: "SELECT 1 AS x, 2 AS x, 'a' AS y" }]));
    assert.deepEqual(body.results[0].columns, ["x", "y"]);
    assert.deepEqual(body.results[0].rows, [[I(2), T("a")]]);
  });
});

describe("sessions", () => {
  test("a session reports a bookmark, and a session from it sees the write", async () => {
    const first = ok(
      await post("/_backend/session", {
        constraint: "first-primary",
        statements: [{ sql: "INSERT INTO users (email) VALUES (?)", params: [T("session@x")] }],
      }),
    );
    assert.equal(first.in_a_session, true);
    assert.equal(first.bookmark_before, null);
    assert.equal(typeof first.bookmark, "string");
    assert.ok(first.bookmark.length > 0);

    const next = ok(
      await post("/_backend/session", {
        bookmark: first.bookmark,
        statements: [{ sql: "SELECT email FROM users WHERE email = ?", params: [T("session@x")] }],
      }),
    );
    assert.deepEqual(next.results[0].rows, [[T("session@x")]]);
    assert.ok(next.bookmark >= first.bookmark, `${next.bookmark} < ${first.bookmark}`);
  });

  test("an unconstrained session works too", async () => {
    const body = ok(await post("/_backend/session", { statements: [{ sql: "SELECT 1 AS one" }] }));
    assert.deepEqual(body.results[0].rows, [[I(1)]]);
    assert.equal(typeof body.bookmark, "string");
  });
});
