// State handling of the harness: each Worker starts from a fresh migrated copy, and what the
// Worker writes lands where `wrangler d1 ... --local --persist-to <dir>` reads it.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { test } from "node:test";
import { asAdmin, paths, run, startWorker } from "../harness.mjs";

test("fresh state per Worker, shared on disk with wrangler --persist-to", async () => {
  const w = await startWorker({ keepState: true });
  try {
    const { results } = await w.db.prepare("SELECT count(*) AS n FROM users").all();
    assert.deepEqual(results, [{ n: 0 }], "starts from an empty, migrated database");

    const user = { id: "1", email: "written by the Worker", password: "p", role: "user" };
    const post = await w.json("/v1/users", asAdmin({ method: "POST", body: JSON.stringify(user) }));
    assert.equal(post.status, 201);
    await w.stop();

    const out = await run(paths.wranglerBin, [
      "d1", "execute", "DB", "--local", "--persist-to", w.persistDir,
      "--config", paths.wranglerConfig, "--json",
      "--command", "SELECT id, email FROM users ORDER BY id",
    ]);
    const parsed = JSON.parse(out.slice(out.indexOf("[")));
    assert.deepEqual(parsed[0].results, [{ id: "1", email: "written by the Worker" }]);
  } finally {
    await w.stop();
    await rm(w.persistDir, { recursive: true, force: true });
  }
});
