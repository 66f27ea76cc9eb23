#!/usr/bin/env node
// Load and faults on the example Worker under workerd (Miniflare, 127.0.0.1 only).
//
// N clients run a mixed workload for D seconds, each on records of its own (so the last
// acknowledged value of every record is known): create a user, bulk-create posts, get by id,
// list, update, delete a post, delete the user (a cascade). Faults, through the test routes:
// KV entries of records overwritten with garbage or truncated envelopes (the cache must treat
// them as misses), and hostile requests (each must be a 4xx that changes nothing). At the end
// every acknowledged write is checked: through the API (value, or 404 once deleted), in D1
// directly, and in KV (an entry that `find` would serve must hold the last value).
// Prints throughput and p50/p99 per route, and a JSON summary on the last line.
//
// Env: SONIC_LOAD_CLIENTS (default 5), SONIC_LOAD_SECONDS (default 10), SONIC_LOAD_FAULTS
// (default 1: inject faults), SONIC_LOAD_TOKEN (bearer token for writes, see api.mjs).

import { currentEntry, startWorker } from "../harness.mjs";
import { api } from "./api.mjs";

const clients = Number(process.env.SONIC_LOAD_CLIENTS ?? 5);
const seconds = Number(process.env.SONIC_LOAD_SECONDS ?? 10);
const faults = (process.env.SONIC_LOAD_FAULTS ?? "1") === "1";

const samples = new Map(); // route → [ms]
const statuses = new Map(); // "route status" → count
const problems = [];
const counters = { requests: 0, faultsInjected: 0, hostile: 0, hostileRefused: 0, serverErrors: 0 };

function note(res) {
  counters.requests++;
  if (!samples.has(res.route)) samples.set(res.route, []);
  samples.get(res.route).push(res.ms);
  const key = `${res.route} ${res.status}`;
  statuses.set(key, (statuses.get(key) ?? 0) + 1);
  if (res.status >= 500) {
    counters.serverErrors++;
    problems.push(`${res.route}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return res;
}

const w = await startWorker();
const http = api(w);
const stopAt = Date.now() + seconds * 1000;
// The model: id → { table, value (last acknowledged fields) } or { deleted: true }.
const model = new Map();
let rng = 0x2545f491;
const rand = (n) => {
  rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0;
  return rng % n;
};

const HOSTILE = [
  ["POST", "/v1/posts", "{\"title\": "],
  ["POST", "/v1/posts", { title: "x", user_id: "nobody-here", nope: 1 }],
  ["POST", "/v1/users", [1, 2, 3]],
  ["GET", "/v1/posts?filters[user_id][$bogus]=1"],
  ["GET", "/v1/posts?limit=-1"],
  ["GET", "/v1/posts?sort=nope"],
  ["GET", `/v1/posts/${"i".repeat(600)}`],
  ["PUT", "/v1/posts/x", "not json"],
  ["GET", "/v1/posts?filters[title][$like]=" + "%".repeat(60)],
  ["POST", "/v1/users", { id: "h", email: 12 }],
];

async function client(c) {
  let round = 0;
  while (Date.now() < stopAt) {
    const userId = `u${c}-${round}`;
    const user = { id: userId, email: `${userId}@example.com`, password: "p", role: "user", name: `User ${userId}` };
    const made = note(await http.createUser(user));
    if (made.status !== 201) {
      problems.push(`create user ${userId}: ${made.status} ${JSON.stringify(made.body).slice(0, 200)}`);
      round++;
      continue;
    }
    model.set(`users/${userId}`, { table: "users", id: userId, value: { name: user.name, email: user.email } });
    const n = 5 + rand(20);
    const posts = Array.from({ length: n }, (_, i) => ({ id: `${userId}-p${i}`, title: `t${i}`, body: `b${i}`, user_id: userId }));
    const bulk = note(await http.createPosts(posts));
    if (bulk.status === 201) for (const p of posts) model.set(`posts/${p.id}`, { table: "posts", id: p.id, value: { title: p.title, body: p.body } });
    else problems.push(`bulk ${userId}: ${bulk.status}`);
    for (let k = 0; k < 8 && Date.now() < stopAt; k++) {
      const p = posts[rand(posts.length)];
      const entry = model.get(`posts/${p.id}`);
      switch (rand(6)) {
        case 0:
        case 1: {
          const res = note(await http.getPost(p.id));
          const want = entry?.deleted ? 404 : 200;
          if (res.status !== want) problems.push(`GET ${p.id}: ${res.status}, expected ${want}`);
          else if (want === 200 && http.record(res).title !== entry.value.title)
            problems.push(`GET ${p.id}: title ${http.record(res).title}, expected ${entry.value.title} (source ${res.body.source})`);
          break;
        }
        case 2: {
          const res = note(await http.listPosts(userId));
          const live = posts.filter((q) => !model.get(`posts/${q.id}`)?.deleted).length;
          if (res.status !== 200 || res.body.total !== live) problems.push(`list ${userId}: ${res.status} total ${res.body?.total}, expected ${live}`);
          break;
        }
        case 3:
        case 4: {
          if (entry?.deleted) break;
          const title = `t-${c}-${round}-${k}`;
          const res = note(await http.updatePost(p.id, { title }));
          if (res.status === 200) entry.value.title = title;
          else problems.push(`PUT ${p.id}: ${res.status}`);
          break;
        }
        default: {
          if (entry?.deleted) break;
          const res = note(await http.deletePost(p.id));
          if (res.status === 204) model.set(`posts/${p.id}`, { table: "posts", id: p.id, deleted: true });
          else problems.push(`DELETE ${p.id}: ${res.status}`);
        }
      }
      if (faults && rand(4) === 0) await injectFault(posts[rand(posts.length)].id);
      if (faults && rand(4) === 0) await hostile();
    }
    // Read every post once (fills KV), then maybe a cascade.
    for (const p of posts.slice(0, 3)) note(await http.getPost(p.id));
    if (rand(2) === 0) {
      const res = note(await http.deleteUser(userId));
      if (res.status === 204) {
        model.set(`users/${userId}`, { table: "users", id: userId, deleted: true });
        for (const p of posts) model.set(`posts/${p.id}`, { table: "posts", id: p.id, deleted: true });
      } else problems.push(`DELETE user ${userId}: ${res.status}`);
    }
    round++;
  }
}

/** Overwrites the KV entry of a post with garbage or a truncated copy of itself. */
async function injectFault(id) {
  const key = `sonic:posts:${id}`;
  const current = await w.kv.get(key);
  const value = current && rand(2) === 0 ? current.slice(0, Math.max(1, current.length >> 1)) : `{"v":2,"garbage":${rand(1000)}`;
  await w.kv.put(key, value);
  counters.faultsInjected++;
}

/** One hostile request: it must be a 4xx and change nothing (checked at the end by the model). */
async function hostile() {
  const [method, path, body] = HOSTILE[rand(HOSTILE.length)];
  const res = note(await http.raw(method, path, body));
  counters.hostile++;
  if (res.status >= 400 && res.status < 500) counters.hostileRefused++;
  else problems.push(`hostile ${method} ${path.slice(0, 60)}: ${res.status}`);
}

const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
const elapsed = (performance.now() - t0) / 1000;

// ---- verification ---------------------------------------------------------------------------
let checked = 0;
for (const entry of model.values()) {
  checked++;
  const get = entry.table === "users" ? http.getUser(entry.id) : http.getPost(entry.id);
  const res = await get;
  const row = await w.db.prepare(`SELECT * FROM ${entry.table} WHERE id = ?`).bind(entry.id).first();
  // An entry the faults left undecodable is a miss for the cache (never served): null here.
  const cached = await currentEntry(w.kv, entry.table, entry.id).catch(() => null);
  if (entry.deleted) {
    if (res.status !== 404) problems.push(`deleted ${entry.table}/${entry.id} served: ${res.status}`);
    if (row !== null) problems.push(`deleted ${entry.table}/${entry.id} still in D1`);
    if (cached !== null) problems.push(`deleted ${entry.table}/${entry.id} would be served from KV`);
    continue;
  }
  if (res.status !== 200) {
    problems.push(`acknowledged ${entry.table}/${entry.id}: ${res.status}`);
    continue;
  }
  for (const [k, v] of Object.entries(entry.value)) {
    if (http.record(res)[k] !== v) problems.push(`${entry.table}/${entry.id}.${k}: API ${http.record(res)[k]}, expected ${v}`);
    if (row?.[k] !== v) problems.push(`${entry.table}/${entry.id}.${k}: D1 ${row?.[k]}, expected ${v}`);
  }
  if (cached !== null) {
    const names = (await w.db.prepare(`SELECT name FROM pragma_table_info('${entry.table}') ORDER BY cid`).all()).results.map((r) => r.name);
    for (const [k, v] of Object.entries(entry.value)) {
      if (cached.row[names.indexOf(k)] !== v) problems.push(`${entry.table}/${entry.id}.${k}: KV ${cached.row[names.indexOf(k)]}, expected ${v}`);
    }
  }
}
await w.stop();

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
console.log(`\n${clients} clients × ${seconds} s: ${counters.requests} requests in ${elapsed.toFixed(1)} s = ${(counters.requests / elapsed).toFixed(0)} req/s`);
console.log("route                              count   p50 ms   p99 ms");
for (const [route, xs] of [...samples].sort()) {
  xs.sort((a, b) => a - b);
  console.log(`${route.padEnd(34)} ${String(xs.length).padStart(5)} ${pct(xs, 50).toFixed(1).padStart(8)} ${pct(xs, 99).toFixed(1).padStart(8)}`);
}
console.log(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
console.log(`faults injected (KV entries corrupted): ${counters.faultsInjected}; hostile requests: ${counters.hostile}, refused with 4xx: ${counters.hostileRefused}; 5xx: ${counters.serverErrors}`);
console.log(`verified ${checked} records (API, D1, KV): ${problems.length} problems`);
for (const p of problems.slice(0, 20)) console.log(`  PROBLEM ${p}`);
console.log(JSON.stringify({ clients, seconds, elapsed, ...counters, verified: checked, problems: problems.length }));
process.exit(problems.length === 0 ? 0 : 1);
