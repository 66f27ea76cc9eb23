// Each struct is one misuse of `#[table(primary_key(..))]`; every error names the fix.

#[derive(sonic_db_core::Table)]
#[table(name = "a", primary_key(post_id, nope))]
struct UnknownColumn {
    post_id: String,
    tag_id: String,
}

#[derive(sonic_db_core::Table)]
#[table(name = "b", primary_key(post_id, post_id))]
struct Repeated {
    post_id: String,
    tag_id: String,
}

#[derive(sonic_db_core::Table)]
#[table(name = "c", primary_key(post_id))]
struct OneColumn {
    post_id: String,
    tag_id: String,
}

#[derive(sonic_db_core::Table)]
#[table(name = "d", primary_key(post_id, tag_id), primary_key(tag_id, post_id))]
struct Twice {
    post_id: String,
    tag_id: String,
}

#[derive(sonic_db_core::Table)]
#[table(name = "e", primary_key(post_id, tag_id))]
struct OptionalPart {
    post_id: String,
    tag_id: Option<String>,
}

#[derive(sonic_db_core::Table)]
#[table(name = "f", primary_key(post_id, tag_id))]
struct ManyWithoutLocal {
    post_id: String,
    tag_id: String,
    #[relation(many, remote = link_post)]
    notes: Option<Vec<Note>>,
}

#[derive(sonic_db_core::Table)]
struct Note {
    #[column(primary_key)]
    id: String,
    link_post: String,
}

#[derive(sonic_db_core::Table)]
#[table(name = "g", primary_key(post_id, token))]
struct SecretPart {
    post_id: String,
    #[column(secret)]
    token: String,
}

fn main() {}
