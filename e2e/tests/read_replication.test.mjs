// D1 sessions at the Db level (Db::session / Db::bookmark) in the example Worker: a client that
// sends `x-d1-bookmark` is served in a D1 session starting there and gets the session's latest
// bookmark back in the same header; sending it with the next request, the client reads its own
// write (on any replica, when D1 replicates). Without the header there is no session.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { asAdmin, startWorker } from "../harness.mjs";

const HEADER = "x-d1-bookmark";
let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.stop();
});

test("a client reads its own write through the bookmark round trip", async () => {
  const grace = { id: "rr-1", name: "Grace", email: "grace@rr.test", password: "hash", role: "user" };
  const created = await w.json(
    "/v1/users",
    asAdmin({ method: "POST", headers: { [HEADER]: "" }, body: JSON.stringify(grace) }),
  );
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const afterWrite = created.headers.get(HEADER);
  assert.ok(afterWrite, "the write's response carries the session's bookmark");

  const read = await w.json(`/v1/users/${grace.id}`, { headers: { [HEADER]: afterWrite } });
  assert.equal(read.status, 200, JSON.stringify(read.body));
  assert.equal(read.body.data.name, "Grace", "its own write, read in a session from its bookmark");
  const afterRead = read.headers.get(HEADER);
  assert.ok(afterRead, "a read returns the session's bookmark too");
  assert.ok(afterRead >= afterWrite, `${afterRead} < ${afterWrite}`);

  const updated = await w.json(
    `/v1/users/${grace.id}`,
    asAdmin({
      method: "PATCH",
      headers: { [HEADER]: afterRead },
      body: JSON.stringify({ name: "Grace H." }),
    }),
  );
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  const afterUpdate = updated.headers.get(HEADER);
  assert.ok(afterUpdate);
  assert.ok(afterUpdate >= afterRead, `bookmarks only move forward: ${afterUpdate} < ${afterRead}`);
  const again = await w.json(`/v1/users/${grace.id}`, { headers: { [HEADER]: afterUpdate } });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.data.name, "Grace H.");
});

test("without the header there is no session and no bookmark in the response", async () => {
  const res = await w.json("/v1/users?limit=1");
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get(HEADER), null);
});
