/* Thrift compact protocol, write side only (the subset parquet.thrift needs).
 *
 * A field header is one byte (id delta << 4 | type) when the id grows by 1..15 from the
 * previous field of the same struct, else the type byte followed by the zigzag varint id.
 * Integers are zigzag varints, binaries a varint length plus bytes, booleans live in the
 * field type nibble, and a struct ends with a 0 byte. */
#include <assert.h>

#include "parquet/pq_internal.h"

void pq_varint(pq_buf *b, uint64_t v) {
  while (v >= 0x80) {
    pq_buf_byte(b, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  pq_buf_byte(b, (uint8_t)v);
}

void pq_thrift_init(pq_thrift *t, pq_buf *out) {
  t->out = out;
  t->depth = 0;
  t->last[0] = 0;
}

/* Writes the header of field `id` of compact type `type` in the innermost struct. */
static void field_header(pq_thrift *t, int16_t id, uint8_t type) {
  int16_t *last = &t->last[t->depth];
  int delta = id - *last;
  if (delta > 0 && delta <= 15) {
    pq_buf_byte(t->out, (uint8_t)(delta << 4 | type));
  } else {
    pq_buf_byte(t->out, type);
    pq_varint(t->out, pq_zigzag(id));
  }
  *last = id;
}

void pq_thrift_i16(pq_thrift *t, int16_t id, int16_t v) {
  field_header(t, id, PQ_T_I16);
  pq_varint(t->out, pq_zigzag(v));
}

void pq_thrift_i32(pq_thrift *t, int16_t id, int32_t v) {
  field_header(t, id, PQ_T_I32);
  pq_varint(t->out, pq_zigzag(v));
}

void pq_thrift_i64(pq_thrift *t, int16_t id, int64_t v) {
  field_header(t, id, PQ_T_I64);
  pq_varint(t->out, pq_zigzag(v));
}

void pq_thrift_bool(pq_thrift *t, int16_t id, bool v) {
  field_header(t, id, v ? PQ_T_TRUE : PQ_T_FALSE);
}

void pq_thrift_binary(pq_thrift *t, int16_t id, const void *p, size_t n) {
  field_header(t, id, PQ_T_BINARY);
  pq_thrift_elem_binary(t, p, n);
}

/* Enters a nested struct: its field ids start again from 0. */
static void push(pq_thrift *t) {
  assert(t->depth + 1 < PQ_THRIFT_MAX_DEPTH);
  t->last[++t->depth] = 0;
}

void pq_thrift_struct(pq_thrift *t, int16_t id) {
  field_header(t, id, PQ_T_STRUCT);
  push(t);
}

void pq_thrift_list(pq_thrift *t, int16_t id, uint8_t elem, size_t n) {
  field_header(t, id, PQ_T_LIST);
  if (n < 15) {
    pq_buf_byte(t->out, (uint8_t)(n << 4 | elem));
  } else {
    pq_buf_byte(t->out, (uint8_t)(0xF0 | elem));
    pq_varint(t->out, n);
  }
}

void pq_thrift_elem_struct(pq_thrift *t) {
  push(t);
}

void pq_thrift_elem_i32(pq_thrift *t, int32_t v) {
  pq_varint(t->out, pq_zigzag(v));
}

void pq_thrift_elem_binary(pq_thrift *t, const void *p, size_t n) {
  pq_varint(t->out, n);
  pq_buf_put(t->out, p, n);
}

void pq_thrift_end(pq_thrift *t) {
  pq_buf_byte(t->out, 0);
  if (t->depth > 0) t->depth--;
}
