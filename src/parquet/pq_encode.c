/* Parquet encodings: the RLE/bit-packed hybrid (definition levels, dictionary indices) and
 * PLAIN (values, dictionary pages). See Encodings.md in apache/parquet-format. */
#include "parquet/pq_internal.h"

int pq_bit_width(uint64_t max_value) {
  int w = 0;
  while (max_value) {
    w++;
    max_value >>= 1;
  }
  return w;
}

void pq_bitpack(pq_buf *out, const uint32_t *vals, size_t n, int bit_width) {
  size_t nbytes = (n * (size_t)bit_width + 7) / 8;
  pq_buf_reserve(out, nbytes);
  uint8_t *p = out->data + out->len;
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    acc |= (uint64_t)vals[i] << bits;
    bits += bit_width;
    while (bits >= 8) {
      *p++ = (uint8_t)acc;
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) *p++ = (uint8_t)acc;
  out->len += nbytes;
}

/* A bit-packed run of m values (the last group padded with zeros to 8 values). */
static void literal_run(pq_buf *out, const uint32_t *vals, size_t m, int bit_width) {
  size_t groups = (m + 7) / 8;
  pq_varint(out, (uint64_t)groups << 1 | 1);
  size_t start = out->len;
  pq_bitpack(out, vals, m, bit_width);
  size_t want = groups * (size_t)bit_width; /* bytes of groups * 8 values */
  while (out->len - start < want)
    pq_buf_byte(out, 0);
}

/* An RLE run: count << 1, then the value in ceil(bit_width / 8) little-endian bytes. */
static void repeated_run(pq_buf *out, uint32_t value, size_t count, int bit_width) {
  pq_varint(out, (uint64_t)count << 1);
  for (int b = 0; b < (bit_width + 7) / 8; b++)
    pq_buf_byte(out, (uint8_t)(value >> (8 * b)));
}

void pq_rle_encode(pq_buf *out, const uint32_t *vals, size_t n, int bit_width) {
  size_t lit_start = 0, i = 0;
  while (i < n) {
    size_t run = 1;
    while (i + run < n && vals[i + run] == vals[i])
      run++;
    size_t lit = i - lit_start;
    size_t pad = (8 - lit % 8) % 8; /* values the pending literal needs to fill its group */
    if (run >= 8 + pad) {
      if (lit) literal_run(out, vals + lit_start, lit + pad, bit_width);
      i += pad;
      run -= pad;
      repeated_run(out, vals[i], run, bit_width);
      i += run;
      lit_start = i;
    } else {
      i += run;
    }
  }
  if (n > lit_start) literal_run(out, vals + lit_start, n - lit_start, bit_width);
}

/* PLAIN 8-byte values: one copy when the range has no nulls. */
static void plain_fixed8(pq_buf *out, const column *c, int64_t start, int64_t n) {
  const uint8_t *vals = (const uint8_t *)c->values + start * 8;
  const uint8_t *valid = c->valid + start;
  if (!memchr(valid, 0, (size_t)n)) {
    pq_buf_put(out, vals, (size_t)n * 8);
    return;
  }
  pq_buf_reserve(out, (size_t)n * 8);
  uint8_t *p = out->data + out->len;
  for (int64_t i = 0; i < n; i++) {
    if (!valid[i]) continue;
    memcpy(p, vals + i * 8, 8);
    p += 8;
  }
  out->len = (size_t)(p - out->data);
}

/* PLAIN booleans: one bit each, LSB first. */
static void plain_bool(pq_buf *out, const column *c, int64_t start, int64_t n) {
  const uint8_t *vals = (const uint8_t *)c->values + start;
  const uint8_t *valid = c->valid + start;
  uint8_t acc = 0;
  int bits = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!valid[i]) continue;
    acc |= (uint8_t)((vals[i] & 1) << bits);
    if (++bits == 8) {
      pq_buf_byte(out, acc);
      acc = 0;
      bits = 0;
    }
  }
  if (bits) pq_buf_byte(out, acc);
}

/* PLAIN byte arrays: 4-byte little-endian length, then the bytes. */
static void plain_string(pq_buf *out, const column *c, int64_t start, int64_t n) {
  size_t total = (size_t)(c->offsets[start + n] - c->offsets[start]) + 4 * (size_t)n;
  pq_buf_reserve(out, total);
  uint8_t *p = out->data + out->len;
  for (int64_t i = start; i < start + n; i++) {
    if (!c->valid[i]) continue;
    uint32_t len = (uint32_t)(c->offsets[i + 1] - c->offsets[i]);
    memcpy(p, &len, 4);
    if (len) memcpy(p + 4, c->bytes + c->offsets[i], len);
    p += 4 + len;
  }
  out->len = (size_t)(p - out->data);
}

void pq_plain_encode(pq_buf *out, const column *c, int64_t start, int64_t n) {
  switch (c->type) {
  case COL_STRING:
    plain_string(out, c, start, n);
    break;
  case COL_BOOL:
    plain_bool(out, c, start, n);
    break;
  case COL_INT64:
  case COL_TIMESTAMP:
  case COL_DOUBLE:
    plain_fixed8(out, c, start, n);
    break;
  }
}
