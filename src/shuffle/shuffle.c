#include "shuffle/shuffle.h"
#include "core/agree.h"

#include "core/bytes.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashing ------------------------------------------------------------------------------ */

#define K0 0x9e3779b97f4a7c15ull
#define K1 0xd6e8feb86659fd93ull
#define K2 0xa0761d6478bd642full
#define K3 0xe7037ed1a0b428dbull

/* 64x64 -> 128 multiply, folded: the mixing step of the hash. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b) {
  unsigned __int128 r = (unsigned __int128)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t hash_bytes(const void *data, size_t n, uint64_t seed) {
  const uint8_t *p = data;
  uint64_t a = 0, b = 0, s = seed ^ fold_mul(seed ^ K2, K3);
  if (n <= 16) {
    if (n >= 4) {
      size_t mid = (n >> 3) << 2;
      a = (uint64_t)load32(p) << 32 | load32(p + mid);
      b = (uint64_t)load32(p + n - 4) << 32 | load32(p + n - 4 - mid);
    } else if (n > 0) {
      a = (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
    }
  } else {
    size_t left = n;
    while (left > 16) {
      s = fold_mul(load64(p) ^ K3, load64(p + 8) ^ s);
      p += 16;
      left -= 16;
    }
    a = load64(p + left - 16);
    b = load64(p + left - 8);
  }
  return fold_mul(K3 ^ n, fold_mul(a ^ K3, b ^ s));
}

uint64_t hash_i64(int64_t v) {
  uint64_t x = (uint64_t)v + K0;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Hash of one non-null cell; the type takes part so that equal bits of different types differ. */
static uint64_t hash_cell(const column *c, int64_t i) {
  switch (c->type) {
  case COL_STRING: {
    size_t len;
    const uint8_t *p = col_str(c, i, &len);
    return hash_bytes(p, len, K1);
  }
  case COL_BOOL:
    return hash_i64(col_bool(c, i)) ^ K2;
  case COL_DOUBLE: {
    uint64_t bits;
    memcpy(&bits, (const double *)c->values + i, 8);
    return hash_i64((int64_t)bits) ^ K3;
  }
  case COL_INT64:
  case COL_TIMESTAMP:
    return hash_i64(col_i64(c, i)) + (uint64_t)c->type;
  }
  return 0;
}

uint64_t hash_row(const batch *b, int64_t i) {
  uint64_t h = K0;
  for (int k = 0; k < b->ncols; k++) {
    const column *c = &b->cols[k];
    uint64_t v = col_is_null(c, i) ? K1 * (uint64_t)(k + 1) : hash_cell(c, i);
    h = fold_mul(h ^ v, K2 + 2 * (uint64_t)k);
  }
  return h;
}

bool row_equal(const batch *a, int64_t i, const batch *b, int64_t j) {
  for (int k = 0; k < a->ncols; k++) {
    const column *x = &a->cols[k], *y = &b->cols[k];
    bool nx = col_is_null(x, i), ny = col_is_null(y, j);
    if (nx || ny) {
      if (nx != ny) return false;
      continue;
    }
    if (x->type == COL_STRING) {
      size_t lx, ly;
      const uint8_t *px = col_str(x, i, &lx), *py = col_str(y, j, &ly);
      if (lx != ly || (lx && memcmp(px, py, lx) != 0)) return false;
    } else {
      size_t w = col_type_width(x->type);
      if (memcmp((const char *)x->values + (size_t)i * w, (const char *)y->values + (size_t)j * w,
                 w) != 0)
        return false;
    }
  }
  return true;
}

/* ---- column-wise streams ------------------------------------------------------------------
 * The stream from one rank to destination d holds the n_d rows bound for d (in source order)
 * column by column: per column a validity byte per row, then for fixed-width types the values
 * (a null as zero bytes), for strings a 4-byte length per row (0 for a null) and then all the
 * string bytes; after the last column, when tags are shuffled, one 8-byte tag per row. Each
 * piece is a "segment"; a receiver decodes a column of a source with a few memcpy calls. */

static size_t min_u64(uint64_t a, size_t b) {
  return a < b ? (size_t)a : b;
}

typedef enum seg_kind { SEG_VALID, SEG_FIX1, SEG_FIX8, SEG_LEN, SEG_BYTES, SEG_TAG } seg_kind;

typedef struct segment {
  seg_kind kind;
  int col;
  size_t stride; /* bytes per row (0 for SEG_BYTES) */
} segment;

typedef struct shuffle_plan {
  int size, rank, ncols, nseg;
  size_t cap;          /* bytes per destination per round */
  segment *seg;        /* the segments of every stream, in order */
  const uint64_t *tag; /* per input row, or NULL */
  int64_t *order;      /* row indices grouped by destination (counting sort, stable) */
  int64_t *start;      /* [size + 1]: rows of destination d are order[start[d] .. start[d+1]) */
  uint64_t *send_tot;  /* bytes bound for each destination (0 for this rank: copied locally) */
  uint64_t *recv_tot;  /* bytes coming from each source (0 for this rank) */
  uint64_t *send_rows; /* rows bound for each destination */
  uint64_t *recv_rows; /* rows coming from each source */
  uint64_t *send_col;  /* [size * ncols]: string bytes per destination and column */
  uint64_t *recv_col;  /* [size * ncols]: string bytes per source and column */
} shuffle_plan;

/* Send cursor of one destination stream: segment, bytes of it sent, and inside a SEG_BYTES
 * segment the next row (position in the destination's rows) and byte inside it. */
typedef struct stream_cursor {
  int seg;
  size_t off;
  int64_t srow;
  size_t sbyte;
} stream_cursor;

static void plan_free(shuffle_plan *p) {
  free(p->seg);
  free(p->order);
  free(p->start);
  free(p->send_tot);
  free(p->recv_tot);
  free(p->send_rows);
  free(p->recv_rows);
  free(p->send_col);
  free(p->recv_col);
}

static void plan_segments(const batch *in, shuffle_plan *p) {
  p->seg = xmalloc((size_t)(3 * in->ncols + 1) * sizeof *p->seg);
  int n = 0;
  for (int k = 0; k < in->ncols; k++) {
    col_type t = in->cols[k].type;
    p->seg[n++] = (segment){SEG_VALID, k, 1};
    if (t == COL_STRING) {
      p->seg[n++] = (segment){SEG_LEN, k, 4};
      p->seg[n++] = (segment){SEG_BYTES, k, 0};
    } else {
      size_t w = col_type_width(t);
      p->seg[n++] = (segment){w == 1 ? SEG_FIX1 : SEG_FIX8, k, w};
    }
  }
  if (p->tag) p->seg[n++] = (segment){SEG_TAG, -1, 8};
  p->nseg = n;
}

/* Bytes of segment g in the stream to (or from) a peer with `rows` rows and string bytes
 * colb[column]. */
static uint64_t seg_len(const segment *g, uint64_t rows, const uint64_t *colb) {
  return g->kind == SEG_BYTES ? colb[g->col] : rows * g->stride;
}

/* Groups rows by destination and sizes the streams; returns ATH_OK or (locally) ATH_ERR on a
 * destination out of range or a string too long for the 4-byte length. */
static int plan_local(const batch *in, const int *dest, shuffle_plan *p, ath_error *err) {
  int64_t n = in->nrows;
  size_t nc = (size_t)(in->ncols > 0 ? in->ncols : 1);
  p->start = xcalloc((size_t)p->size + 1, sizeof *p->start);
  p->send_tot = xcalloc((size_t)p->size, sizeof *p->send_tot);
  p->send_rows = xcalloc((size_t)p->size, sizeof *p->send_rows);
  p->recv_tot = xcalloc((size_t)p->size, sizeof *p->recv_tot);
  p->recv_rows = xcalloc((size_t)p->size, sizeof *p->recv_rows);
  p->order = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *p->order);
  p->send_col = xcalloc((size_t)p->size * nc, sizeof *p->send_col);
  p->recv_col = xcalloc((size_t)p->size * nc, sizeof *p->recv_col);
  plan_segments(in, p);
  for (int64_t i = 0; i < n; i++) {
    if (dest[i] < 0 || dest[i] >= p->size)
      return ath_fail(err, ATH_ERR, "shuffle: row %lld has destination %d outside 0..%d",
                      (long long)i, dest[i], p->size - 1);
    p->send_rows[dest[i]]++;
  }
  for (int k = 0; k < in->ncols; k++) {
    const column *c = &in->cols[k];
    if (c->type != COL_STRING) continue;
    for (int64_t i = 0; i < n; i++) {
      uint64_t len = (uint64_t)(c->offsets[i + 1] - c->offsets[i]);
      if (len > UINT32_MAX)
        return ath_fail(err, ATH_ERR, "shuffle: row %lld has a string over 4 GiB", (long long)i);
      p->send_col[(size_t)dest[i] * nc + (size_t)k] += len;
    }
  }
  for (int d = 0; d < p->size; d++) {
    for (int g = 0; g < p->nseg; g++)
      p->send_tot[d] += seg_len(&p->seg[g], p->send_rows[d], p->send_col + (size_t)d * nc);
    p->start[d + 1] = p->start[d] + (int64_t)p->send_rows[d];
  }
  int64_t *fill = xmalloc((size_t)p->size * sizeof *fill);
  memcpy(fill, p->start, (size_t)p->size * sizeof *fill);
  for (int64_t i = 0; i < n; i++)
    p->order[fill[dest[i]]++] = i;
  free(fill);
  return ATH_OK;
}

/* Writes the per-row values of stride segment g for the rows idx[0..m) at dst. */
static void put_rows(const batch *in, const shuffle_plan *p, const segment *g, const int64_t *idx,
                     size_t m, uint8_t *dst) {
  const column *c = g->col >= 0 ? &in->cols[g->col] : NULL;
  switch (g->kind) {
  case SEG_VALID:
    for (size_t j = 0; j < m; j++)
      dst[j] = c->valid[idx[j]] != 0;
    break;
  case SEG_FIX1: {
    const uint8_t *v = c->values;
    for (size_t j = 0; j < m; j++)
      dst[j] = c->valid[idx[j]] ? v[idx[j]] : 0;
    break;
  }
  case SEG_FIX8: {
    const uint64_t *v = c->values;
    for (size_t j = 0; j < m; j++) {
      uint64_t x = c->valid[idx[j]] ? v[idx[j]] : 0;
      memcpy(dst + 8 * j, &x, 8);
    }
    break;
  }
  case SEG_LEN:
    for (size_t j = 0; j < m; j++) {
      uint32_t l = (uint32_t)(c->offsets[idx[j] + 1] - c->offsets[idx[j]]);
      memcpy(dst + 4 * j, &l, 4);
    }
    break;
  case SEG_TAG:
    for (size_t j = 0; j < m; j++)
      memcpy(dst + 8 * j, &p->tag[idx[j]], 8);
    break;
  case SEG_BYTES:
    break;
  }
}

/* Fills the next `want` bytes of destination d's stream into dst, advancing the cursor. */
static void fill_stream(const batch *in, const shuffle_plan *p, int d, stream_cursor *cur,
                        uint8_t *dst, size_t want) {
  const int64_t *rows = p->order + p->start[d];
  const uint64_t *colb = p->send_col + (size_t)d * (size_t)(in->ncols > 0 ? in->ncols : 1);
  uint64_t n = p->send_rows[d];
  while (want > 0) {
    const segment *g = &p->seg[cur->seg];
    uint64_t len = seg_len(g, n, colb);
    if (cur->off == len) {
      cur->seg++;
      cur->off = 0;
      cur->srow = 0;
      cur->sbyte = 0;
      continue;
    }
    size_t take = min_u64(len - cur->off, want);
    want -= take;
    cur->off += take;
    if (g->kind == SEG_BYTES) {
      const column *c = &in->cols[g->col];
      while (take > 0) {
        int64_t i = rows[cur->srow];
        size_t l = (size_t)(c->offsets[i + 1] - c->offsets[i]) - cur->sbyte;
        size_t t = l < take ? l : take;
        if (t) memcpy(dst, c->bytes + c->offsets[i] + cur->sbyte, t);
        dst += t;
        take -= t;
        cur->sbyte += t;
        if (t == l) {
          cur->srow++;
          cur->sbyte = 0;
        }
      }
      continue;
    }
    size_t w = g->stride, off = cur->off - take;
    while (take > 0) {
      int64_t r = (int64_t)(off / w);
      size_t b = off % w;
      if (b == 0 && take >= w) {
        size_t m = take / w;
        put_rows(in, p, g, rows + r, m, dst);
        dst += m * w;
        off += m * w;
        take -= m * w;
      } else {
        uint8_t tmp[8];
        put_rows(in, p, g, rows + r, 1, tmp);
        size_t t = w - b < take ? w - b : take;
        memcpy(dst, tmp + b, t);
        dst += t;
        off += t;
        take -= t;
      }
    }
  }
}

/* Where each source's rows and string bytes go in the output: rows of source s are
 * out[row0[s] .. row0[s] + recv_rows[s]), string bytes of column k start at byte0[s * nc + k].
 * The output is reserved to its exact size first, so every received byte is written once, at
 * its final place, as it arrives: no buffer for the whole received data. */
typedef struct recv_layout {
  batch *out;
  uint64_t *tags;
  int64_t *row0;
  uint64_t *byte0;
} recv_layout;

/* Receive cursor of one source stream: segment, bytes of it received, rows of a SEG_LEN
 * segment completed, and a 4-byte length split between rounds. */
typedef struct recv_cursor {
  int seg;
  size_t off;
  int64_t row;
  uint8_t carry[4];
  int ncarry;
  bool overrun; /* more bytes than the plan's segments hold */
} recv_cursor;

/* Appends one received string length as row `row` of source s's part of column c. */
static inline void put_len(column *c, int64_t row0, int64_t row, uint32_t l) {
  c->offsets[row0 + row + 1] = c->offsets[row0 + row] + (int64_t)l;
}

/* Writes the next n received bytes of source s's stream at their places in the output. */
static void absorb(const shuffle_plan *p, const recv_layout *lay, int s, recv_cursor *cur,
                   const uint8_t *src, size_t n) {
  size_t nc = (size_t)(p->ncols > 0 ? p->ncols : 1);
  const uint64_t *colb = p->recv_col + (size_t)s * nc;
  uint64_t rows = p->recv_rows[s];
  int64_t r0 = lay->row0[s];
  while (n > 0) {
    if (cur->seg >= p->nseg) {
      cur->overrun = true;
      return;
    }
    const segment *g = &p->seg[cur->seg];
    uint64_t len = seg_len(g, rows, colb);
    if (cur->off == len) {
      cur->seg++;
      cur->off = 0;
      cur->row = 0;
      continue;
    }
    size_t take = min_u64(len - cur->off, n);
    column *c = g->col >= 0 ? &lay->out->cols[g->col] : NULL;
    switch (g->kind) {
    case SEG_VALID:
      memcpy(c->valid + r0 + (int64_t)cur->off, src, take);
      break;
    case SEG_FIX1:
    case SEG_FIX8:
      memcpy((uint8_t *)c->values + (size_t)r0 * g->stride + cur->off, src, take);
      break;
    case SEG_TAG:
      memcpy((uint8_t *)(lay->tags + r0) + cur->off, src, take);
      break;
    case SEG_BYTES:
      memcpy(c->bytes + lay->byte0[(size_t)s * nc + (size_t)g->col] + cur->off, src, take);
      break;
    case SEG_LEN: {
      size_t i = 0;
      while (i < take) {
        if (cur->ncarry == 0) {
          for (; take - i >= 4; i += 4)
            put_len(c, r0, cur->row++, load32(src + i));
          if (i == take) break;
        }
        cur->carry[cur->ncarry++] = src[i++];
        if (cur->ncarry == 4) {
          put_len(c, r0, cur->row++, load32(cur->carry));
          cur->ncarry = 0;
        }
      }
      break;
    }
    }
    cur->off += take;
    src += take;
    n -= take;
  }
}

/* Runs the rounds, writing what every other source sends straight into the output. Returns
 * ATH_OK or ATH_ERR on an MPI failure or a stream that does not match the plan. */
static int exchange(MPI_Comm comm, const batch *in, const shuffle_plan *p, const recv_layout *lay,
                    ath_error *err) {
  int size = p->size, rc = ATH_OK;
  uint64_t my_rounds = 0, rounds = 0;
  uint64_t *got = xcalloc((size_t)size, 8), *sent = xcalloc((size_t)size, 8);
  for (int s = 0; s < size; s++) {
    uint64_t r = (p->send_tot[s] + p->cap - 1) / p->cap;
    if (r > my_rounds) my_rounds = r;
  }
  int *scnt = xcalloc((size_t)size, sizeof(int)), *sdis = xcalloc((size_t)size, sizeof(int));
  int *rcnt = xcalloc((size_t)size, sizeof(int)), *rdis = xcalloc((size_t)size, sizeof(int));
  size_t sbytes = 1, rbytes = 1; /* one round's worth at most, but no more than the data */
  for (int d = 0; d < size; d++) {
    sbytes += min_u64(p->send_tot[d], p->cap);
    rbytes += min_u64(p->recv_tot[d], p->cap);
  }
  uint8_t *sround = xmalloc(sbytes), *rround = xmalloc(rbytes);
  stream_cursor *cur = xcalloc((size_t)size, sizeof *cur);
  recv_cursor *rcur = xcalloc((size_t)size, sizeof *rcur);
  rc = ATH_MPI(MPI_Allreduce(&my_rounds, &rounds, 1, MPI_UINT64_T, MPI_MAX, comm), err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  for (uint64_t r = 0; r < rounds; r++) {
    int so = 0, ro = 0;
    for (int d = 0; d < size; d++) {
      scnt[d] = (int)min_u64(p->send_tot[d] - sent[d], p->cap);
      sdis[d] = so;
      fill_stream(in, p, d, &cur[d], sround + so, (size_t)scnt[d]);
      sent[d] += (uint64_t)scnt[d];
      so += scnt[d];
      rcnt[d] = (int)min_u64(p->recv_tot[d] - got[d], p->cap);
      rdis[d] = ro;
      ro += rcnt[d];
    }
    /* A failed exchange is a broken communicator: this rank stops; the others' next exchange
     * with it fails too. */
    rc = ATH_MPI(MPI_Alltoallv(sround, scnt, sdis, MPI_BYTE, rround, rcnt, rdis, MPI_BYTE, comm),
                 err);
    if (rc != ATH_OK) goto out;
    for (int s = 0; s < size; s++) {
      absorb(p, lay, s, &rcur[s], rround + rdis[s], (size_t)rcnt[s]);
      got[s] += (uint64_t)rcnt[s];
    }
  }
  for (int s = 0; s < size && rc == ATH_OK; s++)
    if (rcur[s].overrun || rcur[s].ncarry)
      rc = ath_fail(err, ATH_ERR, "shuffle: stream from rank %d does not match its plan", s);
out:
  free(got);
  free(sent);
  free(scnt);
  free(sdis);
  free(rcnt);
  free(rdis);
  free(sround);
  free(rround);
  free(cur);
  free(rcur);
  return rc;
}

/* Copies this rank's own rows (they never leave it) from `in` to their place in the output. */
static void copy_own(const batch *in, const shuffle_plan *p, const recv_layout *lay) {
  size_t nc = (size_t)(in->ncols > 0 ? in->ncols : 1);
  const int64_t *mine = p->order + p->start[p->rank];
  size_t m = (size_t)p->recv_rows[p->rank];
  int64_t r0 = lay->row0[p->rank];
  for (int g = 0; g < p->nseg; g++) {
    const segment *sg = &p->seg[g];
    column *c = sg->col >= 0 ? &lay->out->cols[sg->col] : NULL;
    const column *src = sg->col >= 0 ? &in->cols[sg->col] : NULL;
    switch (sg->kind) {
    case SEG_VALID:
      for (size_t j = 0; j < m; j++)
        c->valid[r0 + (int64_t)j] = src->valid[mine[j]] != 0;
      break;
    case SEG_FIX1:
    case SEG_FIX8:
      put_rows(in, p, sg, mine, m, (uint8_t *)c->values + (size_t)r0 * sg->stride);
      break;
    case SEG_TAG:
      put_rows(in, p, sg, mine, m, (uint8_t *)(lay->tags + r0));
      break;
    case SEG_LEN:
      for (size_t j = 0; j < m; j++)
        put_len(c, r0, (int64_t)j, (uint32_t)(src->offsets[mine[j] + 1] - src->offsets[mine[j]]));
      break;
    case SEG_BYTES: {
      uint8_t *dst = c->bytes + lay->byte0[(size_t)p->rank * nc + (size_t)sg->col];
      for (size_t j = 0; j < m; j++) {
        int64_t i = mine[j];
        size_t l = (size_t)(src->offsets[i + 1] - src->offsets[i]);
        if (l) memcpy(dst, src->bytes + src->offsets[i], l);
        dst += l;
      }
      break;
    }
    }
  }
}

/* Sizes the output exactly and sets where each source's rows and bytes go (each source's
 * first offset included, so sources can be filled in any order). */
static void layout_output(const batch *in, const shuffle_plan *p, recv_layout *lay,
                          uint64_t *rows_out) {
  int size = p->size;
  size_t nc = (size_t)(in->ncols > 0 ? in->ncols : 1);
  lay->row0 = xcalloc((size_t)size + 1, sizeof *lay->row0);
  lay->byte0 = xcalloc((size_t)size * nc, sizeof *lay->byte0);
  for (int s = 0; s < size; s++)
    lay->row0[s + 1] = lay->row0[s] + (int64_t)p->recv_rows[s];
  uint64_t rows = (uint64_t)lay->row0[size];
  lay->out = batch_new_like(in);
  for (int k = 0; k < in->ncols; k++) {
    uint64_t total = 0;
    for (int s = 0; s < size; s++) {
      lay->byte0[(size_t)s * nc + (size_t)k] = total;
      total += p->recv_col[(size_t)s * nc + (size_t)k];
    }
    column *c = &lay->out->cols[k];
    col_reserve(c, (size_t)rows, (size_t)total);
    if (c->type == COL_STRING)
      for (int s = 0; s < size; s++)
        c->offsets[lay->row0[s]] = (int64_t)lay->byte0[(size_t)s * nc + (size_t)k];
  }
  *rows_out = rows;
}

/* After every byte has arrived: row and null counts, and the check that each source's
 * lengths add up to the string bytes it announced. */
static bool finish_output(const shuffle_plan *p, const recv_layout *lay, uint64_t rows) {
  size_t nc = (size_t)(p->ncols > 0 ? p->ncols : 1);
  batch *out = lay->out;
  for (int k = 0; k < out->ncols; k++) {
    column *c = &out->cols[k];
    int64_t nulls = 0;
    for (uint64_t i = 0; i < rows; i++)
      nulls += !c->valid[i];
    c->n = (int64_t)rows;
    c->null_count = nulls;
    if (c->type != COL_STRING) continue;
    for (int s = 0; s < p->size; s++) {
      uint64_t end =
          lay->byte0[(size_t)s * nc + (size_t)k] + p->recv_col[(size_t)s * nc + (size_t)k];
      if ((uint64_t)c->offsets[lay->row0[s + 1]] != end) return false;
    }
    c->nbytes = (size_t)c->offsets[rows];
  }
  out->nrows = (int64_t)rows;
  return true;
}

int shuffle_batch_tagged(MPI_Comm comm, const batch *in, const int *dest, const uint64_t *tag,
                         size_t round_bytes, batch **out, uint64_t **tag_out, ath_error *err) {
  shuffle_plan p = {0};
  recv_layout lay = {0};
  *out = NULL;
  if (tag_out) *tag_out = NULL;
  MPI_Comm_size(comm, &p.size);
  MPI_Comm_rank(comm, &p.rank);
  p.ncols = in->ncols;
  p.tag = tag_out ? tag : NULL;
  if (round_bytes > ((size_t)1 << 30)) round_bytes = (size_t)1 << 30;
  p.cap = round_bytes / (size_t)p.size;
  if (p.cap == 0) p.cap = 1;
  int rc = ath_agree(comm, plan_local(in, dest, &p, err), err);
  if (rc != ATH_OK) goto out;
  rc = ATH_MPI(MPI_Alltoall(p.send_tot, 1, MPI_UINT64_T, p.recv_tot, 1, MPI_UINT64_T, comm), err);
  if (rc == ATH_OK)
    rc = ATH_MPI(MPI_Alltoall(p.send_rows, 1, MPI_UINT64_T, p.recv_rows, 1, MPI_UINT64_T, comm),
                 err);
  int nc = in->ncols > 0 ? in->ncols : 1;
  if (rc == ATH_OK)
    rc = ATH_MPI(MPI_Alltoall(p.send_col, nc, MPI_UINT64_T, p.recv_col, nc, MPI_UINT64_T, comm),
                 err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  p.send_tot[p.rank] = p.recv_tot[p.rank] = 0; /* this rank's own rows never leave it */
  uint64_t rows = 0;
  layout_output(in, &p, &lay, &rows);
  if (tag_out) lay.tags = xmalloc((size_t)(rows ? rows : 1) * sizeof *lay.tags);
  rc = ath_agree(comm, exchange(comm, in, &p, &lay, err), err);
  if (rc != ATH_OK) goto out;
  copy_own(in, &p, &lay);
  rc = finish_output(&p, &lay, rows) ? ATH_OK
                                     : ath_fail(err, ATH_ERR, "shuffle: stream size mismatch");
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  *out = lay.out;
  lay.out = NULL;
  if (tag_out) *tag_out = lay.tags;
  lay.tags = NULL;
out:
  batch_free(lay.out);
  free(lay.tags);
  free(lay.row0);
  free(lay.byte0);
  plan_free(&p);
  return rc;
}

int shuffle_batch(MPI_Comm comm, const batch *in, const int *dest, size_t round_bytes, batch **out,
                  ath_error *err) {
  return shuffle_batch_tagged(comm, in, dest, NULL, round_bytes, out, NULL, err);
}
