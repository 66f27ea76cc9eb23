#!/usr/bin/env node
// Runs the end-to-end suite against the already built Worker (scripts/e2e.sh builds it):
//  1. applies the migrations with `wrangler d1 migrations apply DB --local --persist-to <dir>`
//     into a fresh template state dir (each test file's Worker gets its own copy of it);
//  2. runs e2e/tests/*.test.mjs with node:test in a process group of their own;
//  3. always kills that process group (every Worker/workerd started by the tests) and deletes
//     the state, also on failure or Ctrl-C; exits non-zero if anything failed or leaked.
//
// Usage: node run.mjs [test-file-name-filter ...]   (env SONIC_E2E_DEBUG=1 for Miniflare logs;
//        SONIC_E2E_WORKER_DIR / SONIC_E2E_TESTS_DIR for another Worker and its tests)

import { spawn, execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyMigrations, onInterrupt, paths, quietEnv } from "./harness.mjs";

const filters = process.argv.slice(2);
// $SONIC_E2E_TESTS_DIR (relative to e2e/) runs another directory's tests, e.g. "starter".
const testsDir = path.resolve(paths.e2e, process.env.SONIC_E2E_TESTS_DIR || "tests");
const files = (await readdir(testsDir))
  .filter((f) => f.endsWith(".test.mjs"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => path.join(testsDir, f));
if (files.length === 0) {
  console.error(`no test files in ${testsDir} match ${filters.join(" ") || "*.test.mjs"}`);
  process.exit(1);
}

const t0 = performance.now();
// Everything the run writes lives under stateRoot: the migrated template and each Worker's copy.
const stateRoot = await mkdtemp(path.join(tmpdir(), "sonic-e2e-run-"));
const stateDir = path.join(stateRoot, "template");
await mkdir(stateDir);
let child;
let exitCode = 1;

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killTree() {
  if (!child?.pid) return false;
  const pgid = child.pid;
  if (!groupAlive(pgid)) return false;
  let leftovers = "";
  try {
    leftovers = execFileSync("ps", ["-o", "pid=,args=", "--sid", String(pgid)], { encoding: "utf8" });
  } catch {
    /* ps finds nothing */
  }
  for (const sig of ["SIGTERM", "SIGKILL"]) {
    try {
      process.kill(-pgid, sig);
    } catch {
      break;
    }
    for (let i = 0; i < 20 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
    if (!groupAlive(pgid)) break;
  }
  return leftovers.trim();
}

// Memoised: the signal handler and the main flow (which resumes when the runner dies) share it.
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    const leaked = await killTree();
    await rm(stateRoot, { recursive: true, force: true });
    return leaked;
  })();
  return cleaning;
}

let interrupted = false;
onInterrupt(async (sig) => {
  interrupted = true;
  console.error(`\n# ${sig}: stopping the tests`);
  const leaked = await cleanup();
  if (leaked) console.error(`# killed:\n${leaked}`);
});

try {
  const tm = performance.now();
  await applyMigrations(stateDir);
  console.log(`# migrations applied by wrangler in ${((performance.now() - tm) / 1000).toFixed(1)} s`);

  const concurrency = process.env.SONIC_E2E_CONCURRENCY ?? "2";
  child = spawn(
    process.execPath,
    ["--test", "--test-reporter=spec", `--test-concurrency=${concurrency}`, "--test-timeout=60000", ...files],
    {
      cwd: paths.e2e,
      env: { ...quietEnv, SONIC_E2E_TEMPLATE_STATE: stateDir, SONIC_E2E_STATE_ROOT: stateRoot },
      stdio: "inherit",
      detached: true, // own process group: killTree() reaches every workerd it starts
    },
  );
  const code = await new Promise((resolve) => child.on("close", (c, s) => resolve(s ? 1 : c)));
  exitCode = code ?? 1;
} catch (e) {
  console.error(e?.stack ?? e);
  exitCode = 1;
} finally {
  const leaked = await cleanup();
  if (interrupted) await new Promise((r) => setTimeout(r, 5_000)); // the signal handler exits
  if (leaked) {
    console.error(`# leaked processes after the tests (killed):\n${leaked}`);
    exitCode ||= 1;
  }
  console.log(`# e2e ${exitCode === 0 ? "passed" : "FAILED"} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
process.exit(exitCode);
