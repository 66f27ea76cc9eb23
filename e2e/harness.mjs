// Shared harness for the Sonic end-to-end tests.
//
// A test file does:
//
//   import { startWorker } from "../harness.mjs";
//   let w;
//   before(async () => { w = await startWorker(); });
//   after(async () => { await w?.stop(); });
//   test("...", async () => { const res = await w.fetch("/health"); ... });
//
// `startWorker()` serves the *built* Worker (examples/worker/build, made by scripts/e2e.sh)
// with Miniflare's JS API on 127.0.0.1 on a free port. Its D1/KV state lives in a persist
// directory laid out exactly like `wrangler ... --local --persist-to <dir>` (<dir>/v3/d1,
// <dir>/v3/kv), so migrations applied by `wrangler d1 migrations apply` are what the Worker sees.
// Tests read and write that D1/KV state through `handle.db` / `handle.kv`: async clients of a
// second, JavaScript Worker in the same Miniflare instance (state-rpc/worker.mjs) that is bound
// to the same databases and namespaces and listens on a 127.0.0.1 port of its own. Not through
// Miniflare's getD1Database()/getKVNamespace() proxies: their synchronous fetcher once handed a
// reply to the wrong request (an assertion in SynchronousFetcher.fetch, a flaky state.test.mjs).
// By default every call gets a fresh state dir: a copy of the migrated template named by
// $SONIC_E2E_TEMPLATE_STATE (prepared once by run.mjs), or, when a test file is run on its own,
// a new dir that the harness migrates itself with wrangler.
//
// Node 20 built-ins only, plus `miniflare` and `wrangler` from e2e/node_modules.

import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { cp, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Log, LogLevel, Miniflare } from "miniflare";
import { d1Client, kvClient, rpc } from "./state-rpc/client.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
// The Worker under test: examples/worker unless $SONIC_E2E_WORKER_DIR names another one
// (relative to the repository root, e.g. examples/starter-worker for scripts/starter-worker.sh).
const workerDir = path.resolve(here, "..", process.env.SONIC_E2E_WORKER_DIR || "examples/worker");
// The suite's own settings on top of wrangler.toml's [vars]: the example Worker's test routes
// are served in these runs only (its wrangler.toml, the deployable one, leaves them off; the
// build needs the cargo feature `test-routes`, which scripts/e2e.sh turns on).
// Its admin's bearer token (the Worker secret ADMIN_TOKEN) too: the suite writes through
// `asAdmin`.
/** The example Worker's admin token in these runs (its secret `ADMIN_TOKEN`). */
export const ADMIN_TOKEN = "e2e-admin-token-0123456789";
const suiteVars =
  path.relative(path.resolve(here, ".."), workerDir) === path.join("examples", "worker")
    ? { SONIC_TEST_ROUTES: "1", ADMIN_TOKEN }
    : {};

/**
 * `init` of a fetch as the example Worker's admin (who alone may write), with a JSON body:
 * `w.json("/v1/users", asAdmin({ method: "POST", body }))`.
 */
export function asAdmin(init = {}) {
  return {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(init.headers ?? {}),
      authorization: `Bearer ${ADMIN_TOKEN}`,
    },
  };
}

export const paths = {
  e2e: here,
  stateRpc: path.join(here, "state-rpc"),
  repo: path.resolve(here, ".."),
  workerDir,
  wranglerConfig: path.join(workerDir, "wrangler.toml"),
  wranglerBin: path.resolve(here, "node_modules/.bin/wrangler"),
};

/** Environment for every wrangler/miniflare child: offline, no telemetry. */
export const quietEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

let configPromise;
/** The wrangler config (examples/worker/wrangler.toml) as wrangler itself reads it. */
export function loadConfig() {
  configPromise ??= (async () => {
    const { unstable_readConfig } = await import("wrangler");
    const c = unstable_readConfig({ config: paths.wranglerConfig });
    const d1 = Object.fromEntries(
      c.d1_databases.map((d) => [d.binding, d.preview_database_id ?? d.database_id]),
    );
    const kv = Object.fromEntries(c.kv_namespaces.map((k) => [k.binding, k.preview_id ?? k.id]));
    // Durable Objects of this Worker's own classes; SQLite-backed when a migration says so.
    const sqliteClasses = new Set((c.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
    const durableObjects = Object.fromEntries(
      (c.durable_objects?.bindings ?? []).map((b) => [
        b.name,
        { className: b.class_name, useSQLite: sqliteClasses.has(b.class_name) },
      ]),
    );
    return {
      main: path.resolve(paths.workerDir, c.main),
      compatibilityDate: c.compatibility_date,
      compatibilityFlags: c.compatibility_flags ?? [],
      d1Databases: d1,
      kvNamespaces: kv,
      durableObjects,
      // [vars]: plain-text bindings (SONIC_TEST_ROUTES = "1" turns on the test routes)
      vars: c.vars ?? {},
    };
  })();
  return configPromise;
}

// ---- cleanup on interruption ---------------------------------------------------------------
// One handler per signal runs every registered cleanup, then exits (128 + signal number).
// A hard kill (SIGKILL) is covered by run.mjs / scripts/e2e.sh, which own the process group.
const cleanups = new Set();
const children = new Set(); // process groups we started: SIGKILLed on exit whatever happens
let handlersInstalled = false;

/** Register `fn` (may be async) to run on SIGINT/SIGTERM/SIGHUP; returns an unregister function. */
export function onInterrupt(fn) {
  if (!handlersInstalled) {
    handlersInstalled = true;
    const codes = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
    for (const sig of Object.keys(codes)) {
      process.once(sig, async () => {
        await Promise.allSettled([...cleanups].map((f) => f(sig)));
        process.exit(128 + codes[sig]);
      });
    }
    process.once("exit", () => {
      for (const c of children) killGroup(c, "SIGKILL");
    });
  }
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

function killGroup(child, sig) {
  try {
    process.kill(-child.pid, sig);
  } catch {
    /* already gone */
  }
}

/** Run a command (own process group), capture output, reject on non-zero exit. */
export function run(cmd, args, { cwd = paths.workerDir, env = quietEnv, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    const off = onInterrupt(() => killGroup(child, "SIGTERM"));
    const done = () => {
      clearTimeout(timer);
      children.delete(child);
      off();
    };
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      done();
      reject(e);
    });
    child.on("close", (code, signal) => {
      done();
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? code}):\n${out}`));
    });
  });
}

/** `wrangler d1 migrations apply <binding> --local --persist-to <persistDir>`. */
export async function applyMigrations(persistDir, binding = "DB") {
  return run(paths.wranglerBin, [
    "d1", "migrations", "apply", binding,
    "--local", "--persist-to", persistDir, "--config", paths.wranglerConfig,
  ]);
}

/**
 * A fresh, migrated persist dir (the caller removes it; `startWorker` removes the ones it made).
 * Created under $SONIC_E2E_STATE_ROOT (run.mjs deletes that whole dir at the end) or the tmpdir.
 */
export async function freshState() {
  const root = process.env.SONIC_E2E_STATE_ROOT ?? tmpdir();
  const dir = await mkdtemp(path.join(root, "sonic-e2e-"));
  const off = onInterrupt(() => rm(dir, { recursive: true, force: true }));
  try {
    const template = process.env.SONIC_E2E_TEMPLATE_STATE;
    if (template) await cp(template, dir, { recursive: true });
    else await applyMigrations(dir);
    return dir;
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  } finally {
    off();
  }
}

/** Name of the state RPC worker in every Miniflare instance of `startWorker` (not a user name). */
export const STATE_WORKER = "sonic-e2e-state-rpc";
/** Name of the second instance of the Worker under test (`startWorker({ second: true })`). */
export const SECOND_WORKER = "sonic-e2e-second";

/**
 * Miniflare options of the state RPC worker: the same D1/KV bindings as the Worker under test,
 * i.e. the same ids, hence (in one instance, with the shared d1Persist/kvPersist) the very same
 * Durable Objects and SQLite files; its own socket on 127.0.0.1:<free port>.
 */
function stateWorkerOptions(cfg) {
  return {
    name: STATE_WORKER,
    modules: [
      { type: "ESModule", path: path.join(paths.stateRpc, "worker.mjs") },
      { type: "ESModule", path: path.join(paths.stateRpc, "codec.mjs") },
    ],
    modulesRoot: paths.stateRpc,
    compatibilityDate: cfg.compatibilityDate,
    compatibilityFlags: cfg.compatibilityFlags,
    d1Databases: cfg.d1Databases,
    kvNamespaces: cfg.kvNamespaces,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  };
}

/**
 * Start the built Worker on 127.0.0.1:<free port>.
 * @param {{ persistDir?: string, keepState?: boolean, vars?: Record<string, string>, second?: boolean }} [opts]
 *   persistDir: an existing wrangler-style persist dir to serve (kept afterwards);
 *   default: a fresh migrated copy, deleted by stop() unless keepState.
 *   vars: environment variables on top of wrangler.toml's [vars] (e.g. SONIC_TEST_ROUTES: "0").
 *   second: also run a second instance of the Worker (its own isolate, the same D1 database and
 *   KV namespace, as two isolates of one location), reachable as handle.second.{url, fetch, json}.
 * @returns handle with url, fetch(path, init), json(path, init), mf, db (D1 client), kv (KV
 *   client), stateUrl (the state RPC worker), persistDir, stop(). db and kv are async clients
 *   (state-rpc/client.mjs) of the first D1 / KV binding of wrangler.toml, same state as the
 *   Worker's: D1 prepare/bind/first/all/run/raw, batch, exec; KV get, getWithMetadata, put, list,
 *   delete.
 */
export async function startWorker(opts = {}) {
  const cfg = await loadConfig();
  try {
    await stat(cfg.main);
  } catch {
    throw new Error(`${cfg.main} not found: build the Worker first (scripts/e2e.sh)`);
  }
  const ownsState = !opts.persistDir;
  const persistDir = opts.persistDir ?? (await freshState());
  const underTest = {
    modules: true,
    scriptPath: cfg.main,
    // module names are relative to this root; the default (cwd) would need "..", which workerd refuses
    modulesRoot: path.dirname(cfg.main),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    compatibilityDate: cfg.compatibilityDate,
    compatibilityFlags: cfg.compatibilityFlags,
    d1Databases: cfg.d1Databases,
    kvNamespaces: cfg.kvNamespaces,
    durableObjects: cfg.durableObjects,
    bindings: { ...cfg.vars, ...suiteVars, ...opts.vars },
  };
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    workers: [
      // The Worker under test comes first: the entry socket (handle.url) serves it.
      underTest,
      stateWorkerOptions(cfg),
      ...(opts.second
        ? [{ ...underTest, name: SECOND_WORKER, unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] }]
        : []),
    ],
    // shared by both workers: one D1 database / KV namespace per id
    d1Persist: path.join(persistDir, "v3", "d1"),
    kvPersist: path.join(persistDir, "v3", "kv"),
    durableObjectsPersist: path.join(persistDir, "v3", "do"),
    cf: false,
    log: new Log(process.env.SONIC_E2E_DEBUG ? LogLevel.DEBUG : LogLevel.WARN),
  });
  let stopped = false;
  let offInterrupt = () => {};
  const handle = {
    mf,
    persistDir,
    url: undefined,
    stateUrl: undefined,
    db: undefined,
    kv: undefined,
    /** fetch over real HTTP on 127.0.0.1 */
    fetch: (p, init) => fetch(new URL(p, handle.url), init),
    /** fetch and parse JSON; returns { status, headers, body } */
    async json(p, init) {
      const res = await handle.fetch(p, init);
      const text = await res.text();
      let body;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      return { status: res.status, headers: res.headers, body };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      offInterrupt();
      try {
        await mf.dispose();
      } finally {
        if (ownsState && !opts.keepState) await rm(persistDir, { recursive: true, force: true });
      }
    },
  };
  offInterrupt = onInterrupt(() => handle.stop());
  try {
    handle.url = (await mf.ready).toString();
    handle.stateUrl = (await mf.unsafeGetDirectURL(STATE_WORKER)).toString();
    const call = rpc(handle.stateUrl);
    handle.db = d1Client(call, Object.keys(cfg.d1Databases)[0] ?? "DB");
    handle.kv = kvClient(call, Object.keys(cfg.kvNamespaces)[0] ?? "KV");
    if (opts.second) {
      const url = (await mf.unsafeGetDirectURL(SECOND_WORKER)).toString();
      const fetchSecond = (p, init) => fetch(new URL(p, url), init);
      handle.second = {
        url,
        fetch: fetchSecond,
        async json(p, init) {
          const res = await fetchSecond(p, init);
          const text = await res.text();
          return { status: res.status, headers: res.headers, body: text === "" ? undefined : JSON.parse(text) };
        },
      };
    }
  } catch (e) {
    await handle.stop().catch(() => {});
    throw e;
  }
  return handle;
}

/**
 * The KV key of a text id, as sonic_db_core's `record_key`: `sonic:{table}:{id}`, a leading `#`
 * doubled, and a key over 512 bytes replaced by `#h` + the hex SHA-256 of its id part.
 */
export function recordKey(table, id) {
  const head = `sonic:${table}:`;
  const part = id.startsWith("#") ? `#${id}` : id;
  const key = head + part;
  if (Buffer.byteLength(key) <= 512) return key;
  return `${head}#h${createHash("sha256").update(part).digest("hex")}`;
}

/** The bucket (of 64) of a record key: FNV-1a 64, as sonic_db_core's `cache::generation`. */
export function bucketOf(key, buckets = 64) {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(key)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return Number(h % BigInt(buckets));
}

/**
 * The envelope that `find` would serve now for `sonic:{table}:{id}` (read through `kv`, e.g.
 * `w.kv`): the entry if it is tagged with the current table and bucket generations, else null
 * (absent, or an older entry that stays in KV but is never served).
 */
export async function currentEntry(kv, table, id) {
  const key = recordKey(table, id);
  const text = await kv.get(key);
  if (text === null) return null;
  const envelope = JSON.parse(text);
  const tg = (await kv.get(`sonic:${table}:#g`)) ?? "";
  const bg = (await kv.get(`sonic:${table}:#b${bucketOf(key)}`)) ?? "";
  return envelope.tg === tg && envelope.bg === bg ? envelope : null;
}

/**
 * Waits until the deferred fill of `sonic:{table}:{id}` has landed (the example Worker puts it
 * on `wait_until`, after the response): polls `currentEntry`, at most 400 times 5 ms apart, and
 * returns the entry; throws if it never lands.
 */
export async function filled(kv, table, id) {
  for (let i = 0; i < 400; i++) {
    const entry = await currentEntry(kv, table, id);
    if (entry !== null) return entry;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the fill of sonic:${table}:${id} never landed`);
}
