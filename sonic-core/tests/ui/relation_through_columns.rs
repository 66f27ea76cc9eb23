use sonic_db_core::Table;

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    // A misspelt join column.
    #[relation(many, through = CategoryToPost, from = post_id, to = categry_id)]
    categories: Option<Vec<Category>>,
}

#[derive(Table)]
struct Tagged {
    #[column(primary_key)]
    id: i64,
    // `from` holds text, this table's key is an integer.
    #[relation(many, through = CategoryToPost, from = post_id, to = category_id)]
    categories: Option<Vec<Category>>,
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
