/* Dictionary builder: an open-addressing hash table (linear probing, power-of-two size, load
 * at most 1/2) mapping each distinct value of a column chunk to a dense index. A slot holds
 * the entry index + 1 in its low 32 bits and the high 32 bits of the value's hash as a tag,
 * so a probe rarely touches an entry that is not the one sought. Entries keep their hash so
 * growing never rehashes bytes. No allocation and no library call per value (short strings
 * are hashed and compared with a few overlapping word loads). */
#include <stdlib.h>

#include "parquet/pq_internal.h"

#include "core/bytes.h"

#define TAG_MASK 0xFFFFFFFF00000000ULL

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/* 64x64 -> 128-bit multiply, folded to 64 bits. */
static inline uint64_t mum(uint64_t a, uint64_t b) {
  unsigned __int128 m = (unsigned __int128)a * b;
  return (uint64_t)m ^ (uint64_t)(m >> 64);
}

#define K0 0xa0761d6478bd642fULL
#define K1 0xe7037ed1a0b428dbULL
#define K2 0x8ebc6af09c88c6e3ULL

/* A fast non-cryptographic hash of n bytes: strings up to 16 bytes take two (possibly
 * overlapping) loads and one multiply; longer ones 16 bytes per round. */
static inline uint64_t hash_bytes(const uint8_t *p, size_t n) {
  uint64_t a, b, seed = K0 ^ (uint64_t)n * K2;
  if (n <= 16) {
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p);
      b = load32(p + n - 4);
    } else if (n > 0) {
      a = (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t i = n;
    for (; i > 16; i -= 16, p += 16)
      seed = mum(load64(p) ^ K1, load64(p + 8) ^ seed);
    a = load64(p + i - 16);
    b = load64(p + i - 8);
  }
  return mum(K1 ^ (uint64_t)n, mum(a ^ K1, b ^ seed));
}

/* Equality of two byte strings of the same length n. */
static inline bool bytes_eq(const uint8_t *a, const uint8_t *b, size_t n) {
  if (n >= 8) {
    if (n > 16) return memcmp(a, b, n) == 0;
    return ((load64(a) ^ load64(b)) | (load64(a + n - 8) ^ load64(b + n - 8))) == 0;
  }
  if (n >= 4) return ((load32(a) ^ load32(b)) | (load32(a + n - 4) ^ load32(b + n - 4))) == 0;
  return n == 0 || (a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1]);
}

/* Empties the table for a new chunk of type t, keeping its buffers. */
static void dict_reset(pq_dict *d, col_type t) {
  d->type = t;
  d->bytes.len = 0;
  d->plain_bytes = 0;
  if (!d->slots) {
    d->nslots = 1024;
    d->slots = xcalloc(d->nslots, sizeof *d->slots);
  } else if ((size_t)d->n * 16 < d->nslots) { /* few entries in a large table: clear theirs */
    size_t mask = d->nslots - 1;
    for (uint32_t e = 0; e < d->n; e++) {
      size_t pos = d->hashes[e] & mask;
      while ((uint32_t)d->slots[pos] != e + 1)
        pos = (pos + 1) & mask;
      d->slots[pos] = 0;
    }
  } else {
    memset(d->slots, 0, d->nslots * sizeof *d->slots);
  }
  d->n = 0;
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
    d->slots[pos] = (d->hashes[e] & TAG_MASK) | (e + 1);
  }
}

/* Makes room for one more entry's hash, value and offsets. */
static void entry_grow(pq_dict *d) {
  size_t cap = d->entry_cap ? d->entry_cap * 2 : 1024;
  d->hashes = xrealloc(d->hashes, cap * sizeof *d->hashes);
  d->fixed = xrealloc(d->fixed, cap * sizeof *d->fixed);
  d->offs = xrealloc(d->offs, (cap + 1) * sizeof *d->offs);
  d->entry_cap = cap;
}

static inline void entry_reserve(pq_dict *d) {
  if (d->n + 1 >= d->entry_cap) entry_grow(d);
}

/* Adds the string p[0..len) (hash h, short-string key `key`) as a new entry in the free slot
 * `pos`, tagged `tag`; returns its index. */
static inline uint32_t dict_append(pq_dict *d, uint64_t h, uint64_t key, const uint8_t *p,
                                   size_t len, size_t pos, uint64_t tag) {
  entry_reserve(d);
  uint32_t e = d->n++;
  d->hashes[e] = h;
  d->fixed[e] = key;
  if (e == 0) d->offs[0] = 0;
  pq_buf_put(&d->bytes, p, len);
  d->offs[e + 1] = (int64_t)d->bytes.len;
  d->slots[pos] = tag | (e + 1);
  d->plain_bytes += 4 + len;
  if ((size_t)d->n * 2 >= d->nslots) dict_grow(d);
  return e;
}

/* Index of the string p[0..len), inserting it when new. */
static inline uint32_t find_string(pq_dict *d, const uint8_t *p, size_t len) {
  uint64_t h = hash_bytes(p, len), tag = h & TAG_MASK;
  size_t mask = d->nslots - 1, pos = h & mask;
  const int64_t *offs = d->offs;
  for (uint64_t s; (s = d->slots[pos]) != 0; pos = (pos + 1) & mask) {
    if ((s & TAG_MASK) != tag) continue;
    uint32_t e = (uint32_t)s - 1;
    if ((size_t)(offs[e + 1] - offs[e]) == len && bytes_eq(d->bytes.data + offs[e], p, len))
      return e;
  }
  return dict_append(d, h, UINT64_MAX, p, len, pos, tag); /* LONG_KEY: matches no short key */
}

/* Index of the 8-byte value v, inserting it when new. */
static inline uint32_t find_fixed(pq_dict *d, uint64_t v) {
  uint64_t h = mix64(v), tag = h & TAG_MASK;
  size_t mask = d->nslots - 1, pos = h & mask;
  for (uint64_t s; (s = d->slots[pos]) != 0; pos = (pos + 1) & mask)
    if ((s & TAG_MASK) == tag && d->fixed[(uint32_t)s - 1] == v) return (uint32_t)s - 1;
  entry_reserve(d);
  uint32_t e = d->n++;
  d->hashes[e] = h;
  d->fixed[e] = v;
  d->slots[pos] = tag | (e + 1);
  d->plain_bytes += 8;
  if ((size_t)d->n * 2 >= d->nslots) dict_grow(d);
  return e;
}

/* The stop rules of pq_dict_build after k values: too large or too many entries (these only
 * change when an entry is added), or (checked every 4096 values from 8192 on) more than 90%
 * distinct. */
static inline bool too_big(const pq_dict *d, size_t max_bytes) {
  return d->plain_bytes > max_bytes || d->n >= UINT32_MAX / 2;
}
static inline bool too_distinct(const pq_dict *d, size_t k) {
  return (k & 4095) == 0 && k >= 8192 && d->n > k / 10 * 9;
}

/* Strings of up to 7 bytes are keyed like fixed-width values: their bytes plus their length
 * in the top byte. Longer strings have the key LONG_KEY, which no short string has. */
#define LONG_KEY UINT64_MAX

static inline uint64_t short_key(const uint8_t *p, size_t len, const uint8_t *end) {
  uint64_t w = 0;
  if (len && end - p >= 8) {
    w = load64(p) & (UINT64_MAX >> (64 - 8 * len));
  } else {
    for (size_t j = 0; j < len; j++)
      w |= (uint64_t)p[j] << (8 * j);
  }
  return w | (uint64_t)len << 56;
}

/* Index of the short string p[0..len) whose key is key, inserting it when new. */
static inline uint32_t find_short(pq_dict *d, uint64_t key, const uint8_t *p, size_t len) {
  uint64_t h = mum(key ^ K1, K2), tag = h & TAG_MASK;
  size_t mask = d->nslots - 1, pos = h & mask;
  for (uint64_t s; (s = d->slots[pos]) != 0; pos = (pos + 1) & mask)
    if ((s & TAG_MASK) == tag && d->fixed[(uint32_t)s - 1] == key) return (uint32_t)s - 1;
  return dict_append(d, h, key, p, len, pos, tag);
}

static bool build_string(pq_dict *d, const column *c, int64_t start, int64_t n, size_t max_bytes,
                         uint32_t *idx) {
  const uint8_t *valid = c->valid, *bytes = c->bytes, *end = c->bytes + c->nbytes;
  const int64_t *offsets = c->offsets;
  const uint8_t *prev = NULL;
  size_t prev_len = 0, k = 0;
  uint64_t prev_key = LONG_KEY;
  uint32_t prev_e = UINT32_MAX; /* none yet */
  for (int64_t i = start; i < start + n; i++) {
    if (!valid[i]) continue;
    const uint8_t *p = bytes + offsets[i];
    size_t len = (size_t)(offsets[i + 1] - offsets[i]);
    if (len < 8) {
      uint64_t key = short_key(p, len, end);
      if (key == prev_key) { /* a run of one value */
        idx[k++] = prev_e;
      } else {
        prev_e = idx[k++] = find_short(d, key, p, len);
        prev_key = key;
        if (too_big(d, max_bytes)) return false;
      }
    } else if (prev_key == LONG_KEY && len == prev_len && bytes_eq(p, prev, len)) {
      idx[k++] = prev_e;
    } else {
      prev_e = idx[k++] = find_string(d, p, len);
      prev = p;
      prev_len = len;
      prev_key = LONG_KEY;
      if (too_big(d, max_bytes)) return false;
    }
    if (too_distinct(d, k)) return false;
  }
  return true;
}

static bool build_fixed(pq_dict *d, const column *c, int64_t start, int64_t n, size_t max_bytes,
                        uint32_t *idx) {
  const uint8_t *valid = c->valid, *vals = (const uint8_t *)c->values;
  size_t k = 0;
  uint64_t prev = 0;
  uint32_t prev_e = UINT32_MAX;
  for (int64_t i = start; i < start + n; i++) {
    if (!valid[i]) continue;
    uint64_t v;
    memcpy(&v, vals + i * 8, 8);
    if (prev_e != UINT32_MAX && v == prev) {
      idx[k++] = prev_e;
    } else {
      prev_e = idx[k++] = find_fixed(d, v);
      prev = v;
      if (too_big(d, max_bytes)) return false;
    }
    if (too_distinct(d, k)) return false;
  }
  return true;
}

bool pq_dict_build(pq_dict *d, const column *c, int64_t start, int64_t n, size_t max_bytes,
                   uint32_t *idx) {
  dict_reset(d, c->type);
  if (c->type == COL_BOOL) return false;
  if (c->type == COL_STRING) return build_string(d, c, start, n, max_bytes, idx);
  return build_fixed(d, c, start, n, max_bytes, idx);
}

void pq_dict_plain(const pq_dict *d, pq_buf *out) {
  if (d->type != COL_STRING) {
    pq_buf_put(out, d->fixed, (size_t)d->n * 8);
    return;
  }
  pq_buf_reserve(out, d->plain_bytes);
  uint8_t *p = out->data + out->len;
  for (uint32_t e = 0; e < d->n; e++) {
    uint32_t len = (uint32_t)(d->offs[e + 1] - d->offs[e]);
    memcpy(p, &len, 4);
    if (len) memcpy(p + 4, d->bytes.data + d->offs[e], len);
    p += 4 + len;
  }
  out->len = (size_t)(p - out->data);
}

void pq_dict_free(pq_dict *d) {
  free(d->slots);
  free(d->hashes);
  free(d->fixed);
  free(d->offs);
  pq_buf_free(&d->bytes);
  *d = (pq_dict){0};
}
