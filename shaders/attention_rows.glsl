// The rows of the attention kernels (kernels/attention.h, GROUPED): with GROUPED = 0 a
// row is a query of workgroup y's head; with GROUPED = 1 rows are (query, head) pairs
// of the kv_group query heads that share workgroup y's KV head, heads fastest.
// group_heads: heads in the row space (kv_group or 1); head_base: its first head.

// Row t as (query, head).
uvec2 row_query_head(uint t, uint head_base, uint group_heads) {
  return uvec2(t / group_heads, head_base + t % group_heads);
}

// The queries of rows first..last (inclusive).
ivec2 row_queries(uint first, uint last, uint group_heads) {
  return ivec2(first / group_heads, last / group_heads);
}
