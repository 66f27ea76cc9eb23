-- The benchmark's data, the same for the three Workers: 2,000 users (ids 1..2000, half of them
-- black-haired); users 1..100 have 25 posts each (post ids 1..2500, user_id = (id - 1) / 25 + 1);
-- posts 1..250 (users 1..10) have 4 comments each (comment ids 1..1000).

INSERT INTO "users" ("id", "name", "email", "hair_color")
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
SELECT i, 'user ' || i, 'user' || i || '@example.com', CASE i % 2 WHEN 0 THEN 'black' ELSE NULL END FROM n;

INSERT INTO "posts" ("id", "user_id", "title", "body")
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
SELECT i, (i - 1) / 25 + 1, 'post ' || i, 'the body of post ' || i || ', a few words long' FROM n;

INSERT INTO "comments" ("id", "post_id", "body")
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
SELECT i, (i - 1) / 4 + 1, 'comment ' || i FROM n;
