//! Reading a D1 result through `src/pack.js`: one call packs every cell into a buffer of
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

use crate::cells::classify;
use crate::decode::{decode_packed, unexpected, JsCell};
use crate::names::KeptNames;
use crate::thrown::js_error;

#[wasm_bindgen(module = "/src/pack.js")]
extern "C" {
    /// `packRows(rows, kept, cells, bytes)`: a `raw({ columnNames: true })` output.
    #[wasm_bindgen(js_name = packRows, catch)]
    fn pack_rows(
        rows: &Array,
        kept: &JsValue,
        cells: &mut [f64],
        bytes: &mut [u8],
    ) -> std::result::Result<f64, JsValue>;

    /// `packObjects(rows, keys, cells, bytes)`: a batch result's rows, objects.
    #[wasm_bindgen(js_name = packObjects, catch)]
    fn pack_objects(
        rows: &Array,
        keys: &Array,
        cells: &mut [f64],
        bytes: &mut [u8],
    ) -> std::result::Result<f64, JsValue>;
}

/// The packing function packed the rows.
const PACKED: f64 = 0.0;
/// The packing function needs larger buffers, whose lengths it wrote first in `cells`.
const TOO_SMALL: f64 = 1.0;
/// How many numbers `cells` starts with: whether the names are the kept ones, the width, the
/// row count and the length of the texts in bytes.
const HEAD: usize = 4;
/// The buffers kept between results at most (numbers, bytes); a larger result grows them for
/// itself.
const KEPT: (usize, usize) = (4096, 16384);

/// The buffers the packing functions write into, kept per isolate.
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

/// What a packing function wrote: its head, the cells and the texts.
struct Packed<'b> {
    same_names: bool,
    width: usize,
    count: usize,
    cells: &'b [f64],
    texts: &'b str,
}

/// The columns, values and row count of `rows` (`raw({ columnNames: true })`'s output),
/// packed; `Ok(None)` when they are to be read value by value.
pub(crate) fn read_rows(rows: &Array, names: &KeptNames) -> Result<Option<Read>> {
    let kept = names.header();
    with_packed(
        &|cells, bytes| pack_rows(rows, &kept, cells, bytes),
        &mut |packed| {
            // `packRows` compared the names already.
            let columns = match names.kept().filter(|_| packed.same_names) {
                Some(kept) => kept,
                None => names.read(&rows.get(0))?,
            };
            let width = packed.width;
            decode(columns, &packed, &|index| {
                let row = rows.get(u32_index(index / width + 1));
                Reflect::get_u32(&row, u32_index(index % width))
            })
        },
    )
}

/// The columns, values and row count of a batch result's `rows`, objects read by `keys`
/// (whose names are `columns`), packed; `Ok(None)` when they are to be read value by value.
pub(crate) fn read_objects(
    rows: &Array,
    keys: &Array,
    columns: &Arc<[String]>,
) -> Result<Option<Read>> {
    with_packed(
        &|cells, bytes| pack_objects(rows, keys, cells, bytes),
        &mut |packed| {
            let width = packed.width;
            decode(columns.clone(), &packed, &|index| {
                let row = rows.get(u32_index(index / width));
                Reflect::get(&row, &keys.get(u32_index(index % width)))
            })
        },
    )
}

/// A packing function on the buffers: `packRows` or `packObjects` with their other arguments.
type Pack<'a> = dyn Fn(&mut [f64], &mut [u8]) -> std::result::Result<f64, JsValue> + 'a;

/// Runs `pack` on the isolate's buffers (grown once if it asks), then `read` on what it wrote.
/// Not generic: one copy for both kinds of results (Worker size, issue #14 item 5).
fn with_packed(
    pack: &Pack<'_>,
    read: &mut dyn FnMut(Packed<'_>) -> Result<Option<Read>>,
) -> Result<Option<Read>> {
    BUFFERS.with(|buffers| {
        // Never borrowed twice (nothing here awaits); value by value if it were.
        let Ok(mut buffers) = buffers.try_borrow_mut() else {
            return Ok(None);
        };
        let buffers = &mut *buffers;
        let mut status = pack(&mut buffers.cells, &mut buffers.bytes).map_err(js_error)?;
        if status == TOO_SMALL {
            let needed = |i: usize| buffers.cells.get(i).copied().and_then(whole);
            let (Some(cells), Some(bytes)) = (needed(0), needed(1)) else {
                return Err(unexpected("D1 rows were packed without their sizes"));
            };
            buffers.cells.resize(cells.max(buffers.cells.len()), 0.0);
            buffers.bytes.resize(bytes.max(buffers.bytes.len()), 0);
            status = pack(&mut buffers.cells, &mut buffers.bytes).map_err(js_error)?;
        }
        let result = if status == PACKED {
            unpack(buffers).and_then(read)
        } else {
            Ok(None)
        };
        let (cells, bytes) = KEPT;
        if buffers.cells.len() > cells || buffers.bytes.len() > bytes {
            *buffers = Buffers {
                cells: vec![0.0; cells],
                bytes: vec![0; bytes],
            };
        }
        result
    })
}

/// The head, cells and texts a packing function wrote.
fn unpack(buffers: &Buffers) -> Result<Packed<'_>> {
    let head = match buffers.cells.get(..HEAD) {
        Some(&[same, width, count, written]) => [same, width, count, written].map(whole),
        _ => [None; HEAD],
    };
    let [Some(same), Some(width), Some(count), Some(written)] = head else {
        return Err(unexpected("D1 rows were packed without their counts"));
    };
    let cells = width
        .checked_mul(count)
        .and_then(|n| n.checked_mul(2))
        .and_then(|n| buffers.cells.get(HEAD..HEAD.checked_add(n)?));
    let texts = buffers.bytes.get(..written).map(std::str::from_utf8);
    let (Some(cells), Some(Ok(texts))) = (cells, texts) else {
        return Err(unexpected("D1 rows were packed unevenly"));
    };
    Ok(Packed {
        same_names: same == 1,
        width,
        count,
        cells,
        texts,
    })
}

/// The values of `packed` under `columns`, those it could not pack read by `cell` (by index).
fn decode(
    columns: Arc<[String]>,
    packed: &Packed<'_>,
    cell: &dyn Fn(usize) -> std::result::Result<JsValue, JsValue>,
) -> Result<Option<Read>> {
    if columns.len() != packed.width {
        return Err(unexpected("D1 rows were packed unevenly"));
    }
    let values = decode_packed(&columns, packed.cells, packed.texts, |index| {
        match cell(index) {
            Ok(cell) => classify(&cell),
            Err(_) => JsCell::Other("value that could not be read".into()),
        }
    })?;
    Ok(values.map(|values| (columns, values, packed.count)))
}

/// `n` as a count: a whole number from 0 to 2^32 (what the packing functions write as counts).
fn whole(n: f64) -> Option<usize> {
    if n.fract() == 0.0 && (0.0..=4_294_967_296.0).contains(&n) {
        Some(n as usize)
    } else {
        None
    }
}

/// An index into a JavaScript array (whose lengths are below 2^32).
fn u32_index(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}
