// Where a key's row (of K or V) starts, for the attention kernels. Contiguous
// (PAGE_SIZE = 0): key j of sequence b and KV head h is at
//   offset + b * batch + h * head + j * row.
// Paged (PAGE_SIZE > 0, a paged KV cache): K and V are pools [pages, heads, PAGE_SIZE,
// dim] and sequence b's key j lives in page block_table[b * p.table_row + j / PAGE_SIZE]
// at row j mod PAGE_SIZE:
//   offset + page * batch + h * head + (j mod PAGE_SIZE) * row
// with `batch` the pool's page stride. An entry outside the pool (past a sequence's end,
// where only keys its mask hides are read) is clamped into it, so every read is in
// bounds whatever the table holds.
layout(std430, binding = 5) readonly buffer BlockTable { int block_table[]; };

uint key_row(uint offset, uint batch, uint head, uint row, uint b, uint h, uint j) {
  if (PAGE_SIZE == 0u) return offset + b * batch + h * head + j * row;
  const int entry = block_table[b * p.table_row + j / PAGE_SIZE];
  const uint page = uint(clamp(entry, 0, int(p.pages) - 1));
  return offset + page * batch + h * head + (j % PAGE_SIZE) * row;
}
