// The keys a score program may show a block of queries, for the attention kernels.
// Needs the generated score_block_visible (VKATTN_SCORE_VISIBLE): an interval test that
// is false only when no query of rows lo.z..hi.z (of heads lo.y..hi.y) sees any key of
// lo.w..hi.w.
#ifdef VKATTN_SCORE_VISIBLE
bool keys_may_show(int b, ivec2 heads, int first_row, int last_row, int first_key, int last_key, ivec4 extents,
                   ivec2 sqk) {
  return score_block_visible(ivec4(b, heads.x, first_row, first_key), ivec4(b, heads.y, last_row, last_key), extents, sqk);
}

// keys narrowed, in whole blocks of `block` keys counted from keys.x, to the first and
// last block the program may show rows first_row..last_row of heads heads.x..heads.y. Hidden runs at either end
// go in power-of-two groups of blocks, largest first: a cache of C positions holding P
// costs about 2 log2(C / block) tests, not (C - P) / block. A CPU device runs a skipped
// block's masked lanes through it anyway, so bounds, not branches, save the work; the
// split-over-keys form then shares only these keys.
ivec2 program_keys(ivec2 keys, int block, int b, ivec2 heads, int first_row, int last_row, ivec4 extents, ivec2 sqk) {
  int begin = keys.x, end = keys.y;
  if (begin >= end) return ivec2(begin, begin);
  const int top = 1 << findMSB((end - begin + block - 1) / block);
  for (int step = top; step > 0; step >>= 1)
    while (begin < end && !keys_may_show(b, heads, first_row, last_row, begin, min(begin + step * block, end) - 1, extents, sqk))
      begin = min(begin + step * block, end);
  for (int step = top; step > 0; step >>= 1)
    while (end > begin) {
      const int first = begin + max((end - begin + block - 1) / block - step, 0) * block;
      if (keys_may_show(b, heads, first_row, last_row, first, end - 1, extents, sqk)) break;
      end = first;
    }
  return ivec2(begin, end);
}
#endif
