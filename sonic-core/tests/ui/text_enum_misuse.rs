#[derive(sonic_db_core::TextEnum)]
enum Role {
    Admin,
    #[text(rename = "admin")]
    Root,
    User(String),
    #[text(renam = "x")]
    Guest,
}

#[derive(sonic_db_core::TextEnum)]
struct NotAnEnum {
    a: i64,
}

#[derive(sonic_db_core::TextEnum)]
enum Empty {}

fn main() {}

#[derive(sonic_db_core::TextEnum)]
#[text(rename = "kind")]
enum Kind<T> {
    A,
    B(T),
}
