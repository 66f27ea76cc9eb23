// The state RPC worker: a second, JavaScript Worker in the Miniflare instance of the Worker
// under test (see harness.mjs), bound to the SAME D1 databases and KV namespaces (same ids in
// the same instance = the same Durable Object behind each, on the same persist dir). Tests read
// and write that state through it over plain HTTP on its own 127.0.0.1 port
// (state-rpc/client.mjs), never through Miniflare's synchronous binding proxies.
//
// POST /rpc, body: a call encoded with codec.mjs; reply 200, body encode({ ok: true, value })
// or encode({ ok: false, error }) with the runtime's own error (name, message, cause).
//
//   { op: "d1.statement", binding, sql, params, method: "first"|"all"|"run"|"raw", arg? }
//       prepare(sql)[.bind(...params)][method](arg)
//   { op: "d1.batch", binding, statements: [{ sql, params }, …] }
//   { op: "d1.exec", binding, sql }
//   { op: "kv.get" | "kv.getWithMetadata" | "kv.put" | "kv.list" | "kv.delete", binding, args }
//       env[binding][method](...args)

import { decode, encode } from "./codec.mjs";

const KV_METHODS = new Set(["get", "getWithMetadata", "put", "list", "delete"]);
const D1_METHODS = new Set(["first", "all", "run", "raw"]);

function binding(env, name, kind) {
  const b = env[name];
  const ok = kind === "D1" ? typeof b?.prepare === "function" : typeof b?.getWithMetadata === "function";
  if (!ok) throw new Error(`state RPC: no ${kind} binding ${JSON.stringify(name)}`);
  return b;
}

function statement(db, { sql, params }) {
  const s = db.prepare(sql);
  return params.length > 0 ? s.bind(...params) : s;
}

async function dispatch(env, call) {
  switch (call.op) {
    case "d1.statement": {
      if (!D1_METHODS.has(call.method)) throw new Error(`state RPC: unknown D1 method ${call.method}`);
      const s = statement(binding(env, call.binding, "D1"), call);
      return call.arg === undefined ? s[call.method]() : s[call.method](call.arg);
    }
    case "d1.batch": {
      const db = binding(env, call.binding, "D1");
      return db.batch(call.statements.map((s) => statement(db, s)));
    }
    case "d1.exec":
      return binding(env, call.binding, "D1").exec(call.sql);
    default: {
      const method = call.op?.startsWith("kv.") ? call.op.slice(3) : undefined;
      if (!KV_METHODS.has(method)) throw new Error(`state RPC: unknown operation ${call.op}`);
      const kv = binding(env, call.binding, "KV");
      return kv[method](...call.args);
    }
  }
}

export default {
  async fetch(request, env) {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/rpc") {
      return new Response("state RPC: POST /rpc\n", { status: 404 });
    }
    let body;
    try {
      body = encode({ ok: true, value: await dispatch(env, decode(await request.json())) });
    } catch (error) {
      body = encode({ ok: false, error });
    }
    return Response.json(body);
  },
};
