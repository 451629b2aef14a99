#include "transform/gold.h"
#include "core/agree.h"

#include "shuffle/shuffle.h"
#include "transform/xsum.h"

#include <stdlib.h>
#include <string.h>

const field_def GOLD_FIELDS[8] = {
    {"sport", COL_STRING, true},      {"medal", COL_STRING, true},
    {"sex", COL_STRING, true},        {"country_noc", COL_STRING, true},
    {"avg_height", COL_DOUBLE, true}, {"avg_weight", COL_DOUBLE, true},
    {"n_rows", COL_INT64, false},     {"timestamp", COL_TIMESTAMP, false},
};

/* Partial aggregate of one group: exact sums, their non-null counts, joined rows. Sent between
 * ranks as raw bytes (all ranks run the same binary). */
typedef struct agg {
  xsum h, w;
  int64_t nh, nw, n;
} agg;

/* One nullable string cell. */
typedef struct cell {
  const uint8_t *p;
  size_t len;
  bool null;
} cell;

/* Groups keyed by (sport, medal, sex, country_noc): keys live in a 4-column batch (one arena,
 * no per-group allocation), found through an open-addressing table of group indices. */
typedef struct groups {
  batch *keys;
  agg *aggs;
  size_t aggs_cap;
  uint64_t *hash;
  size_t hash_cap;
  int64_t *slot;
  size_t cap;
} groups;

static cell get_cell(const column *c, int64_t i) {
  cell x = {NULL, 0, col_is_null(c, i)};
  if (!x.null) x.p = col_str(c, i, &x.len);
  return x;
}

static uint64_t cell_hash(cell c, uint64_t seed) {
  return c.null ? hash_i64((int64_t)seed) : hash_bytes(c.p, c.len, seed);
}

static uint64_t combine(uint64_t a, uint64_t b) {
  return hash_i64((int64_t)(a ^ (b * 0x9e3779b97f4a7c15ull + 0x7f4a7c15)));
}

/* Hash of a group key from the hash of its results half and of its bio half. */
static uint64_t pair_hash(cell a, cell b, uint64_t seed) {
  return combine(cell_hash(a, seed), cell_hash(b, seed + 1));
}

static bool cell_eq(cell a, cell b) {
  if (a.null || b.null) return a.null == b.null;
  return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void groups_init(groups *g) {
  field_def f[4];
  memcpy(f, GOLD_FIELDS, sizeof f);
  g->keys = batch_new(f, 4);
  g->aggs = NULL;
  g->aggs_cap = 0;
  g->hash = NULL;
  g->hash_cap = 0;
  g->cap = 1024;
  g->slot = xmalloc(g->cap * sizeof *g->slot);
  memset(g->slot, 0xff, g->cap * sizeof *g->slot);
}

static void groups_free(groups *g) {
  batch_free(g->keys);
  free(g->aggs);
  free(g->hash);
  free(g->slot);
}

/* Doubles the slot table and re-inserts every group. */
static void groups_rehash(groups *g) {
  free(g->slot);
  g->cap *= 2;
  g->slot = xmalloc(g->cap * sizeof *g->slot);
  memset(g->slot, 0xff, g->cap * sizeof *g->slot);
  for (int64_t i = 0; i < g->keys->nrows; i++) {
    size_t s = g->hash[i] & (g->cap - 1);
    while (g->slot[s] >= 0)
      s = (s + 1) & (g->cap - 1);
    g->slot[s] = i;
  }
}

/* Returns the aggregate of key k (hash h), adding an empty group when it is new. The pointer is
 * valid until the next call. */
static agg *groups_get(groups *g, const cell k[4], uint64_t h) {
  size_t s = h & (g->cap - 1);
  for (; g->slot[s] >= 0; s = (s + 1) & (g->cap - 1)) {
    int64_t i = g->slot[s];
    if (g->hash[i] != h) continue;
    bool eq = true;
    for (int c = 0; c < 4 && eq; c++)
      eq = cell_eq(get_cell(&g->keys->cols[c], i), k[c]);
    if (eq) return &g->aggs[i];
  }
  int64_t i = g->keys->nrows;
  for (int c = 0; c < 4; c++)
    k[c].null ? col_append_null(&g->keys->cols[c])
              : col_append_str(&g->keys->cols[c], k[c].p, k[c].len);
  g->keys->nrows++;
  grow_array((void **)&g->aggs, &g->aggs_cap, (size_t)i + 1, sizeof *g->aggs);
  grow_array((void **)&g->hash, &g->hash_cap, (size_t)i + 1, sizeof *g->hash);
  g->hash[i] = h;
  memset(&g->aggs[i], 0, sizeof g->aggs[i]);
  g->slot[s] = i;
  if ((size_t)g->keys->nrows * 2 > g->cap) groups_rehash(g);
  return &g->aggs[i];
}

/* ---- projection and shuffle by athlete_id --------------------------------------------------- */

/* Copies the named columns (first one athlete_id INT64, the rest of the given types) of the
 * rows with a non-null athlete_id into a new batch *out; *null_ids counts the others. When no
 * athlete_id is null, *out is instead a view: a batch whose columns alias b's buffers (free it
 * with view_free, never batch_free).
 * Returns ATH_ERR when a column is missing or has another type. */
static int project(const batch *b, const char *what, const field_def *f, int n, batch **out,
                   int64_t *null_ids, ath_error *err) {
  int idx[8];
  *out = NULL;
  for (int k = 0; k < n; k++) {
    idx[k] = batch_find(b, f[k].name);
    if (idx[k] < 0) return ath_fail(err, ATH_ERR, "gold: %s has no column %s", what, f[k].name);
    if (b->cols[idx[k]].type != f[k].type)
      return ath_fail(err, ATH_ERR, "gold: %s.%s is %s, expected %s", what, f[k].name,
                      col_type_name(b->cols[idx[k]].type), col_type_name(f[k].type));
  }
  if (b->cols[idx[0]].null_count == 0) { /* the usual case: a view of the needed columns */
    batch *v = xcalloc(1, sizeof *v);
    v->cols = xcalloc((size_t)n, sizeof *v->cols);
    v->ncols = n;
    v->nrows = b->nrows;
    for (int k = 0; k < n; k++)
      v->cols[k] = b->cols[idx[k]];
    *null_ids = 0;
    *out = v;
    return ATH_OK;
  }
  batch *p = batch_new(f, n);
  batch_reserve(p, b->nrows, 0);
  *null_ids = 0;
  for (int64_t i = 0; i < b->nrows; i++) {
    if (col_is_null(&b->cols[idx[0]], i)) {
      (*null_ids)++;
      continue;
    }
    for (int k = 0; k < n; k++)
      col_append_from(&p->cols[k], &b->cols[idx[k]], i);
    p->nrows++;
  }
  *out = p;
  return ATH_OK;
}

/* Frees a projection: a view's own arrays only, a copy entirely. */
static void proj_free(batch *b, bool view) {
  if (!view) {
    batch_free(b);
  } else if (b) {
    free(b->cols);
    free(b);
  }
}

/* Shuffles b (column 0 = athlete_id, never null) by hash_i64(athlete_id) mod size; replaces *b
 * (freed with proj_free(*b, *view)) with the new batch, and *view becomes false. */
static int shuffle_by_id(MPI_Comm comm, batch **b, bool *view, size_t round_bytes, ath_error *err) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  int64_t n = (*b)->nrows;
  int *dest = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *dest);
  for (int64_t i = 0; i < n; i++)
    dest[i] = (int)(hash_i64(col_i64(&(*b)->cols[0], i)) % (uint64_t)size);
  batch *out = NULL;
  int rc = shuffle_batch(comm, *b, dest, round_bytes, &out, err);
  free(dest);
  if (rc != ATH_OK) return rc;
  proj_free(*b, *view);
  *b = out;
  *view = false;
  return ATH_OK;
}

/* ---- the join ------------------------------------------------------------------------------- */

/* Dictionary codes of a string column (null included), in first-seen order: later steps
 * compare and hash small integers instead of strings. Returns the number of codes. */
static int64_t encode_column(const column *c, int64_t n, int64_t *code) {
  typedef struct dslot {
    uint64_t h;
    int64_t row, code;
  } dslot;
  size_t cap = 64;
  dslot *tab = xmalloc(cap * sizeof *tab);
  for (size_t s = 0; s < cap; s++)
    tab[s].row = -1;
  int64_t ncodes = 0, null_code = -1;
  for (int64_t i = 0; i < n; i++) {
    cell x = get_cell(c, i);
    if (x.null) {
      if (null_code < 0) null_code = ncodes++;
      code[i] = null_code;
      continue;
    }
    uint64_t h = hash_bytes(x.p, x.len, 7);
    size_t s = h & (cap - 1);
    for (; tab[s].row >= 0; s = (s + 1) & (cap - 1))
      if (tab[s].h == h && cell_eq(get_cell(c, tab[s].row), x)) break;
    if (tab[s].row >= 0) {
      code[i] = tab[s].code;
      continue;
    }
    tab[s] = (dslot){h, i, ncodes};
    code[i] = ncodes++;
    if ((size_t)ncodes * 2 > cap) { /* grow and re-insert */
      dslot *old = tab;
      size_t ocap = cap;
      cap *= 2;
      tab = xmalloc(cap * sizeof *tab);
      for (size_t t = 0; t < cap; t++)
        tab[t].row = -1;
      for (size_t t = 0; t < ocap; t++) {
        if (old[t].row < 0) continue;
        size_t u = old[t].h & (cap - 1);
        while (tab[u].row >= 0)
          u = (u + 1) & (cap - 1);
        tab[u] = old[t];
      }
      free(old);
    }
  }
  free(tab);
  return ncodes;
}

/* Combined dictionary code of two columns per row: code(a) * codes(b) + code(b), below n^2
 * (no overflow: a rank holds fewer than 2^31 rows). */
static void encode_pair(const column *a, const column *b, int64_t n, int64_t *code) {
  int64_t *cb = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *cb);
  encode_column(a, n, code);
  int64_t nb = encode_column(b, n, cb);
  for (int64_t i = 0; i < n; i++)
    code[i] = code[i] * nb + cb[i];
  free(cb);
}

/* (results code, bio code) -> group index in g: open addressing on the pair of codes. */
typedef struct gslot {
  int64_t r, b, group;
} gslot;

typedef struct pairmap {
  gslot *slot;
  size_t cap, used;
} pairmap;

static size_t gslot_hash(int64_t r, int64_t b) {
  return (size_t)hash_i64(r ^ (int64_t)hash_i64(b));
}

static void pairmap_init(pairmap *m) {
  m->cap = 1024;
  m->used = 0;
  m->slot = xmalloc(m->cap * sizeof *m->slot);
  for (size_t s = 0; s < m->cap; s++)
    m->slot[s].r = -1;
}

/* The slot of (r, b): its own, or the empty one where it belongs. */
static gslot *pairmap_find(const pairmap *m, int64_t r, int64_t b) {
  size_t u = gslot_hash(r, b) & (m->cap - 1);
  while (m->slot[u].r >= 0 && (m->slot[u].r != r || m->slot[u].b != b))
    u = (u + 1) & (m->cap - 1);
  return &m->slot[u];
}

/* Fills the empty slot e with (r, b) -> group; grows the table when half full. */
static void pairmap_put(pairmap *m, gslot *e, int64_t r, int64_t b, int64_t group) {
  *e = (gslot){r, b, group};
  if (++m->used * 2 <= m->cap) return;
  gslot *old = m->slot;
  size_t ocap = m->cap;
  m->cap *= 2;
  m->slot = xmalloc(m->cap * sizeof *m->slot);
  for (size_t t = 0; t < m->cap; t++)
    m->slot[t].r = -1;
  for (size_t t = 0; t < ocap; t++)
    if (old[t].r >= 0) *pairmap_find(m, old[t].r, old[t].b) = old[t];
  free(old);
}

/* What the join needs of a bio row and of a results row, gathered partition by partition. */
typedef struct brow {
  int64_t id, code, row;
  double h, w;
  bool hv, wv;
} brow;

typedef struct rrow {
  int64_t id, code, row;
} rrow;

/* The hot part of a group's aggregate, compact; the xsums are touched once, at the end. */
typedef struct fast_agg {
  xsum_fast h, w;
  int64_t n, nh, nw;
} fast_agg;

/* Partition of an athlete_id: the top `bits` bits of its hash. */
static inline size_t id_part(int64_t id, int bits) {
  return bits ? (size_t)(hash_i64(id) >> (64 - bits)) : 0;
}

/* Counting sort of ids into 2^bits partitions: start[p] .. start[p+1] (start has 2^bits + 1
 * entries) and pos[i], row i's place. */
static void partition_ids(const column *ids, int64_t n, int bits, int64_t *start, int64_t *pos) {
  size_t np = (size_t)1 << bits;
  memset(start, 0, (np + 1) * sizeof *start);
  for (int64_t i = 0; i < n; i++)
    start[id_part(col_i64(ids, i), bits) + 1]++;
  for (size_t p = 0; p < np; p++)
    start[p + 1] += start[p];
  int64_t *fill = xmalloc(np * sizeof *fill);
  memcpy(fill, start, np * sizeof *fill);
  for (int64_t i = 0; i < n; i++)
    pos[i] = fill[id_part(col_i64(ids, i), bits)]++;
  free(fill);
}

/* Inner-joins results R (athlete_id, sport, medal) with bio B (athlete_id, sex, country_noc,
 * height, weight), both already co-located, aggregating into g. Counts joined pairs and results
 * rows without a bio row. A radix join: both sides are split by the id's hash into partitions
 * of about 2,000 bio rows, so each partition's hash table and rows stay in cache. The group of
 * a joined pair is found by integer codes (results half, bio half); only a group's first pair
 * goes through g's string keys. */
static void join_aggregate(const batch *R, const batch *B, groups *g, int64_t *joined,
                           int64_t *orphans) {
  int64_t nb = B->nrows, nr = R->nrows;
  int bits = 0;
  while (bits < 16 && ((int64_t)2048 << bits) < nb)
    bits++;
  size_t np = (size_t)1 << bits;
  int64_t *code = xmalloc((size_t)((nb > nr ? nb : nr) + 1) * sizeof *code);
  int64_t *pos = xmalloc((size_t)((nb > nr ? nb : nr) + 1) * sizeof *pos);
  int64_t *bstart = xmalloc((np + 1) * sizeof *bstart),
          *rstart = xmalloc((np + 1) * sizeof *rstart);
  brow *bs = xmalloc((size_t)(nb + 1) * sizeof *bs);
  rrow *rs = xmalloc((size_t)(nr + 1) * sizeof *rs);
  const double *hv = B->cols[3].values, *wv = B->cols[4].values;
  encode_pair(&B->cols[1], &B->cols[2], nb, code);
  partition_ids(&B->cols[0], nb, bits, bstart, pos);
  for (int64_t j = 0; j < nb; j++)
    bs[pos[j]] =
        (brow){col_i64(&B->cols[0], j),     code[j], j, hv[j], wv[j], !col_is_null(&B->cols[3], j),
               !col_is_null(&B->cols[4], j)};
  encode_pair(&R->cols[1], &R->cols[2], nr, code);
  partition_ids(&R->cols[0], nr, bits, rstart, pos);
  for (int64_t i = 0; i < nr; i++)
    rs[pos[i]] = (rrow){col_i64(&R->cols[0], i), code[i], i};
  free(code);
  free(pos);

  int64_t most = 0; /* bio rows of the largest partition */
  for (size_t p = 0; p < np; p++)
    if (bstart[p + 1] - bstart[p] > most) most = bstart[p + 1] - bstart[p];
  size_t cap = 16;
  while (cap < (size_t)most * 2)
    cap *= 2;
  /* Each slot holds the id beside its chain head (an index into bs), one cache line a probe. */
  typedef struct slot {
    int64_t id, head;
  } slot;
  slot *tab = xmalloc(cap * sizeof *tab);
  int64_t *next = xmalloc((size_t)(most + 1) * sizeof *next);
  pairmap pm;
  pairmap_init(&pm);
  fast_agg *fast = NULL;
  size_t fcap = 0;
  for (size_t p = 0; p < np; p++) {
    int64_t b0 = bstart[p], b1 = bstart[p + 1];
    for (size_t s = 0; s < cap; s++)
      tab[s].head = -1;
    for (int64_t j = b0; j < b1; j++) {
      size_t s = (hash_i64(bs[j].id) >> 7) & (cap - 1);
      while (tab[s].head >= 0 && tab[s].id != bs[j].id)
        s = (s + 1) & (cap - 1);
      next[j - b0] = tab[s].head;
      tab[s].id = bs[j].id;
      tab[s].head = j;
    }
    for (int64_t i = rstart[p]; i < rstart[p + 1]; i++) {
      const rrow *r = &rs[i];
      size_t s = (hash_i64(r->id) >> 7) & (cap - 1);
      while (tab[s].head >= 0 && tab[s].id != r->id)
        s = (s + 1) & (cap - 1);
      if (tab[s].head < 0) {
        (*orphans)++;
        continue;
      }
      for (int64_t j = tab[s].head; j >= 0; j = next[j - b0]) {
        const brow *b = &bs[j];
        gslot *e = pairmap_find(&pm, r->code, b->code);
        int64_t gi = e->group;
        if (e->r < 0) {
          cell k[4] = {get_cell(&R->cols[1], r->row), get_cell(&R->cols[2], r->row),
                       get_cell(&B->cols[1], b->row), get_cell(&B->cols[2], b->row)};
          uint64_t h = combine(pair_hash(k[0], k[1], 1), pair_hash(k[2], k[3], 3));
          const agg *a = groups_get(g, k, h); /* may move g->aggs: read it after */
          gi = a - g->aggs;
          pairmap_put(&pm, e, r->code, b->code, gi);
        }
        if ((size_t)gi >= fcap) {
          size_t old = fcap;
          grow_array((void **)&fast, &fcap, (size_t)gi + 1, sizeof *fast);
          memset(fast + old, 0, (fcap - old) * sizeof *fast);
        }
        fast_agg *f = &fast[gi];
        f->n++;
        (*joined)++;
        if (b->hv) xsum_add_fast(&g->aggs[gi].h, &f->h, b->h), f->nh++;
        if (b->wv) xsum_add_fast(&g->aggs[gi].w, &f->w, b->w), f->nw++;
      }
    }
  }
  for (size_t gi = 0; gi < fcap && gi < (size_t)g->keys->nrows; gi++) {
    agg *a = &g->aggs[gi];
    xsum_fold(&a->h, &fast[gi].h);
    xsum_fold(&a->w, &fast[gi].w);
    a->n += fast[gi].n;
    a->nh += fast[gi].nh;
    a->nw += fast[gi].nw;
  }
  free(fast);
  free(pm.slot);
  free(tab);
  free(next);
  free(bstart);
  free(rstart);
  free(bs);
  free(rs);
}

/* ---- merge onto rank 0 ---------------------------------------------------------------------- */

static const field_def PARTIAL_FIELDS[5] = {
    {"sport", COL_STRING, true},       {"medal", COL_STRING, true}, {"sex", COL_STRING, true},
    {"country_noc", COL_STRING, true}, {"agg", COL_STRING, false},
};

/* Key hash of group i of a 4-key-column batch, the same as join_aggregate computes. */
static uint64_t key_hash(const batch *k, int64_t i) {
  uint64_t rh = pair_hash(get_cell(&k->cols[0], i), get_cell(&k->cols[1], i), 1);
  return combine(rh, pair_hash(get_cell(&k->cols[2], i), get_cell(&k->cols[3], i), 3));
}

/* Sends every partial aggregate of g to rank 0 and merges them there into *merged (rank 0
 * only; other ranks get an empty table). */
static int merge_to_root(MPI_Comm comm, const groups *g, size_t round_bytes, groups *merged,
                         ath_error *err) {
  batch *part = batch_new(PARTIAL_FIELDS, 5), *got = NULL;
  int64_t n = g->keys->nrows;
  for (int64_t i = 0; i < n; i++) {
    for (int c = 0; c < 4; c++)
      col_append_from(&part->cols[c], &g->keys->cols[c], i);
    col_append_str(&part->cols[4], &g->aggs[i], sizeof g->aggs[i]);
    part->nrows++;
  }
  int *dest = xcalloc((size_t)(n > 0 ? n : 1), sizeof *dest);
  int rc = shuffle_batch(comm, part, dest, round_bytes, &got, err);
  free(dest);
  batch_free(part);
  if (rc != ATH_OK) return rc;
  for (int64_t i = 0; i < got->nrows; i++) {
    cell k[4];
    for (int c = 0; c < 4; c++)
      k[c] = get_cell(&got->cols[c], i);
    agg in, *a = groups_get(merged, k, key_hash(got, i));
    size_t len;
    memcpy(&in, col_str(&got->cols[4], i, &len), sizeof in);
    xsum_merge(&a->h, &in.h);
    xsum_merge(&a->w, &in.w);
    a->nh += in.nh;
    a->nw += in.nw;
    a->n += in.n;
  }
  batch_free(got);
  return ATH_OK;
}

/* ---- the sorted gold batch ------------------------------------------------------------------ */

typedef struct sort_row {
  cell k[4];
  int64_t g;
} sort_row;

/* Byte order, nulls first. */
static int cell_cmp(cell a, cell b) {
  if (a.null || b.null) return (int)b.null - (int)a.null;
  size_t n = a.len < b.len ? a.len : b.len;
  int c = n ? memcmp(a.p, b.p, n) : 0;
  if (c) return c;
  return (a.len > b.len) - (a.len < b.len);
}

static int sort_row_cmp(const void *x, const void *y) {
  const sort_row *a = x, *b = y;
  for (int c = 0; c < 4; c++) {
    int r = cell_cmp(a->k[c], b->k[c]);
    if (r) return r;
  }
  return 0;
}

static void append_avg(column *c, const xsum *s, int64_t count) {
  if (count == 0)
    col_append_null(c);
  else
    col_append_f64(c, xsum_round(s) / (double)count);
}

/* Builds the gold batch from the merged groups, sorted by the four keys. */
static batch *build_gold(const groups *g, int64_t timestamp_us) {
  int64_t n = g->keys->nrows;
  sort_row *rows = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *rows);
  for (int64_t i = 0; i < n; i++) {
    for (int c = 0; c < 4; c++)
      rows[i].k[c] = get_cell(&g->keys->cols[c], i);
    rows[i].g = i;
  }
  qsort(rows, (size_t)n, sizeof *rows, sort_row_cmp);
  batch *out = batch_new(GOLD_FIELDS, 8);
  batch_reserve(out, n, 0);
  for (int64_t r = 0; r < n; r++) {
    int64_t i = rows[r].g;
    const agg *a = &g->aggs[i];
    for (int c = 0; c < 4; c++)
      col_append_from(&out->cols[c], &g->keys->cols[c], i);
    append_avg(&out->cols[4], &a->h, a->nh);
    append_avg(&out->cols[5], &a->w, a->nw);
    col_append_i64(&out->cols[6], a->n);
    col_append_i64(&out->cols[7], timestamp_us);
    out->nrows++;
  }
  free(rows);
  return out;
}

/* ---- the collective entry point ------------------------------------------------------------ */

static const field_def RESULT_COLS[3] = {
    {"athlete_id", COL_INT64, true}, {"sport", COL_STRING, true}, {"medal", COL_STRING, true}};
static const field_def BIO_COLS[5] = {{"athlete_id", COL_INT64, true},
                                      {"sex", COL_STRING, true},
                                      {"country_noc", COL_STRING, true},
                                      {"height", COL_DOUBLE, true},
                                      {"weight", COL_DOUBLE, true}};

int gold_compute(MPI_Comm comm, const batch *results, const batch *bio, int64_t timestamp_us,
                 size_t round_bytes, batch **gold, gold_stats *stats, ath_error *err) {
  batch *R = NULL, *B = NULL;
  groups local = {0}, merged = {0};
  int64_t orphans = 0, bio_null = 0, joined = 0, cnt[2] = {0, 0}, all[2] = {0, 0};
  int rank = 0, rc;
  MPI_Comm_rank(comm, &rank);
  *gold = NULL;
  memset(stats, 0, sizeof *stats);
  groups_init(&local);
  groups_init(&merged);
  rc = project(results, "results", RESULT_COLS, 3, &R, &orphans, err);
  if (rc == ATH_OK) rc = project(bio, "bio", BIO_COLS, 5, &B, &bio_null, err);
  bool rview = R && orphans == 0, bview = B && bio_null == 0;
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  rc = shuffle_by_id(comm, &R, &rview, round_bytes, err);
  if (rc == ATH_OK) rc = shuffle_by_id(comm, &B, &bview, round_bytes, err);
  if (rc != ATH_OK) goto out;
  join_aggregate(R, B, &local, &joined, &orphans);
  proj_free(R, rview);
  proj_free(B, bview);
  R = B = NULL;
  rc = merge_to_root(comm, &local, round_bytes, &merged, err);
  if (rc != ATH_OK) goto out;
  cnt[0] = joined;
  cnt[1] = orphans;
  rc = ATH_MPI(MPI_Allreduce(cnt, all, 2, MPI_INT64_T, MPI_SUM, comm), err);
  stats->joined_rows = all[0];
  stats->results_without_bio = all[1];
  stats->groups = merged.keys->nrows;
  if (rc == ATH_OK) rc = ATH_MPI(MPI_Bcast(&stats->groups, 1, MPI_INT64_T, 0, comm), err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  *gold = rank == 0 ? build_gold(&merged, timestamp_us) : batch_new(GOLD_FIELDS, 8);
out:
  proj_free(R, rview);
  proj_free(B, bview);
  groups_free(&local);
  groups_free(&merged);
  return rc;
}
