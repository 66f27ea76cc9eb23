#[derive(sonic_db_core::Table)]
#[table(name = "post_tags", primary_key(post_id, tag_id))]
struct PostTag {
    #[column(primary_key)]
    id: Option<i64>,
    post_id: String,
    tag_id: String,
}

fn main() {}
