// The entry module of every benchmarked Worker (benches/workers/bench.mjs copies it next to the
// Worker's build/index.js): it hands the Worker its D1 and KV bindings wrapped in counters, so
// that D1 round trips and KV operations are counted the same way for the three Workers, and
// answers `GET /__bench/counts` with the counts since the previous such request (then resets
// them). The wrappers only count and forward: one D1 round trip per first/all/run/raw/batch/exec
// call, one KV operation per get (a bulk get of several keys is one), put, delete, list.
import * as inner from "./index.js";

const counts = { d1: 0, kvGet: 0, kvPut: 0, kvDelete: 0, kvList: 0 };

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
    return column === undefined ? this.real.first() : this.real.first(column);
  }
  all() {
    counts.d1++;
    return this.real.all();
  }
  run() {
    counts.d1++;
    return this.real.run();
  }
  raw(options) {
    counts.d1++;
    return this.real.raw(options);
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
    return this.real.batch(statements.map((s) => (s instanceof D1PreparedStatement ? s.real : s)));
  }
  exec(sql) {
    counts.d1++;
    return this.real.exec(sql);
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
    return this.real.get(key, options);
  }
  getWithMetadata(key, options) {
    counts.kvGet++;
    return this.real.getWithMetadata(key, options);
  }
  put(key, value, options) {
    counts.kvPut++;
    return this.real.put(key, value, options);
  }
  delete(key) {
    counts.kvDelete++;
    return this.real.delete(key);
  }
  list(options) {
    counts.kvList++;
    return this.real.list(options);
  }
}

let wrapped;
function wrapEnv(env) {
  // The bindings are the same objects for every request of the isolate: wrap them once.
  wrapped ??= { ...env, DB: new D1Database(env.DB), KV: new KvNamespace(env.KV) };
  return wrapped;
}

const target = inner.default;

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/counts") {
      const body = JSON.stringify(counts);
      for (const k of Object.keys(counts)) counts[k] = 0;
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    const benchEnv = wrapEnv(env);
    if (typeof target === "function") {
      // A WorkerEntrypoint class (worker-build's entry): one instance per request, as workerd does.
      return new target(ctx, benchEnv).fetch(request);
    }
    return target.fetch(request, benchEnv, ctx);
  },
};
