// Every problem is reported in one compile, each at its own place.
#[derive(sonic_db_core::Table)]
#[table(name = "users", name = "people")]
struct User {
    #[column(uniq)]
    email: String,
    #[audit]
    audit: i64,
    #[column(on_delete = "cascade")]
    boss_id: String,
    #[relation(many)]
    posts: Option<Vec<User>>,
}

fn main() {}
