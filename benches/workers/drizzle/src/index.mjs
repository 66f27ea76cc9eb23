// The Workers benchmark's routes with Drizzle ORM on D1: the JavaScript anchor next to
// benches/workers/sonic and benches/workers/hand (same routes, responses and KV policy: a read
// by id reads the record and its two generations from KV in one bulk get and serves it if its
// tags are current, else reads D1 and puts the record, tagged, into KV after the response;
// inserts do no KV operation). Bundled by benches/workers/run.sh with e2e's esbuild into build/index.js.
import { asc, desc, eq, relations } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const users = sqliteTable("users", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull(),
  hair_color: text("hair_color"),
});

export const posts = sqliteTable("posts", {
  id: integer("id").primaryKey(),
  user_id: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  title: text("title").notNull(),
  body: text("body").notNull(),
});

export const comments = sqliteTable("comments", {
  id: integer("id").primaryKey(),
  post_id: integer("post_id").notNull().references(() => posts.id, { onDelete: "cascade" }),
  body: text("body").notNull(),
});

export const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }));
export const postsRelations = relations(posts, ({ one, many }) => ({
  author: one(users, { fields: [posts.user_id], references: [users.id] }),
  comments: many(comments),
}));
export const commentsRelations = relations(comments, ({ one }) => ({
  post: one(posts, { fields: [comments.post_id], references: [posts.id] }),
}));

const schema = { users, posts, comments, usersRelations, postsRelations, commentsRelations };
/** D1's limit of bound parameters per statement, over the 4 columns of `users`. */
const ROWS_PER_INSERT = 25;
/** How many bucket generations the users table has (Sonic's default). */
const BUCKETS = 64;

// A cached user is tagged with the users table's generation and its key's bucket generation,
// as read before the D1 read that produced it ("" for an absent key). A write would put fresh
// generations after D1 (this benchmark has none), so an entry whose tags differ from the
// current ones is stale and never served: Sonic's KV policy, by hand.
function generationKeys(key) {
  let hash = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return ["users:#g", `users:#b${(hash >>> 0) % BUCKETS}`];
}

const json = (value, status = 200) =>
  new Response(typeof value === "string" ? value : JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });

export default {
  async fetch(request, env, ctx) {
    const db = drizzle(env.DB, { schema });
    const url = new URL(request.url);
    const path = url.pathname;
    if (request.method === "GET") {
      const byId = /^\/users\/(\d+)$/.exec(path);
      if (byId) {
        const key = `users:${byId[1]}`;
        const [tableKey, bucketKey] = generationKeys(key);
        const found = await env.KV.get([key, tableKey, bucketKey]);
        const tg = found.get(tableKey) ?? "";
        const bg = found.get(bucketKey) ?? "";
        const cached = found.get(key);
        if (cached != null) {
          const entry = JSON.parse(cached);
          if (entry.tg === tg && entry.bg === bg) return json(entry.user);
        }
        const user = await db.select().from(users).where(eq(users.id, Number(byId[1]))).get();
        if (!user) return json({ error: "not found" }, 404);
        ctx.waitUntil(env.KV.put(key, JSON.stringify({ tg, bg, user }), { expirationTtl: 300 }));
        return json(user);
      }
      if (path === "/posts") {
        const userId = Number(url.searchParams.get("user_id"));
        return json(
          await db.select().from(posts).where(eq(posts.user_id, userId)).orderBy(desc(posts.id)).limit(20),
        );
      }
      if (path === "/posts-with-author") {
        return json(
          await db.query.posts.findMany({ orderBy: desc(posts.id), limit: 20, with: { author: true } }),
        );
      }
      if (path === "/users-with-posts") {
        return json(
          await db.query.users.findMany({
            orderBy: asc(users.id),
            limit: 10,
            with: { posts: { orderBy: asc(posts.id), with: { comments: { orderBy: asc(comments.id) } } } },
          }),
        );
      }
    } else if (request.method === "POST") {
      if (path === "/users") {
        const [stored] = await db.insert(users).values(await request.json()).returning();
        return json(stored, 201);
      }
      if (path === "/users/bulk") {
        const all = await request.json();
        const inserts = [];
        for (let i = 0; i < all.length; i += ROWS_PER_INSERT) {
          inserts.push(db.insert(users).values(all.slice(i, i + ROWS_PER_INSERT)).returning());
        }
        // Atomic like Sonic's insert_many: one batch.
        const results = await db.batch(inserts);
        return json({ inserted: results.reduce((n, rows) => n + rows.length, 0) }, 201);
      }
    }
    return json({ error: "not found" }, 404);
  },
};
