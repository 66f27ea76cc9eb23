// A relation that would join on the related table's composite primary key: a foreign key
// cannot reference it, so the relation is refused where it is declared.
use sonic_db_core::{One, Table};

#[derive(Table)]
#[table(name = "post_tags", primary_key(post_id, tag_id))]
struct PostTag {
    post_id: String,
    tag_id: String,
}

#[derive(Table)]
struct Comment {
    #[column(primary_key)]
    id: String,
    post_id: String,
    // `one` without `remote` joins on `PostTag`'s key.
    #[relation(one, local = post_id)]
    tagging: One<PostTag>,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    // Many-to-many to a table keyed by a pair.
    #[relation(many, through = Link, from = post_id, to = tag_id)]
    taggings: Option<Vec<PostTag>>,
}

#[derive(Table)]
struct Link {
    #[column(primary_key)]
    id: String,
    post_id: String,
    tag_id: String,
}

fn main() {}
