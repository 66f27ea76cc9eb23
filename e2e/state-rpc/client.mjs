// Node side of the state RPC (see worker.mjs): `w.db` and `w.kv` of the harness. Async clients
// with the subset of the D1Database / KVNamespace API the tests use, each call one HTTP request
// to the state worker on 127.0.0.1. Results are what the runtime returned (see codec.mjs);
// errors reject with the runtime's name and message, and a stack that points at the caller.
//
//   D1: prepare(sql) → statement; statement.bind(...values) → new statement;
//       statement.first(column?) / all() / run() / raw(options?); batch(statements); exec(sql)
//   KV: get(key | keys, type | options?), getWithMetadata(key, type | options?),
//       put(key, value, options?), list(options?), delete(key)
//
// Differences from the bindings: bind() checks its values when the statement runs (the runtime
// rejects then, with its own message), not at once; a "stream" value is read whole first.

import http from "node:http";
import { decode, encode } from "./codec.mjs";

/**
 * `call(request) → Promise<value>` against the state worker at `baseUrl` (http://127.0.0.1:port).
 * One connection per call (no keep-alive: no pooled socket can be closed under a request).
 */
export function rpc(baseUrl) {
  const url = new URL("/rpc", baseUrl);
  return async function call(request) {
    const site = new Error(); // the caller's stack, captured before the first await
    const body = JSON.stringify(encode(request));
    const { status, text } = await post(url, body);
    let reply;
    try {
      reply = decode(JSON.parse(text));
    } catch {
      /* not a reply of the state worker: reported below */
    }
    if (status !== 200 || typeof reply?.ok !== "boolean") {
      throw new Error(`state RPC ${request.op}: HTTP ${status}: ${text.slice(0, 500)}`);
    }
    if (reply.ok) return reply.value;
    const error = reply.error instanceof Error ? reply.error : new Error(String(reply.error));
    const frames = site.stack.split("\n").slice(1).filter((f) => !f.includes(import.meta.url));
    error.stack = [`${error.name}: ${error.message}`, ...frames].join("\n");
    throw error;
  };
}

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

// ---- D1 -------------------------------------------------------------------------------------

const statementSource = new WeakMap(); // statement client → { sql, params }

class D1PreparedStatementClient {
  #call;
  #binding;
  #sql;
  #params;

  constructor(call, binding, sql, params) {
    this.#call = call;
    this.#binding = binding;
    this.#sql = sql;
    this.#params = params;
    statementSource.set(this, { sql, params });
  }

  bind(...params) {
    return new D1PreparedStatementClient(this.#call, this.#binding, this.#sql, params);
  }

  first(column) {
    return this.#run("first", column);
  }

  all() {
    return this.#run("all");
  }

  run() {
    return this.#run("run");
  }

  raw(options) {
    return this.#run("raw", options);
  }

  #run(method, arg) {
    return this.#call({ op: "d1.statement", binding: this.#binding, sql: this.#sql, params: this.#params, method, arg });
  }
}

class D1DatabaseClient {
  #call;
  #binding;

  constructor(call, binding) {
    this.#call = call;
    this.#binding = binding;
  }

  prepare(sql) {
    return new D1PreparedStatementClient(this.#call, this.#binding, String(sql), []);
  }

  async batch(statements) {
    const sources = [...statements].map((s, i) => {
      const source = statementSource.get(s);
      if (!source) throw new TypeError(`batch: statement ${i} was not made by this client's prepare()`);
      return source;
    });
    return this.#call({ op: "d1.batch", binding: this.#binding, statements: sources });
  }

  exec(sql) {
    return this.#call({ op: "d1.exec", binding: this.#binding, sql: String(sql) });
  }
}

/** D1Database-like client of binding `binding` over `call` (from `rpc`). */
export function d1Client(call, binding) {
  return new D1DatabaseClient(call, binding);
}

// ---- KV -------------------------------------------------------------------------------------

/** `type` or `{ type }` asking for a stream, rewritten to "arrayBuffer"; null if not a stream. */
function streamAsBuffer(typeOrOptions) {
  if (typeOrOptions === "stream") return "arrayBuffer";
  if (typeOrOptions?.type === "stream") return { ...typeOrOptions, type: "arrayBuffer" };
  return null;
}

const toStream = (buffer) => (buffer === null ? null : new Blob([buffer]).stream());

class KVNamespaceClient {
  #call;
  #binding;

  constructor(call, binding) {
    this.#call = call;
    this.#binding = binding;
  }

  #op(method, args) {
    return this.#call({ op: `kv.${method}`, binding: this.#binding, args });
  }

  async get(...args) {
    const asBuffer = Array.isArray(args[0]) ? null : streamAsBuffer(args[1]);
    if (asBuffer === null) return this.#op("get", args);
    return toStream(await this.#op("get", [args[0], asBuffer, ...args.slice(2)]));
  }

  async getWithMetadata(...args) {
    const asBuffer = Array.isArray(args[0]) ? null : streamAsBuffer(args[1]);
    if (asBuffer === null) return this.#op("getWithMetadata", args);
    const result = await this.#op("getWithMetadata", [args[0], asBuffer, ...args.slice(2)]);
    return { ...result, value: toStream(result.value) };
  }

  async put(key, value, ...rest) {
    // streams and blobs are sent as their bytes
    if (value instanceof ReadableStream || value instanceof Blob) value = await new Response(value).arrayBuffer();
    return this.#op("put", [key, value, ...rest]);
  }

  list(...args) {
    return this.#op("list", args);
  }

  delete(...args) {
    return this.#op("delete", args);
  }
}

/** KVNamespace-like client of binding `binding` over `call` (from `rpc`). */
export function kvClient(call, binding) {
  return new KVNamespaceClient(call, binding);
}
