//! A small SQLite tokenizer: just enough to find the bare words, `;`s and bound-parameter
//! markers of SQL text, skipping string and blob literals, quoted identifiers, numbers and
//! comments, and tracking parenthesis depth. It never panics, whatever the input (unterminated
//! literals and comments run to the end of the text, unbalanced parentheses are tolerated).

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A keyword or unquoted identifier.
    Word,
    /// A `;`.
    Semicolon,
    /// A bound parameter: `?`, `?NNN`, `:name`, `@name` or `$name`.
    Param,
}

/// One token: its kind, its text, where it starts in the SQL (bytes) and its parenthesis
/// depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: &'a str,
    pub(crate) start: usize,
    pub(crate) depth: usize,
}

/// The tokens of SQL text, in order.
pub(crate) struct Tokens<'a> {
    sql: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(sql: &'a str) -> Self {
        Tokens {
            sql,
            pos: 0,
            depth: 0,
        }
    }

    /// Index just past the next `close` at or after `from` (or the end of the text).
    fn skip_past(&self, from: usize, close: &[u8]) -> usize {
        let bytes = self.sql.as_bytes();
        (from..bytes.len())
            .find(|&i| bytes.get(i..).is_some_and(|rest| rest.starts_with(close)))
            .map_or(bytes.len(), |i| i + close.len())
    }

    /// Index just past a quoted token opened at `from` with `quote` (a doubled quote is an
    /// escaped one).
    fn skip_quoted(&self, from: usize, quote: u8) -> usize {
        let bytes = self.sql.as_bytes();
        let mut i = from + 1;
        while let Some(&b) = bytes.get(i) {
            if b == quote {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i += 1;
        }
        bytes.len()
    }

    /// Index just past the run of bytes from `from` that satisfy `keep`.
    fn scan_while(&self, from: usize, keep: impl Fn(u8) -> bool) -> usize {
        let bytes = self.sql.as_bytes();
        (from..bytes.len())
            .find(|&i| !bytes.get(i).is_some_and(|&b| keep(b)))
            .unwrap_or(bytes.len())
    }

    fn token(&mut self, kind: Kind, start: usize, end: usize) -> Option<Token<'a>> {
        self.pos = end;
        // Token boundaries are ASCII bytes or the ends of the text, so the slice is always on
        // char boundaries; `get` keeps this panic-free regardless.
        let text = self.sql.get(start..end)?;
        Some(Token {
            kind,
            text,
            start,
            depth: self.depth,
        })
    }
}

/// Bytes that continue an identifier (and start one, except digits and `$`).
pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let bytes = self.sql.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            let start = self.pos;
            let next = bytes.get(start + 1).copied();
            match b {
                b'-' if next == Some(b'-') => self.pos = self.skip_past(start + 2, b"\n"),
                b'/' if next == Some(b'*') => self.pos = self.skip_past(start + 2, b"*/"),
                b'\'' | b'"' | b'`' => self.pos = self.skip_quoted(start, b),
                b'[' => self.pos = self.skip_past(start + 1, b"]"),
                b'(' => {
                    self.depth += 1;
                    self.pos += 1;
                }
                b')' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.pos += 1;
                }
                b';' => return self.token(Kind::Semicolon, start, start + 1),
                b'?' => {
                    let end = self.scan_while(start + 1, |c| c.is_ascii_digit());
                    return self.token(Kind::Param, start, end);
                }
                b':' | b'@' | b'$' if next.is_some_and(is_word_byte) => {
                    let end = self.scan_while(start + 1, is_word_byte);
                    return self.token(Kind::Param, start, end);
                }
                // A number (`1e5`, `0x1F`, `1.5`): not a word.
                b'0'..=b'9' => self.pos = self.scan_while(start, |c| is_word_byte(c) || c == b'.'),
                _ if is_word_byte(b) => {
                    let end = self.scan_while(start, is_word_byte);
                    return self.token(Kind::Word, start, end);
                }
                _ => self.pos += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(sql: &str) -> Vec<(Kind, &str, usize)> {
        Tokens::new(sql)
            .map(|t| (t.kind, t.text, t.depth))
            .collect()
    }

    #[test]
    fn skips_literals_identifiers_numbers_and_comments() {
        use Kind::*;
        assert_eq!(
            tokens(
                "SELECT 'returning ?', \"returning?\", `x?`, [y ?], 1e5, x'00' -- ? returning\n\
                 /* returning ? */ FROM (t)"
            ),
            vec![
                (Word, "SELECT", 0),
                (Word, "x", 0),
                (Word, "FROM", 0),
                (Word, "t", 1)
            ]
        );
        assert_eq!(tokens("'it''s' a"), vec![(Word, "a", 0)]);
        assert_eq!(tokens("\"a\"\"b\" c"), vec![(Word, "c", 0)]);
        assert_eq!(
            tokens("a; (b;)"),
            vec![
                (Word, "a", 0),
                (Semicolon, ";", 0),
                (Word, "b", 1),
                (Semicolon, ";", 1)
            ]
        );
    }

    #[test]
    fn finds_parameters() {
        use Kind::*;
        assert_eq!(
            tokens("a = ? AND b IN (?12, :n, @m, $o) AND c::d"),
            vec![
                (Word, "a", 0),
                (Param, "?", 0),
                (Word, "AND", 0),
                (Word, "b", 0),
                (Word, "IN", 0),
                (Param, "?12", 1),
                (Param, ":n", 1),
                (Param, "@m", 1),
                (Param, "$o", 1),
                (Word, "AND", 0),
                (Word, "c", 0),
                (Param, ":d", 0),
            ]
        );
        let t: Vec<usize> = Tokens::new("SELECT ?, ?").map(|t| t.start).collect();
        assert_eq!(t, vec![0, 7, 10]);
    }

    #[test]
    fn survives_unterminated_and_unbalanced_input() {
        for sql in [
            "'open", "\"open", "[open", "/* open", "-- open", ")))", "(((", "é ü", "", "?", ":",
            "$", "'é", "é'",
        ] {
            let _ = tokens(sql);
        }
        assert_eq!(tokens("))) a"), vec![(Kind::Word, "a", 0)]);
        assert_eq!(
            tokens("ünïcode_name x"),
            vec![(Kind::Word, "ünïcode_name", 0), (Kind::Word, "x", 0)]
        );
    }
}
