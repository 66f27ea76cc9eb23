// Migrations at object start (examples/do-worker, sonic_db_do::MigrationsAtStart): an object
// that starts empty applies the example's migration files (the ones wrangler applies to D1) and
// records them in its own d1_migrations; restarted, it applies nothing again and keeps its rows.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, test } from "node:test";
import { freshState, startWorker } from "../harness.mjs";

// The state outlives the first workerd: the second one restarts every object from it.
let persistDir;
let w;
const start = () => startWorker({ persistDir, vars: { SONIC_TEST_ROUTES: "1" } });
before(async () => {
  persistDir = await freshState();
  w = await start();
});
after(async () => {
  await w?.stop();
  if (persistDir) await rm(persistDir, { recursive: true, force: true });
});

test("an object applies the migration files when it starts, and not again after a restart", async () => {
  const first = await w.json("/do/migrated/_migrations");
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.error, null);
  assert.deepEqual(first.body.applied_at_start, ["0001_init.sql"], "a new object gets the files");
  assert.deepEqual(first.body.recorded, ["0001_init.sql"]);

  // Same instance: nothing more to apply, the record unchanged.
  const again = await w.json("/do/migrated/_migrations");
  assert.equal(again.body.instance, first.body.instance);
  assert.deepEqual(again.body.recorded, ["0001_init.sql"]);

  // The migrated schema is there: a row in the migration's `users` table.
  const insert = await w.json("/do/migrated/_users", { method: "POST" });
  assert.equal(insert.status, 200, JSON.stringify(insert.body));
  assert.deepEqual(insert.body, { count: 1 });

  // Restart: a new workerd on the same persisted state, so a new instance of the object.
  await w.stop();
  w = await start();

  const restarted = await w.json("/do/migrated/_migrations");
  assert.equal(restarted.status, 200, JSON.stringify(restarted.body));
  assert.notEqual(restarted.body.instance, first.body.instance, "a new instance started");
  assert.equal(restarted.body.error, null);
  assert.deepEqual(restarted.body.applied_at_start, [], "nothing applied twice");
  assert.deepEqual(restarted.body.recorded, ["0001_init.sql"]);
  const count = await w.json("/do/migrated/_users");
  assert.deepEqual(count.body, { count: 1 }, "the row written before the restart is kept");
});

test("a migration file that fails halfway leaves the object as it was, and is named", async () => {
  const res = await w.json("/do/broken/_migrate_broken", { method: "POST" });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.match(res.body.error, /migration 0002_broken\.sql failed, nothing of it was applied/);
  assert.match(res.body.error, /no_such_table/);
  assert.ok(res.body.users_columns.includes("email"), "0001_init.sql is applied");
  assert.equal(res.body.users_columns.includes("nickname"), false, "the ALTER before the failure was undone");
  assert.deepEqual(res.body.recorded, ["0001_init.sql"], "the failing file is not recorded");
});
