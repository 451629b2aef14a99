#include "shuffle/shuffle.h"

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

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint64_t load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

uint64_t hash_bytes(const void *data, size_t n, uint64_t seed) {
  const uint8_t *p = data;
  uint64_t a = 0, b = 0, s = seed ^ fold_mul(seed ^ K2, K3);
  if (n <= 16) {
    if (n >= 4) {
      size_t mid = (n >> 3) << 2;
      a = load32(p) << 32 | load32(p + mid);
      b = load32(p + n - 4) << 32 | load32(p + n - 4 - mid);
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

/* ---- row serialisation: per column one validity byte, then (if valid) the value: strings as
 * a 4-byte length and the bytes, fixed-width types as their native bytes. -------------------- */

/* Serialised size of row i; adds each string cell's length to col_bytes[column]. */
static size_t row_size(const batch *b, int64_t i, uint64_t *col_bytes) {
  size_t n = (size_t)b->ncols;
  for (int k = 0; k < b->ncols; k++) {
    const column *c = &b->cols[k];
    if (col_is_null(c, i)) continue;
    if (c->type == COL_STRING) {
      size_t len = (size_t)(c->offsets[i + 1] - c->offsets[i]);
      n += 4 + len;
      col_bytes[k] += len;
    } else {
      n += col_type_width(c->type);
    }
  }
  return n;
}

/* Writes row i at dst (row_size bytes); returns the end. */
static uint8_t *row_write(const batch *b, int64_t i, uint8_t *dst) {
  for (int k = 0; k < b->ncols; k++) {
    const column *c = &b->cols[k];
    bool valid = !col_is_null(c, i);
    *dst++ = valid;
    if (!valid) continue;
    if (c->type == COL_STRING) {
      size_t len;
      const uint8_t *p = col_str(c, i, &len);
      uint32_t l32 = (uint32_t)len;
      memcpy(dst, &l32, 4);
      if (len) memcpy(dst + 4, p, len); /* an empty column may have no byte buffer */
      dst += 4 + len;
    } else {
      size_t w = col_type_width(c->type);
      memcpy(dst, (const char *)c->values + (size_t)i * w, w);
      dst += w;
    }
  }
  return dst;
}

/* Appends the serialised row at src to b; returns the end of the row. Writes straight into
 * the column buffers: shuffle_batch reserves their exact sizes first (col_reserve is called
 * only if a buffer would overflow, which a well-formed stream never does). */
static const uint8_t *row_read(batch *b, const uint8_t *src) {
  for (int k = 0; k < b->ncols; k++) {
    column *c = &b->cols[k];
    bool valid = *src++;
    if (c->type == COL_STRING) {
      uint32_t len = 0;
      if (valid) memcpy(&len, src, 4);
      if ((size_t)c->n + 1 > c->cap || c->nbytes + len > c->bytes_cap) col_reserve(c, 1, len);
      if (len) memcpy(c->bytes + c->nbytes, src + 4, len);
      src += valid ? 4 + (size_t)len : 0;
      c->nbytes += len;
      c->offsets[c->n + 1] = (int64_t)c->nbytes;
    } else {
      size_t w = col_type_width(c->type);
      if ((size_t)c->n + 1 > c->cap) col_reserve(c, 1, 0);
      char *dst = (char *)c->values + (size_t)c->n * w;
      valid ? memcpy(dst, src, w) : memset(dst, 0, w);
      src += valid ? w : 0;
    }
    c->valid[c->n++] = valid;
    c->null_count += !valid;
  }
  b->nrows++;
  return src;
}

/* ---- the exchange -------------------------------------------------------------------------- */

typedef struct shuffle_plan {
  int size;
  size_t cap;          /* bytes per destination per round */
  int64_t *order;      /* row indices grouped by destination (counting sort, stable) */
  int64_t *start;      /* [size + 1]: rows of destination d are order[start[d] .. start[d+1]) */
  uint64_t *send_tot;  /* bytes bound for each destination */
  uint64_t *recv_tot;  /* bytes coming from each source */
  uint64_t *send_rows; /* rows bound for each destination */
  uint64_t *recv_rows; /* rows coming from each source */
  uint64_t *send_col;  /* [size * ncols]: string bytes per destination and column */
  uint64_t *recv_col;  /* [size * ncols]: string bytes per source and column */
  uint32_t *rsz;       /* serialised size of each input row */
} shuffle_plan;

/* Send cursor of one destination stream: next row and byte offset inside it. */
typedef struct stream_cursor {
  int64_t pos;
  size_t roff;
} stream_cursor;

static void plan_free(shuffle_plan *p) {
  free(p->order);
  free(p->start);
  free(p->send_tot);
  free(p->recv_tot);
  free(p->send_rows);
  free(p->recv_rows);
  free(p->rsz);
  free(p->send_col);
  free(p->recv_col);
}

static int mpi_fail(ath_error *err, int rc, const char *what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  return ath_fail(err, ATH_ERR, "shuffle: %s failed: %.*s", what, len, msg);
}

/* Groups rows by destination and sizes the streams; returns ATH_OK or (locally) ATH_ERR on a
 * destination out of range or a string too long for the 4-byte length. */
static int plan_local(const batch *in, const int *dest, shuffle_plan *p, ath_error *err) {
  int64_t n = in->nrows;
  p->start = xcalloc((size_t)p->size + 1, sizeof *p->start);
  p->send_tot = xcalloc((size_t)p->size, sizeof *p->send_tot);
  p->send_rows = xcalloc((size_t)p->size, sizeof *p->send_rows);
  p->recv_tot = xcalloc((size_t)p->size, sizeof *p->recv_tot);
  p->recv_rows = xcalloc((size_t)p->size, sizeof *p->recv_rows);
  p->order = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *p->order);
  p->rsz = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *p->rsz);
  size_t nc = (size_t)(in->ncols > 0 ? in->ncols : 1);
  p->send_col = xcalloc((size_t)p->size * nc, sizeof *p->send_col);
  p->recv_col = xcalloc((size_t)p->size * nc, sizeof *p->recv_col);
  for (int64_t i = 0; i < n; i++) {
    if (dest[i] < 0 || dest[i] >= p->size)
      return ath_fail(err, ATH_ERR, "shuffle: row %lld has destination %d outside 0..%d",
                      (long long)i, dest[i], p->size - 1);
    size_t sz = row_size(in, i, p->send_col + (size_t)dest[i] * nc);
    if (sz > UINT32_MAX)
      return ath_fail(err, ATH_ERR, "shuffle: row %lld exceeds 4 GiB", (long long)i);
    p->rsz[i] = (uint32_t)sz;
    p->send_tot[dest[i]] += sz;
    p->send_rows[dest[i]]++;
  }
  for (int d = 0; d < p->size; d++)
    p->start[d + 1] = p->start[d] + (int64_t)p->send_rows[d];
  int64_t *fill = xmalloc((size_t)p->size * sizeof *fill);
  memcpy(fill, p->start, (size_t)p->size * sizeof *fill);
  for (int64_t i = 0; i < n; i++)
    p->order[fill[dest[i]]++] = i;
  free(fill);
  return ATH_OK;
}

/* Fills up to `want` bytes of destination d's stream into dst, advancing the cursor. A row
 * that does not fit whole is serialised into *scratch and copied in pieces across rounds. */
static void fill_stream(const batch *in, const shuffle_plan *p, int d, stream_cursor *cur,
                        uint8_t *dst, size_t want, uint8_t **scratch, size_t *scratch_cap) {
  size_t filled = 0;
  while (filled < want) {
    int64_t i = p->order[p->start[d] + cur->pos];
    size_t sz = p->rsz[i];
    if (cur->roff == 0 && sz <= want - filled) {
      row_write(in, i, dst + filled);
      filled += sz;
      cur->pos++;
      continue;
    }
    grow_array((void **)scratch, scratch_cap, sz, 1);
    row_write(in, i, *scratch);
    size_t take = sz - cur->roff < want - filled ? sz - cur->roff : want - filled;
    memcpy(dst + filled, *scratch + cur->roff, take);
    filled += take;
    cur->roff += take;
    if (cur->roff == sz) {
      cur->roff = 0;
      cur->pos++;
    }
  }
}

static size_t min_sz(uint64_t a, size_t b) {
  return a < b ? (size_t)a : b;
}

/* Runs the rounds: fills *rbuf (allocated here, caller frees) with every source's stream at
 * its offset. Returns ATH_OK or ATH_ERR on an MPI failure. */
static int exchange(MPI_Comm comm, const batch *in, const shuffle_plan *p, uint8_t **rbuf,
                    ath_error *err) {
  int size = p->size, rc = ATH_OK;
  uint64_t total = 0, my_rounds = 0, rounds = 0;
  uint64_t *roff = xmalloc((size_t)size * sizeof *roff), *got = xcalloc((size_t)size, 8);
  uint64_t *sent = xcalloc((size_t)size, 8);
  for (int s = 0; s < size; s++) {
    roff[s] = total;
    total += p->recv_tot[s];
    uint64_t r = (p->send_tot[s] + p->cap - 1) / p->cap;
    if (r > my_rounds) my_rounds = r;
  }
  *rbuf = xmalloc(total ? total : 1);
  int *scnt = xcalloc((size_t)size, sizeof(int)), *sdis = xcalloc((size_t)size, sizeof(int));
  int *rcnt = xcalloc((size_t)size, sizeof(int)), *rdis = xcalloc((size_t)size, sizeof(int));
  size_t sbytes = 1, rbytes = 1; /* one round's worth at most, but no more than the data */
  for (int d = 0; d < size; d++) {
    sbytes += min_sz(p->send_tot[d], p->cap);
    rbytes += min_sz(p->recv_tot[d], p->cap);
  }
  uint8_t *sround = xmalloc(sbytes), *rround = xmalloc(rbytes);
  stream_cursor *cur = xcalloc((size_t)size, sizeof *cur);
  uint8_t *scratch = NULL;
  size_t scratch_cap = 0;
  int mrc = MPI_Allreduce(&my_rounds, &rounds, 1, MPI_UINT64_T, MPI_MAX, comm);
  if (mrc != MPI_SUCCESS) {
    rc = mpi_fail(err, mrc, "MPI_Allreduce");
    goto out;
  }
  for (uint64_t r = 0; r < rounds; r++) {
    int so = 0, ro = 0;
    for (int d = 0; d < size; d++) {
      scnt[d] = (int)min_sz(p->send_tot[d] - sent[d], p->cap);
      sdis[d] = so;
      fill_stream(in, p, d, &cur[d], sround + so, (size_t)scnt[d], &scratch, &scratch_cap);
      sent[d] += (uint64_t)scnt[d];
      so += scnt[d];
      rcnt[d] = (int)min_sz(p->recv_tot[d] - got[d], p->cap);
      rdis[d] = ro;
      ro += rcnt[d];
    }
    mrc = MPI_Alltoallv(sround, scnt, sdis, MPI_BYTE, rround, rcnt, rdis, MPI_BYTE, comm);
    if (mrc != MPI_SUCCESS) {
      rc = mpi_fail(err, mrc, "MPI_Alltoallv");
      goto out;
    }
    for (int s = 0; s < size; s++) {
      memcpy(*rbuf + roff[s] + got[s], rround + rdis[s], (size_t)rcnt[s]);
      got[s] += (uint64_t)rcnt[s];
    }
  }
out:
  free(roff);
  free(got);
  free(sent);
  free(scnt);
  free(sdis);
  free(rcnt);
  free(rdis);
  free(sround);
  free(rround);
  free(cur);
  free(scratch);
  return rc;
}

/* Agrees on a status across ranks: returns the worst status; a rank whose own step succeeded
 * records a message saying another rank failed. */
static int agree(MPI_Comm comm, int rc, ath_error *err) {
  int all = rc;
  if (MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS) all = ATH_ERR;
  if (all != ATH_OK && rc == ATH_OK) ath_fail(err, all, "shuffle: failed on another rank");
  return all;
}

int shuffle_batch(MPI_Comm comm, const batch *in, const int *dest, size_t round_bytes, batch **out,
                  ath_error *err) {
  shuffle_plan p = {0};
  uint8_t *rbuf = NULL;
  *out = NULL;
  MPI_Comm_size(comm, &p.size);
  if (round_bytes > ((size_t)1 << 30)) round_bytes = (size_t)1 << 30;
  p.cap = round_bytes / (size_t)p.size;
  if (p.cap == 0) p.cap = 1;
  int rc = agree(comm, plan_local(in, dest, &p, err), err);
  if (rc != ATH_OK) goto out;
  int mrc = MPI_Alltoall(p.send_tot, 1, MPI_UINT64_T, p.recv_tot, 1, MPI_UINT64_T, comm);
  if (mrc == MPI_SUCCESS)
    mrc = MPI_Alltoall(p.send_rows, 1, MPI_UINT64_T, p.recv_rows, 1, MPI_UINT64_T, comm);
  int nc = in->ncols > 0 ? in->ncols : 1;
  if (mrc == MPI_SUCCESS)
    mrc = MPI_Alltoall(p.send_col, nc, MPI_UINT64_T, p.recv_col, nc, MPI_UINT64_T, comm);
  if (mrc != MPI_SUCCESS) {
    rc = mpi_fail(err, mrc, "MPI_Alltoall");
    goto out;
  }
  rc = agree(comm, exchange(comm, in, &p, &rbuf, err), err);
  if (rc != ATH_OK) goto out;
  uint64_t rows = 0, bytes = 0;
  for (int s = 0; s < p.size; s++) {
    rows += p.recv_rows[s];
    bytes += p.recv_tot[s];
  }
  *out = batch_new_like(in);
  for (int k = 0; k < in->ncols; k++) { /* exact sizes: decoding never reallocates */
    uint64_t sbytes = 0;
    for (int s = 0; s < p.size; s++)
      sbytes += p.recv_col[(size_t)s * (size_t)nc + (size_t)k];
    col_reserve(&(*out)->cols[k], (size_t)rows, (size_t)sbytes);
  }
  const uint8_t *q = rbuf;
  for (uint64_t r = 0; r < rows; r++)
    q = row_read(*out, q);
  if ((uint64_t)(q - rbuf) != bytes) rc = ath_fail(err, ATH_ERR, "shuffle: stream size mismatch");
out:
  free(rbuf);
  plan_free(&p);
  if (rc != ATH_OK) {
    batch_free(*out);
    *out = NULL;
  }
  return rc;
}
