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

/* Packs vals[0..n) at p, LSB first, bit_width (1..32) bits each, flushing 4 bytes at a time;
 * returns the end (the last byte padded with zeros). */
static inline uint8_t *bitpack_to(uint8_t *p, const uint32_t *vals, size_t n, int bit_width) {
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    acc |= (uint64_t)vals[i] << bits;
    bits += bit_width;
    if (bits >= 32) {
      uint32_t w = (uint32_t)acc;
      memcpy(p, &w, 4);
      p += 4;
      acc >>= 32;
      bits -= 32;
    }
  }
  for (; bits > 0; bits -= 8) {
    *p++ = (uint8_t)acc;
    acc >>= 8;
  }
  return p;
}

void pq_bitpack(pq_buf *out, const uint32_t *vals, size_t n, int bit_width) {
  size_t nbytes = (n * (size_t)bit_width + 7) / 8;
  pq_buf_reserve(out, nbytes);
  bitpack_to(out->data + out->len, vals, n, bit_width);
  out->len += nbytes;
}

static inline uint8_t *varint_to(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

/* A bit-packed run of m values (the last group padded with zeros to 8 values). */
static inline uint8_t *literal_run(uint8_t *p, const uint32_t *vals, size_t m, int bit_width) {
  size_t groups = (m + 7) / 8;
  p = varint_to(p, (uint64_t)groups << 1 | 1);
  uint8_t *end = p + groups * (size_t)bit_width; /* bytes of groups * 8 values */
  p = bitpack_to(p, vals, m, bit_width);
  if (end > p) memset(p, 0, (size_t)(end - p));
  return end;
}

/* An RLE run: count << 1, then the value in ceil(bit_width / 8) little-endian bytes. */
static inline uint8_t *repeated_run(uint8_t *p, uint32_t value, size_t count, int bit_width) {
  p = varint_to(p, (uint64_t)count << 1);
  for (int b = 0; b < (bit_width + 7) / 8; b++)
    *p++ = (uint8_t)(value >> (8 * b));
  return p;
}

void pq_rle_encode(pq_buf *out, const uint32_t *vals, size_t n, int bit_width) {
  /* Worst case: every value in literal groups (one extra group of padding), and a run header
   * (at most 10 bytes) plus a value (4 bytes) for every 8 values and once more. */
  pq_buf_reserve(out, (n / 8 + 2) * ((size_t)bit_width + 28));
  uint8_t *p = out->data + out->len;
  size_t lit_start = 0, i = 0;
  while (i < n) {
    uint32_t v = vals[i];
    size_t run = 1;
    while (i + run < n && vals[i + run] == v)
      run++;
    if (run < 8) { /* cannot become an RLE run whatever the padding */
      i += run;
      continue;
    }
    size_t lit = i - lit_start;
    size_t pad = (8 - lit % 8) % 8; /* values the pending literal needs to fill its group */
    if (run >= 8 + pad) {
      if (lit) p = literal_run(p, vals + lit_start, lit + pad, bit_width);
      i += pad;
      run -= pad;
      p = repeated_run(p, v, run, bit_width);
      i += run;
      lit_start = i;
    } else {
      i += run;
    }
  }
  if (n > lit_start) p = literal_run(p, vals + lit_start, n - lit_start, bit_width);
  out->len = (size_t)(p - out->data);
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
