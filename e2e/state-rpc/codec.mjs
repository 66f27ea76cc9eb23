// The wire format of the state RPC (state-rpc/worker.mjs ⇄ state-rpc/client.mjs): JSON, with
// the values JSON cannot carry tagged, so that what the runtime returns reaches the test
// exactly (node:assert's deepStrictEqual tells `{ a: undefined }` from `{}`, and an
// ArrayBuffer from an array of numbers).
//
//   { "$": "undefined" }                       undefined (also as an object property)
//   { "$": "number", "v": "NaN" }              NaN, ±Infinity, -0
//   { "$": "bigint", "v": "123" }
//   { "$": "bytes", "type": "ArrayBuffer" | "Uint8Array" | … | "DataView", "b64": "…" }
//   { "$": "date", "v": "<ISO 8601>" }
//   { "$": "map", "v": [[key, value], …] }     (KV's bulk get returns a Map)
//   { "$": "error", "name", "message", "cause"? }
//   { "$": "object", "v": { … } }              a plain object that has a "$" key itself
//
// Plain JavaScript only (btoa/atob, typed arrays): the same module runs in Node and in workerd.

const TAG = "$";

const VIEWS = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(b64) {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

function viewName(view) {
  if (view instanceof DataView) return "DataView";
  for (const [name, ctor] of Object.entries(VIEWS)) {
    if (view instanceof ctor) return name; // Node's Buffer is a Uint8Array
  }
  return "Uint8Array";
}

/** A JSON-safe tree for `value`. */
export function encode(value) {
  switch (typeof value) {
    case "undefined":
      return { [TAG]: "undefined" };
    case "boolean":
    case "string":
      return value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { [TAG]: "number", v: String(value) };
    case "bigint":
      return { [TAG]: "bigint", v: value.toString() };
    case "function":
    case "symbol":
      throw new TypeError(`state RPC: cannot send a ${typeof value}`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) return Array.from(value, encode);
  if (value instanceof ArrayBuffer) {
    return { [TAG]: "bytes", type: "ArrayBuffer", b64: toBase64(new Uint8Array(value)) };
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { [TAG]: "bytes", type: viewName(value), b64: toBase64(bytes) };
  }
  if (value instanceof Date) return { [TAG]: "date", v: value.toISOString() };
  if (value instanceof Map) return { [TAG]: "map", v: [...value].map(([k, v]) => [encode(k), encode(v)]) };
  if (value instanceof Error) {
    const e = { [TAG]: "error", name: value.name, message: value.message };
    if ("cause" in value) e.cause = encode(value.cause);
    return e;
  }
  // fromEntries defines own properties: a "__proto__" key stays a key
  const out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return Object.hasOwn(out, TAG) ? { [TAG]: "object", v: out } : out;
}

/** The value `encode` was given (errors come back as Error objects with name and message). */
export function decode(tree) {
  if (tree === null || typeof tree !== "object") return tree;
  if (Array.isArray(tree)) return tree.map(decode);
  switch (tree[TAG]) {
    case undefined:
      return decodeObject(tree);
    case "object":
      return decodeObject(tree.v);
    case "undefined":
      return undefined;
    case "number":
      return Number(tree.v);
    case "bigint":
      return BigInt(tree.v);
    case "bytes": {
      const bytes = fromBase64(tree.b64);
      if (tree.type === "ArrayBuffer") return bytes.buffer;
      if (tree.type === "DataView") return new DataView(bytes.buffer);
      const View = VIEWS[tree.type] ?? Uint8Array;
      return new View(bytes.buffer, 0, bytes.byteLength / View.BYTES_PER_ELEMENT);
    }
    case "date":
      return new Date(tree.v);
    case "map":
      return new Map(tree.v.map(([k, v]) => [decode(k), decode(v)]));
    case "error": {
      const e = "cause" in tree ? new Error(tree.message, { cause: decode(tree.cause) }) : new Error(tree.message);
      if (tree.name !== "Error") {
        Object.defineProperty(e, "name", { value: tree.name, writable: true, configurable: true });
      }
      return e;
    }
    default:
      throw new TypeError(`state RPC: unknown tag ${JSON.stringify(tree[TAG])}`);
  }
}

function decodeObject(tree) {
  return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, decode(v)]));
}
