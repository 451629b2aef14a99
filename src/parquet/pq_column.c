/* One column chunk: chooses the encoding from the chunk's measured cardinality, writes the
 * dictionary page (if any) and v1 data pages, and gathers the chunk's statistics. */
#include <math.h>
#include <stdlib.h>

#include "parquet/pq_internal.h"

enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };                 /* PageType */
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 }; /* Encoding */
#define STATS_MAX_BYTES 4096 /* longer string min/max are left out (as Arrow does) */

/* Running min/max of one chunk's non-null values. */
typedef struct stats {
  bool any;
  int64_t imin, imax;
  double dmin, dmax;
  const uint8_t *smin, *smax;
  size_t lmin, lmax;
  uint64_t pmin, pmax; /* prefix8 of smin, smax */
} stats;

static void stats_i64(stats *st, int64_t v) {
  if (!st->any || v < st->imin) st->imin = v;
  if (!st->any || v > st->imax) st->imax = v;
  st->any = true;
}

/* NaN has no place in an order: it is left out of min/max. */
static void stats_f64(stats *st, double v) {
  if (isnan(v)) return;
  if (!st->any || v < st->dmin) st->dmin = v;
  if (!st->any || v > st->dmax) st->dmax = v;
  st->any = true;
}

/* Unsigned lexicographic comparison of byte strings (<0, 0, >0). */
static int cmp_bytes(const uint8_t *a, size_t la, const uint8_t *b, size_t lb) {
  size_t n = la < lb ? la : lb;
  int c = n ? memcmp(a, b, n) : 0;
  if (c) return c;
  return la < lb ? -1 : la > lb;
}

/* The first 8 bytes of p[0..len) as a big-endian number, zero-padded: comparing prefixes
 * orders strings whose prefixes differ exactly as cmp_bytes does. */
static inline uint64_t prefix8(const uint8_t *p, size_t len) {
  uint64_t v = 0;
  if (len >= 8) {
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
  }
  for (size_t j = 0; j < len; j++)
    v |= (uint64_t)p[j] << (56 - 8 * j);
  return v;
}

static void stats_str(stats *st, const uint8_t *p, size_t len) {
  uint64_t v = prefix8(p, len);
  if (!st->any) {
    st->smin = st->smax = p;
    st->lmin = st->lmax = len;
    st->pmin = st->pmax = v;
    st->any = true;
    return;
  }
  if (v < st->pmin || (v == st->pmin && cmp_bytes(p, len, st->smin, st->lmin) < 0))
    st->smin = p, st->lmin = len, st->pmin = v;
  if (v > st->pmax || (v == st->pmax && cmp_bytes(p, len, st->smax, st->lmax) > 0))
    st->smax = p, st->lmax = len, st->pmax = v;
}

/* Feeds one value (8 bytes for fixed types) into st. */
static void stats_value(stats *st, col_type t, const uint8_t *p, size_t len) {
  int64_t i;
  double d;
  switch (t) {
  case COL_STRING:
    stats_str(st, p, len);
    break;
  case COL_BOOL:
    stats_i64(st, *p & 1);
    break;
  case COL_DOUBLE:
    memcpy(&d, p, 8);
    stats_f64(st, d);
    break;
  case COL_INT64:
  case COL_TIMESTAMP:
    memcpy(&i, p, 8);
    stats_i64(st, i);
    break;
  }
}

/* Scans the chunk's values (or its dictionary entries, which hold the same set). */
static void gather_stats(stats *st, const column *c, int64_t start, int64_t n,
                         const pq_dict *dict) {
  if (dict) {
    /* A dictionary of empty strings only has no byte buffer at all. */
    const uint8_t *base = dict->bytes.data ? dict->bytes.data : (const uint8_t *)"";
    for (uint32_t e = 0; e < dict->n; e++) {
      if (c->type == COL_STRING)
        stats_str(st, base + dict->offs[e], (size_t)(dict->offs[e + 1] - dict->offs[e]));
      else
        stats_value(st, c->type, (const uint8_t *)&dict->fixed[e], 8);
    }
    return;
  }
  const uint8_t *valid = c->valid;
  for (int64_t i = start; i < start + n; i++) {
    if (!valid[i]) continue;
    switch (c->type) { /* one branch per value, the type's own loop body */
    case COL_STRING:
      stats_str(st, c->bytes + c->offsets[i], (size_t)(c->offsets[i + 1] - c->offsets[i]));
      break;
    case COL_DOUBLE:
      stats_f64(st, ((const double *)c->values)[i]);
      break;
    case COL_BOOL:
      stats_i64(st, ((const uint8_t *)c->values)[i] & 1);
      break;
    case COL_INT64:
    case COL_TIMESTAMP:
      stats_i64(st, ((const int64_t *)c->values)[i]);
      break;
    }
  }
}

static uint8_t *dup_bytes(const void *p, size_t n) {
  uint8_t *d = xmalloc(n ? n : 1);
  if (n) memcpy(d, p, n);
  return d;
}

/* Stores st's min/max in m as PLAIN bytes (no length prefix for byte arrays). Signed zero
 * follows the spec: a zero min is written as -0.0 and a zero max as +0.0. */
static void stats_store(const stats *st, col_type t, pq_chunk_meta *m) {
  if (!st->any) return;
  uint8_t lo[8], hi[8];
  size_t len = 8;
  const void *pmin = lo, *pmax = hi;
  if (t == COL_STRING) {
    if (st->lmin > STATS_MAX_BYTES || st->lmax > STATS_MAX_BYTES) return;
    m->min = dup_bytes(st->smin, st->lmin);
    m->max = dup_bytes(st->smax, st->lmax);
    m->min_len = st->lmin;
    m->max_len = st->lmax;
    m->has_minmax = true;
    return;
  }
  if (t == COL_DOUBLE) {
    double dmin = st->dmin == 0 ? -0.0 : st->dmin, dmax = st->dmax == 0 ? 0.0 : st->dmax;
    memcpy(lo, &dmin, 8);
    memcpy(hi, &dmax, 8);
  } else {
    memcpy(lo, &st->imin, 8);
    memcpy(hi, &st->imax, 8);
  }
  if (t == COL_BOOL) {
    lo[0] = (uint8_t)st->imin;
    hi[0] = (uint8_t)st->imax;
    len = 1;
  }
  m->min = dup_bytes(pmin, len);
  m->max = dup_bytes(pmax, len);
  m->min_len = m->max_len = len;
  m->has_minmax = true;
}

/* Compresses body and writes a page header plus the page; accounts sizes in m. */
static int write_page(pq_scratch *sc, pq_sink *s, int type, int64_t num_values, int encoding,
                      const pq_buf *body, pq_chunk_meta *m, ath_error *err) {
  if (body->len > INT32_MAX)
    return ath_fail(err, ATH_ERR, "parquet: a page of %zu bytes exceeds the format's 2 GiB",
                    body->len);
  const uint8_t *cdata;
  size_t clen;
  int rc = pq_compress(&sc->comp, body->data, body->len, &cdata, &clen, err);
  if (rc != ATH_OK) return rc;
  if (clen > INT32_MAX)
    return ath_fail(err, ATH_ERR, "parquet: a compressed page of %zu bytes exceeds 2 GiB", clen);
  pq_thrift t;
  sc->hdr.len = 0;
  pq_thrift_init(&t, &sc->hdr);
  pq_thrift_i32(&t, 1, type);
  pq_thrift_i32(&t, 2, (int32_t)body->len);
  pq_thrift_i32(&t, 3, (int32_t)clen);
  if (type == PAGE_DATA) {
    pq_thrift_struct(&t, 5);
    pq_thrift_i32(&t, 1, (int32_t)num_values);
    pq_thrift_i32(&t, 2, encoding);
    pq_thrift_i32(&t, 3, ENC_RLE);
    pq_thrift_i32(&t, 4, ENC_RLE);
  } else {
    pq_thrift_struct(&t, 7);
    pq_thrift_i32(&t, 1, (int32_t)num_values);
    pq_thrift_i32(&t, 2, encoding);
  }
  pq_thrift_end(&t);
  pq_thrift_end(&t);
  m->uncompressed += (int64_t)(sc->hdr.len + body->len);
  m->compressed += (int64_t)(sc->hdr.len + clen);
  rc = pq_sink_write(s, sc->hdr.data, sc->hdr.len, err);
  if (rc == ATH_OK) rc = pq_sink_write(s, cdata, clen, err);
  return rc;
}

/* Rows, from `row` on, that fill about page_bytes of encoded values (at least 1). */
static int64_t page_rows(const column *c, int64_t row, int64_t left, int bit_width,
                         size_t page_bytes) {
  int64_t k;
  if (bit_width > 0)
    k = (int64_t)(page_bytes * 8 / (size_t)bit_width);
  else if (c->type == COL_BOOL)
    k = (int64_t)(page_bytes * 8);
  else if (c->type != COL_STRING)
    k = (int64_t)(page_bytes / 8);
  else {
    size_t bytes = 0;
    for (k = 0; k < left && bytes < page_bytes; k++)
      bytes += 4 + (size_t)(c->offsets[row + k + 1] - c->offsets[row + k]);
  }
  if (k > INT32_MAX / 2) k = INT32_MAX / 2;
  if (k < 1) k = 1;
  return k < left ? k : left;
}

static int64_t count_valid(const uint8_t *valid, int64_t n) {
  if (n == 0 || !memchr(valid, 0, (size_t)n)) return n;
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++)
    k += valid[i] != 0;
  return k;
}

/* Appends the definition levels of rows [row, row + k): a 4-byte little-endian length, then
 * the RLE/bit-packed hybrid at bit width 1. `nn` is the number of non-null rows among them. */
static void def_levels(pq_scratch *sc, const column *c, int64_t row, int64_t k, int64_t nn) {
  size_t at = sc->page.len;
  pq_buf_u32le(&sc->page, 0);
  if (nn == k && k >= 8) { /* all present: what pq_rle_encode makes of k ones, one RLE run */
    pq_varint(&sc->page, (uint64_t)k << 1);
    pq_buf_byte(&sc->page, 1);
  } else {
    grow_array((void **)&sc->levels, &sc->levels_cap, (size_t)k, sizeof *sc->levels);
    const uint8_t *valid = c->valid + row;
    for (int64_t i = 0; i < k; i++)
      sc->levels[i] = valid[i] != 0;
    pq_rle_encode(&sc->page, sc->levels, (size_t)k, 1);
  }
  uint32_t len = (uint32_t)(sc->page.len - at - 4);
  memcpy(sc->page.data + at, &len, 4);
}

/* Decides for a dictionary: its page plus bit-packed indices must beat PLAIN by 10%. */
static bool want_dict(pq_scratch *sc, const column *c, int64_t start, int64_t n, int64_t nonnull,
                      const pq_options *opt, int *bit_width) {
  if (c->type == COL_BOOL || nonnull == 0) return false;
  grow_array((void **)&sc->idx, &sc->idx_cap, (size_t)nonnull, sizeof *sc->idx);
  if (!pq_dict_build(&sc->dict, c, start, n, opt->dict_max_bytes, sc->idx)) return false;
  int bw = pq_bit_width(sc->dict.n - 1);
  *bit_width = bw < 1 ? 1 : bw;
  size_t plain = c->type == COL_STRING
                     ? (size_t)(c->offsets[start + n] - c->offsets[start]) + 4 * (size_t)nonnull
                     : 8 * (size_t)nonnull;
  size_t dict = sc->dict.plain_bytes + ((size_t)nonnull * (size_t)*bit_width + 7) / 8;
  return dict * 10 < plain * 9;
}

int pq_write_chunk(pq_scratch *sc, pq_sink *s, const column *c, int64_t start, int64_t n,
                   const pq_options *opt, pq_chunk_meta *m, ath_error *err) {
  *m = (pq_chunk_meta){.num_values = n, .dict_page_offset = -1};
  int64_t nonnull = count_valid(c->valid + start, n);
  m->null_count = n - nonnull;
  int bw = 0, rc = ATH_OK;
  bool dict = want_dict(sc, c, start, n, nonnull, opt, &bw);
  if (!dict) bw = 0;
  stats st = {0};
  gather_stats(&st, c, start, n, dict ? &sc->dict : NULL);
  stats_store(&st, c->type, m);
  if (dict) {
    m->dict_page_offset = (int64_t)s->offset;
    sc->dictbuf.len = 0;
    pq_dict_plain(&sc->dict, &sc->dictbuf);
    rc = write_page(sc, s, PAGE_DICTIONARY, sc->dict.n, ENC_PLAIN, &sc->dictbuf, m, err);
  }
  m->data_page_offset = (int64_t)s->offset;
  size_t idx_pos = 0;
  for (int64_t row = start; rc == ATH_OK && row < start + n;) {
    int64_t k = page_rows(c, row, start + n - row, bw, opt->page_bytes);
    sc->page.len = 0;
    size_t nn = nonnull == n ? (size_t)k : (size_t)count_valid(c->valid + row, k);
    if (c->nullable) def_levels(sc, c, row, k, (int64_t)nn);
    if (dict) {
      pq_buf_byte(&sc->page, (uint8_t)bw);
      pq_rle_encode(&sc->page, sc->idx + idx_pos, nn, bw);
      idx_pos += nn;
    } else {
      pq_plain_encode(&sc->page, c, row, k);
    }
    rc = write_page(sc, s, PAGE_DATA, k, dict ? ENC_RLE_DICTIONARY : ENC_PLAIN, &sc->page, m, err);
    m->data_pages++;
    row += k;
  }
  return rc;
}

void pq_chunk_meta_free(pq_chunk_meta *m) {
  free(m->min);
  free(m->max);
  m->min = m->max = NULL;
}

void pq_scratch_free(pq_scratch *sc) {
  pq_buf_free(&sc->page);
  pq_buf_free(&sc->hdr);
  pq_buf_free(&sc->dictbuf);
  free(sc->idx);
  free(sc->levels);
  pq_dict_free(&sc->dict);
  pq_compressor_free(&sc->comp);
  *sc = (pq_scratch){0};
}
