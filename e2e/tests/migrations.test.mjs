// wrangler and Sonic agree on what is applied: `wrangler d1 migrations apply --local` (which
// the harness runs for every fresh state) records each file of the Worker's migrations
// directory by its file name, in `d1_migrations` with the columns below — the record that
// Sonic's native `Migrations::apply` writes (sonic-core/tests/migrate_apply.rs checks the same
// columns), so either tool sees the other's migrations as applied.
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { paths, startWorker } from "../harness.mjs";

test("wrangler records each migration file by name in d1_migrations, as Sonic does", async () => {
  const w = await startWorker();
  try {
    const files = (await readdir(path.join(paths.workerDir, "migrations")))
      .filter((name) => name.endsWith(".sql"))
      .sort();
    assert.ok(files.length > 0, "the Worker has migration files");
    const { results } = await w.db.prepare("SELECT name FROM d1_migrations ORDER BY id").all();
    assert.deepEqual(
      results.map((row) => row.name),
      files,
    );
    const columns = await w.db
      .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('d1_migrations')")
      .all();
    assert.deepEqual(columns.results, [
      { name: "id", type: "INTEGER", notnull: 0, dflt_value: null, pk: 1 },
      { name: "name", type: "TEXT", notnull: 0, dflt_value: null, pk: 0 },
      { name: "applied_at", type: "TIMESTAMP", notnull: 1, dflt_value: "CURRENT_TIMESTAMP", pk: 0 },
    ]);
  } finally {
    await w.stop();
  }
});
