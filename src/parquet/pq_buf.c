/* Growable byte buffer. */
#include <stdlib.h>

#include "parquet/pq_internal.h"

void pq_buf_reserve(pq_buf *b, size_t more) {
  if (b->cap - b->len >= more) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < more)
    cap *= 2;
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
}

void pq_buf_free(pq_buf *b) {
  free(b->data);
  *b = (pq_buf){0};
}

void pq_buf_u32le(pq_buf *b, uint32_t v) {
  uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  pq_buf_put(b, le, 4);
}
