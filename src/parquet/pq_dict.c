/* Dictionary builder: an open-addressing hash table (linear probing, power-of-two size, load
 * at most 1/2) mapping each distinct value of a column chunk to a dense index. Entries keep
 * their hash so growing never rehashes bytes. No allocation per value. */
#include <stdlib.h>

#include "parquet/pq_internal.h"

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/* A fast non-cryptographic hash of n bytes, 8 at a time. */
static uint64_t hash_bytes(const uint8_t *p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h ^= w * 0xc4ceb9fe1a85ec53ULL;
    h = (h << 29 | h >> 35) * 0x9E3779B97F4A7C15ULL;
  }
  if (n) {
    uint64_t w = 0;
    memcpy(&w, p, n);
    h ^= w * 0xc4ceb9fe1a85ec53ULL;
  }
  return mix64(h);
}

/* Empties the table for a new chunk of type t, keeping its buffers. */
static void dict_reset(pq_dict *d, col_type t) {
  d->type = t;
  d->n = 0;
  d->bytes.len = 0;
  d->plain_bytes = 0;
  if (!d->slots) {
    d->nslots = 1024;
    d->slots = xcalloc(d->nslots, sizeof *d->slots);
  } else {
    memset(d->slots, 0, d->nslots * sizeof *d->slots);
  }
}

/* Doubles the slot array, reinserting entries by their stored hash. */
static void dict_grow(pq_dict *d) {
  free(d->slots);
  d->nslots *= 2;
  d->slots = xcalloc(d->nslots, sizeof *d->slots);
  size_t mask = d->nslots - 1;
  for (uint32_t e = 0; e < d->n; e++) {
    size_t pos = d->hashes[e] & mask;
    while (d->slots[pos])
      pos = (pos + 1) & mask;
    d->slots[pos] = e + 1;
  }
}

/* Makes room for one more entry's hash, value and offsets. */
static void entry_reserve(pq_dict *d) {
  if (d->n + 1 < d->entry_cap) return;
  size_t cap = d->entry_cap ? d->entry_cap * 2 : 1024;
  d->hashes = xrealloc(d->hashes, cap * sizeof *d->hashes);
  d->fixed = xrealloc(d->fixed, cap * sizeof *d->fixed);
  d->offs = xrealloc(d->offs, (cap + 1) * sizeof *d->offs);
  d->entry_cap = cap;
}

/* Index of the string p[0..len), inserting it when new. */
static uint32_t find_string(pq_dict *d, const uint8_t *p, size_t len) {
  uint64_t h = hash_bytes(p, len);
  size_t mask = d->nslots - 1, pos = h & mask;
  for (uint32_t s; (s = d->slots[pos]) != 0; pos = (pos + 1) & mask) {
    uint32_t e = s - 1;
    if (d->hashes[e] == h && (size_t)(d->offs[e + 1] - d->offs[e]) == len &&
        (len == 0 || memcmp(d->bytes.data + d->offs[e], p, len) == 0))
      return e;
  }
  entry_reserve(d);
  uint32_t e = d->n++;
  d->hashes[e] = h;
  if (e == 0) d->offs[0] = 0;
  pq_buf_put(&d->bytes, p, len);
  d->offs[e + 1] = (int64_t)d->bytes.len;
  d->slots[pos] = e + 1;
  d->plain_bytes += 4 + len;
  if ((size_t)d->n * 2 >= d->nslots) dict_grow(d);
  return e;
}

/* Index of the 8-byte value v, inserting it when new. */
static uint32_t find_fixed(pq_dict *d, uint64_t v) {
  uint64_t h = mix64(v);
  size_t mask = d->nslots - 1, pos = h & mask;
  for (uint32_t s; (s = d->slots[pos]) != 0; pos = (pos + 1) & mask)
    if (d->fixed[s - 1] == v) return s - 1;
  entry_reserve(d);
  uint32_t e = d->n++;
  d->hashes[e] = h;
  d->fixed[e] = v;
  d->slots[pos] = e + 1;
  d->plain_bytes += 8;
  if ((size_t)d->n * 2 >= d->nslots) dict_grow(d);
  return e;
}

bool pq_dict_build(pq_dict *d, const column *c, int64_t start, int64_t n, size_t max_bytes,
                   uint32_t *idx) {
  dict_reset(d, c->type);
  if (c->type == COL_BOOL) return false;
  size_t k = 0;
  for (int64_t i = start; i < start + n; i++) {
    if (!c->valid[i]) continue;
    if (c->type == COL_STRING) {
      idx[k++] =
          find_string(d, c->bytes + c->offsets[i], (size_t)(c->offsets[i + 1] - c->offsets[i]));
    } else {
      uint64_t v;
      memcpy(&v, (const uint8_t *)c->values + i * 8, 8);
      idx[k++] = find_fixed(d, v);
    }
    if (d->plain_bytes > max_bytes || d->n >= UINT32_MAX / 2) return false;
    /* Nearly every value new after thousands: a dictionary cannot pay off, stop hashing. */
    if ((k & 4095) == 0 && k >= 8192 && d->n > k / 10 * 9) return false;
  }
  return true;
}

void pq_dict_plain(const pq_dict *d, pq_buf *out) {
  if (d->type != COL_STRING) {
    pq_buf_put(out, d->fixed, (size_t)d->n * 8);
    return;
  }
  for (uint32_t e = 0; e < d->n; e++) {
    size_t len = (size_t)(d->offs[e + 1] - d->offs[e]);
    pq_buf_u32le(out, (uint32_t)len);
    pq_buf_put(out, d->bytes.data + d->offs[e], len);
  }
}

void pq_dict_free(pq_dict *d) {
  free(d->slots);
  free(d->hashes);
  free(d->fixed);
  free(d->offs);
  pq_buf_free(&d->bytes);
  *d = (pq_dict){0};
}
