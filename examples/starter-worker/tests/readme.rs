//! The root README shows files of this crate (and its end-to-end test) as code blocks; each such
//! block is preceded by a marker naming the file, relative to the repository root:
//!
//! - `<!-- same as PATH -->`: the block is the whole file;
//! - `<!-- part of PATH -->`: the block is a contiguous part of it.
//!
//! The README's Rust blocks are doctests of `sonic-db`, except the `ignore`d ones, which only
//! run inside workerd: each of those must be marked, so that it is compiled here (as this
//! crate, to wasm by scripts/starter-worker.sh) instead.

// Reason: test helpers outside `#[test]` functions fail the test by panicking, and index the
// README's lines within bounds they have just checked.
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

const README: &str = include_str!("../../../README.md");

struct Block {
    marker: String,
    fence: String,
    body: String,
    line: usize,
}

/// Every fenced block of the README, with the HTML comment on the line before it (or "").
fn blocks() -> Vec<Block> {
    let lines: Vec<&str> = README.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(fence) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let marker = match i.checked_sub(1).map(|j| lines[j].trim()) {
            Some(prev) if prev.starts_with("<!--") => prev.to_string(),
            _ => String::new(),
        };
        let start = i + 1;
        let end = (start..lines.len())
            .find(|&j| lines[j] == "```")
            .unwrap_or_else(|| panic!("README.md:{}: unclosed code block", i + 1));
        blocks.push(Block {
            marker,
            fence: fence.to_string(),
            body: lines[start..end].join("\n") + "\n",
            line: i + 1,
        });
        i = end + 1;
    }
    blocks
}

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path))
        .unwrap_or_else(|e| panic!("README.md names {path}, which cannot be read: {e}"))
}

#[test]
fn marked_blocks_match_their_files() {
    let mut checked = Vec::new();
    for block in blocks() {
        let marker = block
            .marker
            .trim_start_matches("<!--")
            .trim_end_matches("-->")
            .trim();
        if let Some(path) = marker.strip_prefix("same as ") {
            assert!(
                read(path) == block.body,
                "README.md:{}: the block is not {path} (copy the file into the README, or back)",
                block.line
            );
            checked.push(path.to_string());
        } else if let Some(path) = marker.strip_prefix("part of ") {
            assert!(
                read(path).contains(&block.body),
                "README.md:{}: the block is not a part of {path} (copy it into the README, or back)",
                block.line
            );
            checked.push(path.to_string());
        } else {
            assert!(
                !block.fence.contains("ignore"),
                "README.md:{}: an ignored Rust block must be marked <!-- same as / part of PATH --> \
                 with the file that compiles it",
                block.line
            );
        }
    }
    for path in [
        "examples/starter-worker/src/schema.rs",
        "examples/starter-worker/src/bin/migrate.rs",
        "examples/starter-worker/src/lib.rs",
        "examples/starter-worker/wrangler.toml",
    ] {
        assert!(
            checked.iter().any(|p| p == path),
            "README.md no longer shows {path}"
        );
    }
}
