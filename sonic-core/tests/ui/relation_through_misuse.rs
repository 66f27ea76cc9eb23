use sonic_db_core::Table;

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    // `through` on a `one` relation.
    #[relation(one, through = CategoryToPost, from = post_id, to = category_id)]
    main_category: sonic_db_core::One<Category>,
    // `remote` with `through`.
    #[relation(many, through = CategoryToPost, from = post_id, to = category_id, remote = id)]
    categories: Option<Vec<Category>>,
    // `through` without `to`.
    #[relation(many, through = CategoryToPost, from = post_id)]
    tags: Option<Vec<Category>>,
    // `from` and `to` without `through`.
    #[relation(many, from = post_id, to = category_id)]
    labels: Option<Vec<Category>>,
}

#[derive(Table)]
struct Category {
    #[column(primary_key)]
    id: String,
}

#[derive(Table)]
struct CategoryToPost {
    #[column(primary_key)]
    id: String,
    post_id: String,
    category_id: String,
}

fn main() {}
