// Every kind of schema change, applied by real `wrangler d1 migrations apply --local` to a
// database holding rows: the files in e2e/fixtures/migration-changes/migrations are the ones
// Sonic generated in sonic-core/tests/migrate_changes.rs (which checks they are current and
// applies them natively with the same rows and the same expectations). One file at a time,
// rows inserted between files, rows checked at the end.
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { paths, quietEnv } from "../harness.mjs";
import { spawnSync } from "node:child_process";

const fixture = path.join(paths.e2e, "fixtures", "migration-changes", "migrations");

function wrangler(cwd, args) {
  const r = spawnSync(paths.wranglerBin, args, { cwd, env: quietEnv, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Runs wrangler once per migration step: slower than the run-wide default timeout on a busy machine.
test("wrangler applies Sonic's renames and table rebuilds keeping the rows", { timeout: 240_000 }, async () => {
  const root = await mkdtemp(path.join(process.env.SONIC_E2E_STATE_ROOT ?? tmpdir(), "sonic-mig-"));
  try {
    const migrationsDir = path.join(root, "migrations");
    await mkdir(migrationsDir);
    await writeFile(
      path.join(root, "wrangler.toml"),
      [
        'name = "sonic-migration-changes"',
        'compatibility_date = "2026-04-20"',
        "[[d1_databases]]",
        'binding = "DB"',
        'database_name = "changes"',
        'database_id = "00000000-0000-4000-8000-00000000c4a6"',
        'migrations_dir = "migrations"',
        "",
      ].join("\n"),
    );
    const persist = path.join(root, "state");
    const apply = () => wrangler(root, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist]);
    const sql = (command) =>
      JSON.parse(wrangler(root, ["d1", "execute", "DB", "--local", "--persist-to", persist, "--json", "--command", command]))[0]
        .results;
    const files = (await readdir(fixture)).filter((f) => f.endsWith(".sql")).sort();
    assert.equal(files.length, 5);
    // Rows inserted after a file, as the native test does.
    const rowsAfter = {
      "0001_init.sql":
        "INSERT INTO authors VALUES ('a1', 'Ann', 'ann@x'), ('a2', NULL, 'bob@x'); " +
        "INSERT INTO books VALUES ('b1', 'Dune', 'a1', '4.5'), ('b2', 'Emma', 'a2', NULL); " +
        "INSERT INTO tags VALUES ('t1', 'classic');",
      "0002_reviews.sql": "INSERT INTO reviews VALUES ('r1', 'b1', 'great');",
    };
    for (const file of files) {
      await cp(path.join(fixture, file), path.join(migrationsDir, file));
      apply();
      if (rowsAfter[file]) sql(rowsAfter[file]);
      if (file.startsWith("0004")) {
        // After the rebuilds of authors (NOT NULL name) and books (REAL rating): the books
        // that cascade from authors are kept, NULL names took the default.
        assert.deepEqual(sql("SELECT id, name, email FROM authors ORDER BY id"), [
          { id: "a1", name: "Ann", email: "ann@x" },
          { id: "a2", name: "anonymous", email: "bob@x" },
        ]);
        assert.deepEqual(sql("SELECT id, name, author_id, rating, typeof(rating) AS t FROM books ORDER BY id"), [
          { id: "b1", name: "Dune", author_id: "a1", rating: 4.5, t: "real" },
          { id: "b2", name: "Emma", author_id: "a2", rating: null, t: "null" },
        ]);
        assert.deepEqual(sql("SELECT id, label FROM labels"), [{ id: "t1", label: "classic" }]);
        sql("DELETE FROM authors WHERE id = 'a2'"); // the cascade still works
      }
    }
    assert.deepEqual(sql("SELECT id, name FROM authors ORDER BY id"), [{ id: "a1", name: "Ann" }]);
    assert.deepEqual(sql("SELECT id, author_id FROM books ORDER BY id"), [{ id: "b1", author_id: "a1" }]);
    assert.deepEqual(sql("SELECT id, text FROM reviews"), [{ id: "r1", text: "great" }]);
    assert.deepEqual(
      sql("SELECT name FROM pragma_index_list('books') WHERE origin = 'c' ORDER BY name"),
      [{ name: "books_author_id_idx" }],
    );
    assert.deepEqual(
      sql("SELECT name FROM d1_migrations ORDER BY id").map((r) => r.name),
      files,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
