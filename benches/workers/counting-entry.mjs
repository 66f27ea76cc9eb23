// The entry module of every benchmarked Worker (benches/workers/bench.mjs copies it next to the
// Worker's build/index.js): it hands the Worker its D1 and KV bindings wrapped in counters, so
// that D1 round trips and KV operations are counted the same way for the three Workers, and
// answers `GET /__bench/counts` with the counts since the previous such request (then resets
// them). The wrappers only count and forward: one D1 round trip per first/all/run/raw/batch/exec
// call, one KV operation per get (a bulk get of several keys is one), put, delete, list.
//
// `POST /__bench/record` (bench.mjs --replay) serves one request for real while recording what
// every D1 and KV call answered; each `POST /__bench/replay` then serves it again `n` times in
// this isolate with those answers replayed: no I/O and no other isolate runs meanwhile, so V8's
// profiler, and the process's CPU time, see only the Worker's own work (and the bindings'
// JavaScript that needs no I/O: `prepare`, `bind`).
import * as inner from "./index.js";

const counts = { d1: 0, kvGet: 0, kvPut: 0, kvDelete: 0, kvList: 0 };

// What a binding call does: "count" forwards (the default), "record" forwards and keeps each
// answer in `tape`, "replay" answers from `tape` in order without calling the real binding.
let mode = "count";
let tape = [];
let cursor = 0;

function io(kind, call) {
  if (mode === "replay") {
    const entry = tape[cursor++];
    if (!entry || entry.kind !== kind) {
      throw new Error(`replay: call ${cursor} is ${kind}, the recording has ${entry?.kind ?? "nothing"}`);
    }
    return Promise.resolve(entry.answer);
  }
  const answer = call();
  if (mode === "record") {
    const entry = { kind, answer: undefined };
    tape.push(entry);
    return Promise.resolve(answer).then((value) => {
      entry.answer = value;
      return value;
    });
  }
  return answer;
}

// Named as the runtime's classes: the `worker` crate checks a D1 binding's constructor name.
class D1PreparedStatement {
  constructor(real) {
    this.real = real;
  }
  bind(...values) {
    return new D1PreparedStatement(this.real.bind(...values));
  }
  first(column) {
    counts.d1++;
    return io("d1.first", () => (column === undefined ? this.real.first() : this.real.first(column)));
  }
  all() {
    counts.d1++;
    return io("d1.all", () => this.real.all());
  }
  run() {
    counts.d1++;
    return io("d1.run", () => this.real.run());
  }
  raw(options) {
    counts.d1++;
    return io("d1.raw", () => this.real.raw(options));
  }
}

class D1Database {
  constructor(real) {
    this.real = real;
  }
  prepare(sql) {
    return new D1PreparedStatement(this.real.prepare(sql));
  }
  batch(statements) {
    counts.d1++;
    return io("d1.batch", () => this.real.batch(statements.map((s) => (s instanceof D1PreparedStatement ? s.real : s))));
  }
  exec(sql) {
    counts.d1++;
    return io("d1.exec", () => this.real.exec(sql));
  }
  dump() {
    return this.real.dump();
  }
}

class KvNamespace {
  constructor(real) {
    this.real = real;
  }
  get(key, options) {
    counts.kvGet++;
    return io("kv.get", () => this.real.get(key, options));
  }
  getWithMetadata(key, options) {
    counts.kvGet++;
    return io("kv.getWithMetadata", () => this.real.getWithMetadata(key, options));
  }
  put(key, value, options) {
    counts.kvPut++;
    return io("kv.put", () => this.real.put(key, value, options));
  }
  delete(key) {
    counts.kvDelete++;
    return io("kv.delete", () => this.real.delete(key));
  }
  list(options) {
    counts.kvList++;
    return io("kv.list", () => this.real.list(options));
  }
}

let wrapped;
function wrapEnv(env) {
  // The bindings are the same objects for every request of the isolate: wrap them once.
  wrapped ??= { ...env, DB: new D1Database(env.DB), KV: new KvNamespace(env.KV) };
  return wrapped;
}

const target = inner.default;

function serve(request, env, ctx) {
  if (typeof target === "function") {
    // A WorkerEntrypoint class (worker-build's entry): one instance per request, as workerd does.
    return new target(ctx, env).fetch(request);
  }
  return target.fetch(request, env, ctx);
}

// Serves `spec` ({ method, path, body }) once, its `waitUntil` work included; a status of 300 or
// more is an error, as in bench.mjs.
async function serveOnce(origin, spec, env) {
  const init = spec.body === undefined
    ? { method: spec.method }
    : { method: spec.method, headers: { "content-type": "application/json" }, body: spec.body };
  const deferred = [];
  const ctx = { waitUntil: (p) => deferred.push(p), passThroughOnException() {}, props: {} };
  const response = await serve(new Request(new URL(spec.path, origin), init), env, ctx);
  await response.arrayBuffer();
  await Promise.all(deferred);
  if (response.status >= 300) throw new Error(`${spec.method} ${spec.path}: ${response.status}`);
}

// The request last recorded (`POST /__bench/record`) and its binding calls' answers, replayed by
// `POST /__bench/replay` until the next recording.
let recorded = null;

// Serves `spec` once for real, keeping what every binding call answered.
async function record(origin, spec, env) {
  mode = "record";
  tape = [];
  recorded = null;
  try {
    await serveOnce(origin, spec, env);
    recorded = { spec, tape };
    return { calls: tape.map((e) => e.kind) };
  } finally {
    mode = "count";
    tape = [];
  }
}

// Serves the recorded request `n` times from its recording.
async function replay(origin, n, env) {
  if (!recorded) throw new Error("replay: nothing recorded");
  mode = "replay";
  tape = recorded.tape;
  try {
    for (let i = 0; i < n; i++) {
      cursor = 0;
      await serveOnce(origin, recorded.spec, env);
      if (cursor !== tape.length) throw new Error(`replay: ${cursor} of ${tape.length} recorded calls made`);
    }
    return { n, calls: tape.map((e) => e.kind) };
  } finally {
    mode = "count";
    tape = [];
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/counts") {
      const body = JSON.stringify(counts);
      for (const k of Object.keys(counts)) counts[k] = 0;
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    if (url.pathname === "/__bench/record" || url.pathname === "/__bench/replay") {
      try {
        const body = await request.json();
        const result = url.pathname === "/__bench/record"
          ? await record(url.origin, body, wrapEnv(env))
          : await replay(url.origin, body.n, wrapEnv(env));
        return Response.json(result);
      } catch (e) {
        return new Response(String(e?.stack ?? e), { status: 500 });
      }
    }
    return serve(request, wrapEnv(env), ctx);
  },
};
