-- The Workers benchmark's schema, the same for the three Workers (benches/workers/{sonic,hand,drizzle});
-- Sonic's DDL for benches/workers/sonic/src/schema.rs, applied with `wrangler d1 migrations apply`.

CREATE TABLE IF NOT EXISTS "users" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "hair_color" TEXT
);

CREATE TABLE IF NOT EXISTS "posts" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "user_id" INTEGER NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS "posts_user_id_idx" ON "posts" ("user_id");

CREATE TABLE IF NOT EXISTS "comments" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "post_id" INTEGER NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE,
    "body" TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS "comments_post_id_idx" ON "comments" ("post_id");
