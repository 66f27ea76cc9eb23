//! Name conventions: `snake_case` and the default table name.

/// `BlogPost` → `blog_post`, `HTTPRequest` → `http_request`, `Role2Fa` → `role2_fa`.
///
/// An underscore goes before an upper-case letter that follows a lower-case letter or a digit,
/// and before the last capital of an acronym that is followed by a lower-case letter.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The default table name: Diesel's convention, `snake_case` of the struct name plus `s`
/// (`Post` → `posts`, `BlogPost` → `blog_posts`, `Category` → `categorys`).
pub fn default_table_name(struct_name: &str) -> String {
    let mut name = snake_case(struct_name);
    name.push('s');
    name
}

/// `created_on` → `CREATED_ON`: the name of a column or relation handle.
pub fn upper_snake(field: &str) -> String {
    field.to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake() {
        assert_eq!(snake_case("Post"), "post");
        assert_eq!(snake_case("BlogPost"), "blog_post");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("UserV2"), "user_v2");
        assert_eq!(snake_case("Role2Fa"), "role2_fa");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("Admin"), "admin");
        assert_eq!(snake_case("SuperAdmin"), "super_admin");
    }

    #[test]
    fn table_names() {
        assert_eq!(default_table_name("Post"), "posts");
        assert_eq!(default_table_name("BlogPost"), "blog_posts");
        assert_eq!(default_table_name("User"), "users");
    }

    #[test]
    fn handles() {
        assert_eq!(upper_snake("user_id"), "USER_ID");
    }
}
