// The Workers benchmark's driver (run by benches/workers/run.sh, which builds the Workers first):
// serves the Sonic, hand-written and Drizzle Workers side by side with Miniflare (one workerd
// process each, 127.0.0.1, each on its own copy of the same migrated and seeded D1 database and
// an empty KV namespace), checks that the three answer every route alike, then measures each
// route: N sequential requests per Worker, the Workers interleaved route by route, 3 times.
//
// Per route and Worker it reports
// - CPU per request of the whole workerd process (the Worker's isolate, and D1's SQLite and KV's
//   simulation, which run in the same process): the sum of its threads' on-CPU time from
//   /proc/<pid>/task/*/schedstat around the N requests (and their deferred work), ÷ N; the
//   median of the 3 repetitions;
// - with --profile, the isolate's own CPU: V8's sampling profiler through workerd's inspector,
//   the non-idle sample time ÷ N (median of the repetitions);
// - p50 / p99 latency over the 3 × N requests (client side: HTTP over loopback included);
// - D1 round trips and KV operations per request, counted by benches/workers/counting-entry.mjs.
//
// With --replay K it measures each route's isolate CPU without I/O instead: per route and Worker,
// one request served for real and recorded, then replayed K times inside the isolate with the
// recorded D1 and KV answers (counting-entry.mjs), under V8's profiler. Nothing else runs on
// the isolate's thread meanwhile (no simulator, no HTTP), so the samples are the Worker's own
// work, and far more of them per request than a sampled HTTP run gets. The same replay is then
// run once more without the profiler, in slices with the Workers taking turns, and timed by the
// workerd process's on-CPU time (schedstat, as above): a figure without sampling, V8's helper
// threads (GC, compilers) included.
//
// Usage: node bench.mjs [--n 300] [--reps 3] [--warmup 1] [--check-only] [--profile] [--json out.json]
//        node bench.mjs --replay 2000 [--reps 3] [--interval 50] [--top 12]
import { execFileSync } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const e2e = path.join(repo, "e2e");
const requireE2e = createRequire(path.join(e2e, "package.json"));
const { Miniflare, Log, LogLevel } = await import(requireE2e.resolve("miniflare"));
const { onInterrupt, quietEnv } = await import(path.join(e2e, "harness.mjs"));

// ---- arguments ------------------------------------------------------------------------------
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const N = Number(opt("n", 300));
const REPS = Number(opt("reps", 3));
// Over HTTP: unmeasured repetitions before the REPS measured ones, and how many slices each
// route's N requests are sent in, the Workers taking turns slice by slice.
const WARMUP = Number(opt("warmup", 1));
const HTTP_SLICES = 6;
const CHECK_ONLY = args.includes("--check-only");
const REPLAY = Number(opt("replay", 0));
const PROFILE = args.includes("--profile") || REPLAY > 0;
// The profiler's sampling interval, µs.
const SAMPLING_US = Number(opt("interval", 100));
const JSON_OUT = opt("json", undefined);
// With --profile, also the TOP functions by self samples per route and Worker (function names
// need a build that keeps the wasm `name` section: see run.sh's BENCH_KEEP_NAMES).
const TOP = Number(opt("top", 0));
const IMPLS = ["sonic", "hand", "drizzle"];

// ---- requests -------------------------------------------------------------------------------
const user = (id) => ({
  id,
  name: `new user ${id}`,
  email: `new${id}@example.com`,
  hair_color: id % 3 === 0 ? null : "black",
});
const BULK = 500;
/** Users in benches/workers/migrations/0002_seed.sql. */
const SEEDED_USERS = 2000;
// The seed has users 1..2000; the checks use users 1..20, the warm read user 7, cold reads
// 101.. (one id per request, never read before), creates ids from 100,000 and 1,000,000.
const ROUTES = [
  { name: "get by id, KV warm", path: () => "/users/7", warm: "/users/7" },
  { name: "get by id, KV cold (KV get, D1, KV put)", path: (k) => `/users/${101 + k}` },
  { name: "list of 20, filtered and ordered", path: (k) => `/posts?user_id=${1 + (k % 100)}` },
  { name: "list of 20 with author", path: () => "/posts-with-author" },
  { name: "10 users with posts and comments", path: () => "/users-with-posts" },
  {
    name: "create one",
    path: () => "/users",
    body: (k) => user(100_000 + k),
  },
  {
    name: `create ${BULK} in one request`,
    path: () => "/users/bulk",
    body: (k) => Array.from({ length: BULK }, (_, j) => user(1_000_000 + k * BULK + j)),
    share: 0.1, // 1/10 of N requests: each is ~100× the others
  },
];

// ---- Workers --------------------------------------------------------------------------------
function workerdPidOf(parentPid) {
  // Miniflare's workerd is a child of this process; the newest one is the instance just started.
  const out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(parentPid)], { encoding: "utf8" });
  const pids = out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(([, comm]) => comm === "workerd")
    .map(([pid]) => Number(pid));
  return pids;
}

async function cpuNs(pid) {
  let total = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => "0");
    total += Number(text.split(" ")[0]);
  }
  return total;
}

async function startImpl(impl, template, inspectorPort) {
  const dir = path.join(here, impl);
  const build = path.join(dir, "build");
  await cp(path.join(here, "counting-entry.mjs"), path.join(build, "bench-entry.mjs"));
  const state = await mkdtemp(path.join(tmpdir(), `sonic-bench-${impl}-`));
  await cp(template, state, { recursive: true });
  const before = new Set(workerdPidOf(process.pid));
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    workers: [
      {
        name: `bench-${impl}`,
        modules: true,
        scriptPath: path.join(build, "bench-entry.mjs"),
        modulesRoot: build,
        modulesRules: [
          { type: "ESModule", include: ["**/*.js", "**/*.mjs"], fallthrough: true },
          { type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true },
        ],
        compatibilityDate: "2026-04-20",
        d1Databases: { DB: "00000000-0000-4000-8000-0000000000b1" },
        kvNamespaces: { KV: "sonic-bench-kv" },
      },
    ],
    d1Persist: path.join(state, "v3", "d1"),
    kvPersist: path.join(state, "v3", "kv"),
    cf: false,
    inspectorPort,
    log: new Log(process.env.SONIC_BENCH_DEBUG ? LogLevel.DEBUG : LogLevel.WARN),
  });
  const url = (await mf.ready).toString();
  const pid = workerdPidOf(process.pid).find((p) => !before.has(p));
  if (!pid) throw new Error(`no workerd process found for ${impl}`);
  const handle = {
    impl,
    url,
    inspectorPort,
    pid,
    mf,
    async fetch(p, init) {
      const res = await fetch(new URL(p, url), init);
      const text = await res.text();
      return { status: res.status, text };
    },
    async stop() {
      await mf.dispose().catch(() => {});
      await rm(state, { recursive: true, force: true });
    },
  };
  return handle;
}

function requestInit(route, k) {
  if (!route.body) return undefined;
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(route.body(k)),
  };
}

// ---- V8 profiler over workerd's inspector (--profile) ----------------------------------------
async function inspectorSession(port, workerName) {
  const WebSocket = (await import(requireE2e.resolve("ws"))).default;
  // The inspector lists its targets at /json; the Worker's is the one named after it.
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => JSON.stringify(t).includes(workerName));
  if (!target) throw new Error(`no inspector target for ${workerName}: ${JSON.stringify(targets)}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(JSON.stringify(msg.error)));
      else resolve(msg.result);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const msgId = ++id;
      pending.set(msgId, { resolve, reject });
      ws.send(JSON.stringify({ id: msgId, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: SAMPLING_US });
  return {
    start: () => send("Profiler.start"),
    /** Stops and returns the isolate's busy time in ns: its JavaScript, wasm and GC samples. */
    async stop() {
      const { profile } = await send("Profiler.stop");
      // Not "(idle)" nor "(program)": the runtime's native code with the isolate entered,
      // which also covers waits and the other isolates of the process (D1's and KV's
      // simulators run on the same thread).
      const idle = new Set(
        profile.nodes.filter((n) => ["(idle)", "(program)"].includes(n.callFrame.functionName)).map((n) => n.id),
      );
      // Each sample stands for one sampling interval. Its timeDelta is the time since the
      // previous sample, which after a pause (the thread out of the isolate, unsampled) spans
      // the whole pause: summing those counted waits as work and made the isolate's time
      // exceed the whole process's CPU.
      let busyUs = 0;
      // The same without the cap: right when the thread never leaves the isolate (--replay),
      // where a late sample (the sampler delayed on a busy machine) would otherwise count short.
      let spanUs = 0;
      let programUs = 0;
      const program = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(program)").map((n) => n.id));
      const names = new Map(profile.nodes.map((n) => [n.id, n.callFrame.functionName || "(anonymous)"]));
      const byFunction = new Map();
      const spanByFunction = new Map();
      // Inclusive span per function: each sample counts once for every function on its stack.
      const parent = new Map();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      const inclusive = new Map();
      profile.samples.forEach((node, i) => {
        const us = Math.min(profile.timeDeltas[i] ?? 0, SAMPLING_US);
        if (program.has(node)) programUs += us;
        if (idle.has(node)) return;
        busyUs += us;
        spanUs += profile.timeDeltas[i] ?? 0;
        const name = names.get(node);
        byFunction.set(name, (byFunction.get(name) ?? 0) + us);
        spanByFunction.set(name, (spanByFunction.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
        const onStack = new Set();
        for (let id = node; id !== undefined; id = parent.get(id)) onStack.add(names.get(id));
        for (const f of onStack) inclusive.set(f, (inclusive.get(f) ?? 0) + (profile.timeDeltas[i] ?? 0));
      });
      return { ns: busyUs * 1000, spanNs: spanUs * 1000, programNs: programUs * 1000, byFunction, spanByFunction, inclusive };
    },
    close: () => ws.close(),
  };
}

// Self time per request (µs, summed over the repetitions ÷ REPS) of each Rust Worker's TOP
// busiest functions on each route.
function printTopFunctions(results) {
  for (const route of ROUTES) {
    console.log(`\n${route.name}: top ${TOP} functions by isolate self time, µs per request`);
    for (const impl of IMPLS.slice(0, 2)) {
      const top = [...results[route.name][impl].functions].sort((a, b) => b[1] - a[1]).slice(0, TOP);
      console.log(`  ${impl}: ` + top.map(([name, us]) => `${name} ${(us / REPS).toFixed(1)}`).join(", "));
    }
  }
}

// ---- --replay K ------------------------------------------------------------------------------
// Each recording is of a fresh request (a cold read of a user not yet cached, a create of a new
// id): `k` is never reused for a route, and starts past the ids the HTTP measurement uses. The
// three Workers record the same `k` (each has its own database and KV), so that 25 repetitions
// stay within the 2,000 seeded users.
let replayK = 1500;
// Slices of the unprofiled replay (each one request to the Worker, whose own handling is spread
// over the slice's n / CPU_SLICES replays).
const CPU_SLICES = 4;
async function benchCall(h, what, body) {
  const { status, text } = await h.fetch(`/__bench/${what}`, { method: "POST", body: JSON.stringify(body) });
  if (status !== 200) throw new Error(`${h.impl} ${what} of ${JSON.stringify(body).slice(0, 80)}: ${status} ${text}`);
  return JSON.parse(text);
}
async function record(h, route, k) {
  const init = requestInit(route, k);
  return benchCall(h, "record", { method: init?.method ?? "GET", path: route.path(k), body: init?.body });
}
const replayRecorded = (h, n) => benchCall(h, "replay", { n });

async function replayRuns() {
  const profilers = await Promise.all(handles.map((h) => inspectorSession(h.inspectorPort, `bench-${h.impl}`)));
  for (const h of handles) await h.fetch("/users/7"); // the warm route's record, filled
  await sleep(200);
  const results = {}; // route → impl → { isolate: [], program: [], cpu: [], calls, functions }
  for (let rep = 0; rep < REPS; rep++) {
    for (const route of ROUTES) {
      const n = Math.max(1, Math.round(REPLAY * (route.share ?? 1)));
      const k = replayK++;
      for (const [i, h] of handles.entries()) {
        const r = ((results[route.name] ??= {})[h.impl] ??= { isolate: [], program: [], cpu: [], calls: [], functions: new Map(), inclusive: new Map() });
        await record(h, route, k);
        await replayRecorded(h, n); // warm-up: as long as the measurement, so that V8 has tiered the hot code up
        await profilers[i].start();
        const { calls } = await replayRecorded(h, n);
        const { spanNs, programNs, spanByFunction: byFunction, inclusive } = await profilers[i].stop();
        r.isolate.push(spanNs / n / 1e3);
        r.program.push(programNs / n / 1e3);
        r.calls = calls;
        for (const [name, us] of byFunction) r.functions.set(name, (r.functions.get(name) ?? 0) + us / n);
        for (const [name, us] of inclusive) r.inclusive.set(name, (r.inclusive.get(name) ?? 0) + us / n);
      }
      // The same replays without the profiler, timed by each workerd process's on-CPU time: no
      // sampling, and nothing but the isolate's replay (and V8's helper threads) runs in it.
      // In CPU_SLICES slices, the Workers taking turns slice by slice, so that a slow spell of
      // the machine reaches the three alike.
      const spent = handles.map(() => 0);
      const slice = Math.max(1, Math.round(n / CPU_SLICES));
      for (let done = 0; done < n; done += slice) {
        for (const [i, h] of handles.entries()) {
          const before = await cpuNs(h.pid);
          await replayRecorded(h, Math.min(slice, n - done));
          spent[i] += (await cpuNs(h.pid)) - before;
        }
      }
      for (const [i, h] of handles.entries()) results[route.name][h.impl].cpu.push(spent[i] / n / 1e3);
    }
    console.log(`repetition ${rep + 1} of ${REPS} done`);
  }
  for (const p of profilers) p.close();

  const lines = [];
  // The replayed work is the same in every repetition, so what varies is the machine (another
  // process on the core, the sampler's delays): each figure is the fastest repetition's.
  lines.push(`--replay ${REPLAY} (bulk create: ${Math.round(REPLAY * 0.1)}), ${REPS} repetitions, sampling every ${SAMPLING_US} µs; µs per request, the fastest repetition (the median in brackets)`);
  lines.push("");
  lines.push('| route | isolate µs: Sonic / hand / Drizzle | Sonic ÷ hand | Sonic ÷ Drizzle | workerd CPU µs, unprofiled: S / h / D | Sonic ÷ hand | Sonic ÷ Drizzle | "(program)" µs S / h / D | binding calls per request S / h / D |');
  lines.push("|---|---|---|---|---|---|---|---|---|");
  const json = {};
  for (const route of ROUTES) {
    const per = Object.fromEntries(IMPLS.map((impl) => [impl, results[route.name][impl]]));
    json[route.name] = Object.fromEntries(
      IMPLS.map((impl) => [
        impl,
        { isolate: per[impl].isolate, program: per[impl].program, cpu: per[impl].cpu, calls: per[impl].calls, functions: Object.fromEntries(per[impl].functions), inclusive: Object.fromEntries(per[impl].inclusive) },
      ]),
    );
    const iso = (impl) => Math.min(...per[impl].isolate);
    const cell = (impl) => `${iso(impl).toFixed(1)} [${median(per[impl].isolate).toFixed(1)}]`;
    const cpu = (impl) => Math.min(...per[impl].cpu);
    const cpuCell = (impl) => `${cpu(impl).toFixed(1)} [${median(per[impl].cpu).toFixed(1)}]`;
    lines.push(
      `| ${route.name} | ${IMPLS.map(cell).join(" / ")} | ${(iso("sonic") / iso("hand")).toFixed(3)} | ${(iso("sonic") / iso("drizzle")).toFixed(3)} | ` +
        `${IMPLS.map(cpuCell).join(" / ")} | ${(cpu("sonic") / cpu("hand")).toFixed(3)} | ${(cpu("sonic") / cpu("drizzle")).toFixed(3)} | ` +
        `${IMPLS.map((impl) => median(per[impl].program).toFixed(1)).join(" / ")} | ${IMPLS.map((impl) => per[impl].calls.join("+") || "none").join(" / ")} |`,
    );
  }
  console.log("\n" + lines.join("\n"));
  if (TOP > 0) printTopFunctions(results);
  if (JSON_OUT) await (await import("node:fs/promises")).writeFile(JSON_OUT, JSON.stringify(json, null, 2));
}

// ---- main -----------------------------------------------------------------------------------
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const template = await mkdtemp(path.join(tmpdir(), "sonic-bench-template-"));
const handles = [];
onInterrupt(async () => {
  await Promise.allSettled(handles.map((h) => h.stop()));
  await rm(template, { recursive: true, force: true });
});
try {
  execFileSync(
    path.join(e2e, "node_modules/.bin/wrangler"),
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", template, "--config", path.join(here, "sonic/wrangler.toml")],
    { env: quietEnv, stdio: ["ignore", "pipe", "inherit"] },
  );
  let port = 9300 + Math.floor(Math.random() * 500);
  for (const impl of IMPLS) handles.push(await startImpl(impl, template, PROFILE ? port++ : undefined));

  // 1. The same answers (as JSON values: key order aside) from the three.
  const checks = [
    ["GET", "/users/5"], // cold
    ["GET", "/users/5"], // warm, after the fill (below: a pause)
    ["GET", "/users/999999"],
    ["GET", "/posts?user_id=3"],
    ["GET", "/posts-with-author"],
    ["GET", "/users-with-posts"],
    ["POST", "/users", user(90_001)],
    ["GET", "/users/90001"],
    ["POST", "/users/bulk", Array.from({ length: BULK }, (_, j) => user(900_000 + j))],
    ["GET", "/users/900499"],
  ];
  let mismatches = 0;
  for (const [method, p, body] of checks) {
    const answers = [];
    for (const h of handles) {
      const init = body ? { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : { method };
      const { status, text } = await h.fetch(p, init);
      let value;
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
      answers.push({ impl: h.impl, status, value, text });
    }
    const [first, ...rest] = answers;
    const ok =
      first.status < 500 &&
      rest.every((a) => a.status === first.status && (first.status >= 400 || isDeepStrictEqual(a.value, first.value)));
    console.log(`${ok ? "same" : "DIFFERENT"}: ${method} ${p} → ${answers.map((a) => `${a.impl} ${a.status}`).join(", ")}`);
    if (!ok) {
      mismatches++;
      for (const a of answers) console.log(`  ${a.impl}: ${a.text.slice(0, 600)}`);
    }
    await sleep(50); // deferred fills land before the next check reads
  }
  if (mismatches) throw new Error(`${mismatches} route(s) answered differently`);
  if (CHECK_ONLY) {
    console.log("\nall three Workers answer alike");
  } else if (REPLAY > 0) {
    await replayRuns();
  } else {
    // 2. Measurements. WARMUP unmeasured repetitions first (every route, as measured: V8 tiers
    // the hot code up, the simulators' caches fill), then REPS measured ones. Within a route
    // the Workers take turns in slices of the N requests, the first changing from slice to
    // slice, so that a slow spell of the machine reaches the three alike.
    const profilers = PROFILE
      ? await Promise.all(handles.map((h) => inspectorSession(h.inspectorPort, `bench-${h.impl}`)))
      : [];
    for (const h of handles) await h.fetch("/users/7"); // the warm route's record, filled
    await sleep(200);
    // Each cold read reads an id never read before: ids 101 + k of the seed's 2,000 users.
    if (101 + (WARMUP + REPS) * N > SEEDED_USERS + 1) {
      throw new Error(`--n ${N} with ${WARMUP} warm-up and ${REPS} measured repetitions needs more than the seed's ${SEEDED_USERS} users for cold reads`);
    }
    const results = {}; // route → impl → { cpu: [], isolate: [], lat: [], counts }
    for (let pass = 0; pass < WARMUP + REPS; pass++) {
      const measured = pass >= WARMUP;
      for (const route of ROUTES) {
        const n = Math.max(1, Math.round(N * (route.share ?? 1)));
        const slice = Math.max(1, Math.round(n / HTTP_SLICES));
        const spent = handles.map(() => ({ cpu: 0, isolate: 0, lat: [] }));
        for (const h of handles) await h.fetch("/__bench/counts"); // reset
        for (let done = 0, turn = 0; done < n; done += slice, turn++) {
          // Who goes first changes from slice to slice.
          for (let t = 0; t < handles.length; t++) {
            const i = (t + turn) % handles.length;
            const h = handles[i];
            const r = ((results[route.name] ??= {})[h.impl] ??= { cpu: [], isolate: [], lat: [], counts: [], functions: new Map() });
            if (PROFILE && measured) await profilers[i].start();
            const cpu0 = await cpuNs(h.pid);
            for (let j = done; j < Math.min(n, done + slice); j++) {
              const k = pass * n + j;
              const init = requestInit(route, k);
              const t0 = process.hrtime.bigint();
              const res = await fetch(new URL(route.path(k), h.url), init);
              await res.arrayBuffer();
              spent[i].lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
              if (res.status >= 300) throw new Error(`${h.impl} ${route.path(k)}: ${res.status}`);
            }
            await sleep(30); // deferred work (KV fills) finishes inside the window
            spent[i].cpu += (await cpuNs(h.pid)) - cpu0;
            if (PROFILE && measured) {
              const { ns, byFunction } = await profilers[i].stop();
              spent[i].isolate += ns;
              for (const [name, us] of byFunction) r.functions.set(name, (r.functions.get(name) ?? 0) + us / n);
            }
          }
        }
        if (!measured) continue;
        for (const [i, h] of handles.entries()) {
          const r = results[route.name][h.impl];
          r.cpu.push(spent[i].cpu / n / 1e6);
          if (PROFILE) r.isolate.push(spent[i].isolate / n / 1e6);
          r.lat.push(...spent[i].lat);
          const c = JSON.parse((await h.fetch("/__bench/counts")).text);
          r.counts.push({ d1: c.d1 / n, kv: (c.kvGet + c.kvPut + c.kvDelete + c.kvList) / n, kvGet: c.kvGet / n, kvPut: c.kvPut / n });
        }
      }
      console.log(measured ? `repetition ${pass - WARMUP + 1} of ${REPS} done` : `warm-up ${pass + 1} of ${WARMUP} done`);
    }
    for (const p of profilers) p.close();

    // 3. The table.
    const fmt = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(3));
    const ratio = (a, b) => (a / b).toFixed(2);
    const lines = [];
    lines.push(`N = ${N} requests per route and Worker (bulk create: ${Math.round(N * 0.1)}), ${REPS} repetitions after ${WARMUP} unmeasured, the Workers taking turns in ${HTTP_SLICES} slices per route; CPU = median over repetitions of per-request CPU (ms)`);
    lines.push("");
    lines.push("| route | workerd CPU ms: Sonic / hand / Drizzle | Sonic ÷ hand | Sonic ÷ Drizzle |" + (PROFILE ? " isolate CPU ms: Sonic / hand / Drizzle | Sonic ÷ hand (isolate) | Sonic ÷ Drizzle (isolate) |" : "") + " p50 ms S / h / D | p99 ms S / h / D | D1 round trips S / h / D | KV ops (get+put) S / h / D |");
    lines.push("|---|---|---|---|" + (PROFILE ? "---|---|---|" : "") + "---|---|---|---|");
    const json = {};
    for (const route of ROUTES) {
      const per = Object.fromEntries(
        IMPLS.map((impl) => {
          const r = results[route.name][impl];
          const last = r.counts.at(-1);
          return [
            impl,
            {
              cpu: median(r.cpu),
              isolate: r.isolate.length ? median(r.isolate) : undefined,
              p50: quantile(r.lat, 0.5),
              p99: quantile(r.lat, 0.99),
              d1: last.d1,
              kv: last.kv,
              kvGet: last.kvGet,
              kvPut: last.kvPut,
              cpuRuns: r.cpu,
            },
          ];
        }),
      );
      json[route.name] = per;
      const [s, h, d] = IMPLS.map((i) => per[i]);
      const three = (f) => IMPLS.map((i) => f(per[i])).join(" / ");
      lines.push(
        `| ${route.name} | ${three((x) => fmt(x.cpu))} | ${ratio(s.cpu, h.cpu)} | ${ratio(s.cpu, d.cpu)} |` +
          (PROFILE ? ` ${three((x) => fmt(x.isolate))} | ${ratio(s.isolate, h.isolate)} | ${ratio(s.isolate, d.isolate)} |` : "") +
          ` ${three((x) => fmt(x.p50))} | ${three((x) => fmt(x.p99))} | ${three((x) => +x.d1.toFixed(2))} | ${three((x) => `${+x.kvGet.toFixed(2)}+${+x.kvPut.toFixed(2)}`)} |`,
      );
    }
    console.log("\n" + lines.join("\n"));
    if (PROFILE && TOP > 0) printTopFunctions(results);
    if (JSON_OUT) await (await import("node:fs/promises")).writeFile(JSON_OUT, JSON.stringify(json, null, 2));
  }
} finally {
  await Promise.allSettled(handles.map((h) => h.stop()));
  await rm(template, { recursive: true, force: true });
}
