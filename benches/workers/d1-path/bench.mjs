// Runs benches/workers/d1-path's paths (built by run.sh into target/d1-path) in Node on a
// stand-in D1 binding: Sonic and the hand-written code take turns, ROUNDS rounds of N calls
// each, and each figure is the fastest round's µs per call. The stand-in answers as D1's
// binding does, with fresh values each time (JSON.parse of a canned answer: `raw()` for Sonic,
// `first()`/`all()` for the hand-written code), so its own JavaScript is timed too, alike.
//
// Usage: node benches/workers/d1-path/bench.mjs [--rounds 25] [--n 2000]
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const m = createRequire(import.meta.url)(path.resolve(here, "../../../target/d1-path/sonic_bench_d1_path.js"));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg("--rounds", 25);
const N = arg("--n", 2000);

const user = { id: 1, name: "Ada Lovelace", email: "ada@example.com", hair_color: null };
const posts = Array.from({ length: 20 }, (_, i) => ({
  id: 120 - i,
  user_id: 1,
  title: `Post number ${120 - i}`,
  body: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore.",
}));
const answers = {
  insert: { names: Object.keys(user), rows: [user] },
  list: { names: Object.keys(posts[0]), rows: posts },
};
const json = (value) => JSON.stringify(value);

// Each path's answer as D1 would send it over the wire, made once: `raw()` rows (the column
// names first) and `first()`/`all()` objects.
for (const answer of Object.values(answers)) {
  answer.raw = json([answer.names, ...answer.rows.map((r) => answer.names.map((n) => r[n]))]);
  answer.objects = json(answer.rows);
}
class D1PreparedStatement {
  constructor(sql) {
    this.answer = answers[/^INSERT/i.test(sql) ? "insert" : "list"];
  }
  bind() {
    return this;
  }
  raw(options) {
    const all = JSON.parse(this.answer.raw);
    return Promise.resolve(options?.columnNames ? all : all.slice(1));
  }
  first() {
    return Promise.resolve(JSON.parse(this.answer.objects)[0] ?? null);
  }
  all() {
    return Promise.resolve({ results: JSON.parse(this.answer.objects), success: true, meta: { changes: 0 } });
  }
}
class D1Database {
  prepare(sql) {
    return new D1PreparedStatement(sql);
  }
}
const env = { DB: new D1Database() };

for (const route of ["insert", "list"]) {
  const impls = { sonic: m[`sonic_${route}`], hand: m[`hand_${route}`] };
  for (const [impl, run] of Object.entries(impls)) {
    const right = await run(env, 3);
    if (right !== 3) throw new Error(`${impl} ${route}: ${right} of 3 answers right`);
  }
  const best = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [impl, run] of Object.entries(impls)) {
      const start = process.hrtime.bigint();
      await run(env, N);
      const us = Number(process.hrtime.bigint() - start) / N / 1e3;
      best[impl] = Math.min(best[impl] ?? Infinity, us);
    }
  }
  console.log(`${route}: Sonic ${best.sonic.toFixed(2)} µs, hand-written ${best.hand.toFixed(2)} µs, Sonic ÷ hand ${(best.sonic / best.hand).toFixed(2)}`);
}
