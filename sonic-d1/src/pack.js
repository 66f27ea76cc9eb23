// The rows of a D1 `raw({ columnNames: true })` result, packed into wasm's memory in one call:
// reading them from Rust cell by cell costs one to three calls across the boundary per cell,
// and a text one more copy each (issue #14 item 2). What each value means is decided in Rust
// (`decode_packed` in src/decode.rs); this only sorts values by `typeof` and moves them.

const encoder = new TextEncoder();

// How many numbers `cells` starts with: whether the names are `kept`'s, the width, the row
// count, and how many bytes of `bytes` the texts take.
const HEAD = 4;

// Packs `rows` into `cells` and `bytes` (views of wasm's memory): after the head, per cell a
// kind and a number: 0 null or undefined; 1 a number (itself); 2 a text (its length in UTF-16
// units; the texts follow one another in `bytes`, as UTF-8); 3 a boolean (0 or 1); 4 anything
// else (read again by itself). Returns 0 when packed; 1 when `cells` or `bytes` is too small,
// and then `cells` holds the lengths they need (`cells` is never shorter than the head); -1
// when `rows` is not an array of arrays of one width, whose first holds the names: the caller
// then reads it value by value and reports what is wrong.
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
    for (let c = 0; c < width; c++, k += 2) {
      const value = row[c];
      switch (typeof value) {
        case "string":
          cells[k] = 2;
          cells[k + 1] = value.length;
          text += value;
          break;
        case "number":
          cells[k] = 1;
          cells[k + 1] = value;
          break;
        case "boolean":
          cells[k] = 3;
          cells[k + 1] = value ? 1 : 0;
          break;
        default:
          cells[k] = value === null || value === undefined ? 0 : 4;
          cells[k + 1] = 0;
      }
    }
  }
  // A UTF-16 unit takes at most three bytes of UTF-8.
  const { read, written } = encoder.encodeInto(text, bytes);
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
