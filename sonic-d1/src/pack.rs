//! Reading a `raw()` result through `src/pack.js`: one call packs every cell into a buffer of
//! numbers and every text into a buffer of UTF-8, both in wasm's memory, so a result costs one
//! call across the boundary instead of one to three per cell (issue #14 item 2). What the
//! packed values mean is `decode_packed`'s business; what the packing does not cover (another
//! shape, a value that is not a number, text, boolean or `null`) is read value by value.

use std::cell::RefCell;
use std::sync::Arc;

use sonic_db_core::{Result, Value};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::js_sys::{Array, Reflect};

use crate::cells::{classify, column_names_of};
use crate::decode::{decode_packed, unexpected, JsCell};
use crate::names::KeptNames;
use crate::thrown::js_error;

#[wasm_bindgen(module = "/src/pack.js")]
extern "C" {
    /// `packRows(rows, kept, cells, bytes)`: [`PACKED`], [`TOO_SMALL`] or anything else for a
    /// shape it does not pack.
    #[wasm_bindgen(js_name = packRows, catch)]
    fn pack_rows(
        rows: &Array,
        kept: &JsValue,
        cells: &mut [f64],
        bytes: &mut [u8],
    ) -> std::result::Result<f64, JsValue>;
}

/// `packRows` packed the rows.
const PACKED: f64 = 0.0;
/// `packRows` needs larger buffers, whose lengths it wrote first in `cells`.
const TOO_SMALL: f64 = 1.0;
/// How many numbers `cells` starts with: whether the names are the kept ones, the width, the
/// row count and the length of the texts in bytes.
const HEAD: usize = 4;
/// The buffers kept between results at most (numbers, bytes); a larger result grows them for
/// itself.
const KEPT: (usize, usize) = (4096, 16384);

/// The buffers `packRows` writes into, kept per isolate.
struct Buffers {
    cells: Vec<f64>,
    bytes: Vec<u8>,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers {
        cells: vec![0.0; 256],
        bytes: vec![0; 1024],
    });
}

/// A result: its columns, its values row after row, and how many rows.
pub(crate) type Read = (Arc<[String]>, Vec<Value>, usize);

/// The columns, values and row count of `rows` (`raw({ columnNames: true })`'s output),
/// packed; `Ok(None)` when they are to be read value by value.
pub(crate) fn read_packed(rows: &Array, names: &KeptNames) -> Result<Option<Read>> {
    BUFFERS.with(|buffers| {
        // Never borrowed twice (nothing here awaits); value by value if it were.
        let Ok(mut buffers) = buffers.try_borrow_mut() else {
            return Ok(None);
        };
        let read = read_with(&mut buffers, rows, names);
        let (cells, bytes) = KEPT;
        if buffers.cells.len() > cells || buffers.bytes.len() > bytes {
            buffers.cells = vec![0.0; cells];
            buffers.bytes = vec![0; bytes];
        }
        read
    })
}

fn read_with(buffers: &mut Buffers, rows: &Array, names: &KeptNames) -> Result<Option<Read>> {
    let kept = names.header();
    let mut status =
        pack_rows(rows, &kept, &mut buffers.cells, &mut buffers.bytes).map_err(js_error)?;
    if status == TOO_SMALL {
        let needed = |i: usize| buffers.cells.get(i).copied().and_then(whole);
        let (Some(cells), Some(bytes)) = (needed(0), needed(1)) else {
            return Err(unexpected("D1 raw() rows were packed without their sizes"));
        };
        buffers.cells.resize(cells.max(buffers.cells.len()), 0.0);
        buffers.bytes.resize(bytes.max(buffers.bytes.len()), 0);
        status =
            pack_rows(rows, &kept, &mut buffers.cells, &mut buffers.bytes).map_err(js_error)?;
    }
    if status != PACKED {
        return Ok(None);
    }
    let head = match buffers.cells.get(..HEAD) {
        Some(&[same, width, count, written]) => [same, width, count, written].map(whole),
        _ => [None; HEAD],
    };
    let [Some(same), Some(width), Some(count), Some(written)] = head else {
        return Err(unexpected("D1 raw() rows were packed without their counts"));
    };
    let cells = width
        .checked_mul(count)
        .and_then(|n| n.checked_mul(2))
        .and_then(|n| buffers.cells.get(HEAD..HEAD.checked_add(n)?));
    let texts = buffers.bytes.get(..written).map(std::str::from_utf8);
    let (Some(cells), Some(Ok(texts))) = (cells, texts) else {
        return Err(unexpected("D1 raw() rows were packed unevenly"));
    };
    let columns = match names.kept().filter(|_| same == 1) {
        Some(kept) => kept,
        None => names.get_or_read(&rows.get(0), column_names_of)?,
    };
    if columns.len() != width {
        return Err(unexpected("D1 raw() rows were packed unevenly"));
    }
    let values = decode_packed(&columns, cells, texts, |index| {
        match cell_at(rows, index / width + 1, index % width) {
            Ok(cell) => classify(&cell),
            Err(_) => JsCell::Other("value that could not be read".into()),
        }
    })?;
    Ok(values.map(|values| (columns, values, count)))
}

/// `n` as a count: a whole number from 0 to 2^32 (what `packRows` writes as counts).
fn whole(n: f64) -> Option<usize> {
    if n.fract() == 0.0 && (0.0..=4_294_967_296.0).contains(&n) {
        Some(n as usize)
    } else {
        None
    }
}

/// The value in row `row` of `rows` (the names are row 0), column `column`.
fn cell_at(rows: &Array, row: usize, column: usize) -> std::result::Result<JsValue, JsValue> {
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    Reflect::get_u32(&rows.get(index(row)), index(column))
}
