// The rows of a D1 result, packed into wasm's memory in one call: reading them from Rust cell
// by cell costs one to three calls across the boundary per cell, and a text one more copy
// each (issue #14 item 2). What each value means is decided in Rust (`decode_packed` in
// src/decode.rs); this only sorts values by `typeof` and moves them.
//
// Both functions write into `cells` and `bytes` (views of wasm's memory) and return 0 when
// packed; 1 when `cells` or `bytes` is too small, and then `cells` holds the lengths they need
// (`cells` is never shorter than the head); -1 for a shape they do not pack: the caller then
// reads the result value by value and reports what is wrong. `cells` starts with a head:
// whether the names are the kept ones, the width, the row count, and how many bytes of `bytes`
// the texts take. Then, per cell, a kind and a number: 0 null or undefined; 1 a number
// (itself); 2 a text (its length in UTF-16 units; the texts follow one another in `bytes`, as
// UTF-8); 3 a boolean (0 or 1); 4 anything else (read again by itself).

const encoder = new TextEncoder();
const HEAD = 4;

// `raw({ columnNames: true })`'s output: the names (compared with `kept`'s), then one array
// per row.
export function packRows(rows, kept, cells, bytes) {
  if (!Array.isArray(rows) || rows.length === 0) return -1;
  const names = rows[0];
  if (!Array.isArray(names)) return -1;
  const width = names.length;
  const count = rows.length - 1;
  const needed = HEAD + 2 * width * count;
  if (cells.length < needed) return tooSmall(cells, needed, bytes.length);
  let same = Array.isArray(kept) && kept.length === width;
  for (let i = 0; same && i < width; i++) same = names[i] === kept[i];
  let text = "";
  let k = HEAD;
  for (let r = 1; r <= count; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) return -1;
    for (let c = 0; c < width; c++, k += 2) text += put(cells, k, row[c]);
  }
  return finish(cells, bytes, needed, text, same, width, count);
}

// A batch result's rows, objects, read by `keys` (the first row's).
export function packObjects(rows, keys, cells, bytes) {
  if (!Array.isArray(rows) || !Array.isArray(keys)) return -1;
  const width = keys.length;
  const count = rows.length;
  const needed = HEAD + 2 * width * count;
  if (cells.length < needed) return tooSmall(cells, needed, bytes.length);
  let text = "";
  let k = HEAD;
  for (let r = 0; r < count; r++) {
    const row = rows[r];
    if (typeof row !== "object" || row === null) return -1;
    for (let c = 0; c < width; c++, k += 2) text += put(cells, k, row[keys[c]]);
  }
  return finish(cells, bytes, needed, text, false, width, count);
}

// Writes `value`'s kind and number at `cells[k]`; returns its text, or "".
function put(cells, k, value) {
  switch (typeof value) {
    case "string":
      cells[k] = 2;
      cells[k + 1] = value.length;
      return value;
    case "number":
      cells[k] = 1;
      cells[k + 1] = value;
      return "";
    case "boolean":
      cells[k] = 3;
      cells[k + 1] = value ? 1 : 0;
      return "";
    default:
      cells[k] = value === null || value === undefined ? 0 : 4;
      cells[k + 1] = 0;
      return "";
  }
}

function finish(cells, bytes, needed, text, same, width, count) {
  const { read, written } = encoder.encodeInto(text, bytes);
  // A UTF-16 unit takes at most three bytes of UTF-8.
  if (read < text.length) return tooSmall(cells, needed, 3 * text.length);
  cells[0] = same ? 1 : 0;
  cells[1] = width;
  cells[2] = count;
  cells[3] = written;
  return 0;
}

function tooSmall(cells, needed, bytes) {
  cells[0] = needed;
  cells[1] = bytes;
  return 1;
}
