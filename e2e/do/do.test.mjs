// Sonic on Durable Object SQLite (examples/do-worker, sonic-db-do) on workerd: the conformance
// suite passes inside an object; a batch is a real transaction (all or nothing); two objects
// have two databases and two cache namespaces.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../harness.mjs";

let w;
before(async () => {
  w = await startWorker({ vars: { SONIC_TEST_ROUTES: "1" } });
});
after(async () => {
  await w?.stop();
});

test("the conformance suite passes on Durable Object SQLite + Workers KV", async () => {
  const res = await w.json("/do/conformance/_conformance", { method: "POST", body: "{}" });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const failed = res.body.scenarios
    .filter((s) => !s.passed)
    .map((s) => `  FAIL ${s.name}: ${(s.message ?? "").slice(0, 2000)}`);
  assert.deepEqual(failed, [], `${res.body.backend}:\n${failed.join("\n")}`);
  assert.ok(res.body.passed >= 40, `${res.body.passed} scenarios passed`);
});

test("the conformance suite passes in the Worker on an object's database through its stub", async () => {
  const res = await w.json("/remote/_conformance", { method: "POST", body: "{}" });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const failed = res.body.scenarios
    .filter((s) => !s.passed)
    .map((s) => `  FAIL ${s.name}: ${(s.message ?? "").slice(0, 2000)}`);
  assert.deepEqual(failed, [], `${res.body.backend}:\n${failed.join("\n")}`);
  assert.ok(res.body.passed >= 40, `${res.body.passed} scenarios passed`);
});

test("a batch and a Db::transaction are all or nothing, and each object has its own database", async () => {
  const res = await w.json("/do/tenant-a/_transaction", { method: "POST" });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.match(res.body.error, /UNIQUE/, "the failing statement's error");
  assert.equal(res.body.after_failure, 0, "the failed batch left no row");
  assert.equal(res.body.after_success, 2);
  // Db::transaction in the object (transactionSync): all or nothing under an error midway.
  const tx = res.body.interactive;
  assert.equal(tx.given_up, "invalid query: given up midway", "the body's own error, unchanged");
  assert.equal(tx.after_given_up, 2, "a write and a batch before the error were undone");
  assert.match(tx.failed, /UNIQUE/);
  assert.equal(tx.after_failed, 2, "a failing statement undid the body's earlier write");
  assert.match(tx.batch_error, /UNIQUE/);
  assert.equal(tx.after_partial, 4, "a failed batch inside undid only itself: a, b, c, e");
  const other = await w.json("/do/tenant-b/_count");
  assert.deepEqual(other.body, { count: 0 }, "another object does not see tenant-a's rows");
  const same = await w.json("/do/tenant-a/_count");
  assert.deepEqual(same.body, { count: 4 });
});

test("without SONIC_TEST_ROUTES nothing is served", async () => {
  const plain = await startWorker({ vars: { SONIC_TEST_ROUTES: "0" } });
  try {
    const res = await plain.json("/do/tenant-a/_count");
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: "not found" });
  } finally {
    await plain.stop();
  }
});
