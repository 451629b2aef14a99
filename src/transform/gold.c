#include "transform/gold.h"
#include "core/agree.h"
#include "core/bytes.h"

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

/* What the join needs of a bio row and of a results row. */
typedef struct brow {
  int64_t id, code, row;
  double h, w;
  bool hv, wv;
} brow;

typedef struct rrow {
  int64_t id, code, row;
} rrow;

/* The hot part of a group's aggregate, compact; the xsums are touched once per added batch. */
typedef struct fast_agg {
  xsum_fast h, w;
  int64_t n, nh, nw;
} fast_agg;

/* Partition of an athlete_id: the top `bits` bits of its hash. */
static inline size_t id_part(int64_t id, int bits) {
  return bits ? (size_t)(hash_i64(id) >> (64 - bits)) : 0;
}

/* Counting sort of ids into 2^bits partitions: pos[i] is id i's place in partition order. */
static void partition_ids(const int64_t *ids, int64_t n, int bits, int64_t *pos) {
  size_t np = (size_t)1 << bits;
  int64_t *start = xcalloc(np + 1, sizeof *start);
  for (int64_t i = 0; i < n; i++)
    start[id_part(ids[i], bits) + 1]++;
  for (size_t p = 0; p < np; p++)
    start[p + 1] += start[p];
  for (int64_t i = 0; i < n; i++)
    pos[i] = start[id_part(ids[i], bits)]++;
  free(start);
}

/* A slot of the bio index: an athlete_id beside the head of its chain of bio rows. */
typedef struct idslot {
  int64_t id, head;
} idslot;

struct gold_agg {
  groups g;
  uint8_t *changed; /* per group: 1 when it changed since gold_agg_clear_changed */
  size_t changed_cap;
  int64_t nchanged;
  /* The resident bio side: its rows in the index's order, and an open-addressing index from
   * athlete_id to its chain of rows. A slot is the top bits of the id's hash, so the slots of
   * ids of one partition (the top `bits` bits) lie together: results probed partition by
   * partition touch one cache-sized region at a time (a radix join whose partitions are
   * built once). */
  const batch *bio;
  int bio_sex, bio_noc;
  brow *bs;
  int64_t nb;
  idslot *tab;
  int tab_bits;
  int64_t *next;
  int bits;
};

/* The index of column f in b, or -1 (message in err) when it is missing or of another type. */
static int find_typed(const batch *b, const char *what, const field_def *f, ath_error *err) {
  int i = batch_find(b, f->name);
  if (i < 0) {
    ath_fail(err, ATH_ERR, "gold: %s has no column %s", what, f->name);
    return -1;
  }
  if (b->cols[i].type != f->type) {
    ath_fail(err, ATH_ERR, "gold: %s.%s is %s, expected %s", what, f->name,
             col_type_name(b->cols[i].type), col_type_name(f->type));
    return -1;
  }
  return i;
}

static const field_def RESULT_COLS[3] = {
    {"athlete_id", COL_INT64, true}, {"sport", COL_STRING, true}, {"medal", COL_STRING, true}};
static const field_def BIO_COLS[5] = {{"athlete_id", COL_INT64, true},
                                      {"sex", COL_STRING, true},
                                      {"country_noc", COL_STRING, true},
                                      {"height", COL_DOUBLE, true},
                                      {"weight", COL_DOUBLE, true}};

static size_t id_slot(const gold_agg *a, int64_t id) {
  return (size_t)(hash_i64(id) >> (64 - a->tab_bits));
}

/* Builds the bio index of a (see struct gold_agg). */
static int index_bio(gold_agg *a, const batch *B, ath_error *err) {
  int ix[5];
  for (int k = 0; k < 5; k++)
    if ((ix[k] = find_typed(B, "bio", &BIO_COLS[k], err)) < 0) return ATH_ERR;
  a->bio = B;
  a->bio_sex = ix[1], a->bio_noc = ix[2];
  int64_t n = B->nrows, nb = 0;
  const column *idc = &B->cols[ix[0]], *hc = &B->cols[ix[3]], *wc = &B->cols[ix[4]];
  int64_t *ids = xmalloc((size_t)(n + 1) * sizeof *ids), *rows = xmalloc((size_t)(n + 1) * 8);
  for (int64_t j = 0; j < n; j++)
    if (!col_is_null(idc, j)) ids[nb] = col_i64(idc, j), rows[nb++] = j;
  while (a->bits < 16 && ((int64_t)2048 << a->bits) < nb)
    a->bits++;
  a->tab_bits = 4;
  while (((int64_t)1 << a->tab_bits) < 2 * nb)
    a->tab_bits++;
  int64_t *code = xmalloc((size_t)(n + 1) * sizeof *code), *pos = xmalloc((size_t)(nb + 1) * 8);
  encode_pair(&B->cols[ix[1]], &B->cols[ix[2]], n, code);
  partition_ids(ids, nb, a->bits, pos);
  a->nb = nb;
  a->bs = xmalloc((size_t)(nb + 1) * sizeof *a->bs);
  const double *hv = hc->values, *wv = wc->values;
  for (int64_t k = 0; k < nb; k++) {
    int64_t j = rows[k];
    a->bs[pos[k]] =
        (brow){ids[k], code[j], j, hv[j], wv[j], !col_is_null(hc, j), !col_is_null(wc, j)};
  }
  free(ids);
  free(rows);
  free(code);
  free(pos);
  size_t cap = (size_t)1 << a->tab_bits;
  a->tab = xmalloc(cap * sizeof *a->tab);
  for (size_t s = 0; s < cap; s++)
    a->tab[s].head = -1;
  a->next = xmalloc((size_t)(nb + 1) * sizeof *a->next);
  for (int64_t j = 0; j < nb; j++) {
    size_t s = id_slot(a, a->bs[j].id);
    while (a->tab[s].head >= 0 && a->tab[s].id != a->bs[j].id)
      s = (s + 1) & (cap - 1);
    a->next[j] = a->tab[s].head;
    a->tab[s].id = a->bs[j].id;
    a->tab[s].head = j;
  }
  return ATH_OK;
}

int gold_agg_new(const batch *bio, gold_agg **out, ath_error *err) {
  gold_agg *a = xcalloc(1, sizeof *a);
  groups_init(&a->g);
  *out = NULL;
  if (bio && index_bio(a, bio, err) != ATH_OK) {
    gold_agg_free(a);
    return ATH_ERR;
  }
  *out = a;
  return ATH_OK;
}

void gold_agg_free(gold_agg *a) {
  if (!a) return;
  groups_free(&a->g);
  free(a->changed);
  free(a->bs);
  free(a->tab);
  free(a->next);
  free(a);
}

/* Frees the bio index of a (no gold_agg_add after it); its groups stay. */
static void drop_bio(gold_agg *a) {
  free(a->bs);
  free(a->tab);
  free(a->next);
  a->bs = NULL, a->tab = NULL, a->next = NULL, a->bio = NULL;
}

int64_t gold_agg_groups(const gold_agg *a) {
  return a->g.keys->nrows;
}

int64_t gold_agg_changed(const gold_agg *a) {
  return a->nchanged;
}

void gold_agg_clear_changed(gold_agg *a) {
  if (a->changed) memset(a->changed, 0, a->changed_cap);
  a->nchanged = 0;
}

static void mark_changed(gold_agg *a, int64_t gi) {
  if ((size_t)gi >= a->changed_cap) {
    size_t old = a->changed_cap;
    grow_array((void **)&a->changed, &a->changed_cap, (size_t)gi + 1, 1);
    memset(a->changed + old, 0, a->changed_cap - old);
  }
  if (!a->changed[gi]) a->changed[gi] = 1, a->nchanged++;
}

/* Inner-joins the results rows (athlete_id, sport, medal) with the resident bio rows. The
 * results are visited in the index's partition order; a joined pair's group is found by
 * integer codes (results half: this batch's dictionary of sport and medal; bio half: the
 * index's), and only a group's first pair in a batch goes through the groups' string keys. */
int gold_agg_add(gold_agg *a, const batch *R, int64_t *joined, int64_t *orphans, ath_error *err) {
  int ix[3];
  for (int k = 0; k < 3; k++)
    if ((ix[k] = find_typed(R, "results", &RESULT_COLS[k], err)) < 0) return ATH_ERR;
  if (!a->tab) return ath_fail(err, ATH_ERR, "gold: no bio table to join with");
  const column *idc = &R->cols[ix[0]], *sport = &R->cols[ix[1]], *medal = &R->cols[ix[2]];
  const batch *B = a->bio;
  int64_t n = R->nrows, nr = 0;
  int64_t *code = xmalloc((size_t)(n + 1) * sizeof *code), *ids = xmalloc((size_t)(n + 1) * 8);
  int64_t *rows = xmalloc((size_t)(n + 1) * 8), *pos = xmalloc((size_t)(n + 1) * 8);
  encode_pair(sport, medal, n, code);
  for (int64_t i = 0; i < n; i++) {
    if (col_is_null(idc, i)) {
      (*orphans)++;
      continue;
    }
    ids[nr] = col_i64(idc, i), rows[nr++] = i;
  }
  partition_ids(ids, nr, a->bits, pos);
  rrow *rs = xmalloc((size_t)(nr + 1) * sizeof *rs);
  for (int64_t k = 0; k < nr; k++)
    rs[pos[k]] = (rrow){ids[k], code[rows[k]], rows[k]};
  free(code);
  free(ids);
  free(rows);
  free(pos);

  size_t cap = (size_t)1 << a->tab_bits;
  pairmap pm;
  pairmap_init(&pm);
  fast_agg *fast = NULL;
  size_t fcap = 0;
  groups *g = &a->g;
  for (int64_t i = 0; i < nr; i++) {
    const rrow *r = &rs[i];
    size_t s = id_slot(a, r->id);
    while (a->tab[s].head >= 0 && a->tab[s].id != r->id)
      s = (s + 1) & (cap - 1);
    if (a->tab[s].head < 0) {
      (*orphans)++;
      continue;
    }
    for (int64_t j = a->tab[s].head; j >= 0; j = a->next[j]) {
      const brow *b = &a->bs[j];
      gslot *e = pairmap_find(&pm, r->code, b->code);
      int64_t gi = e->group;
      if (e->r < 0) {
        cell k[4] = {get_cell(sport, r->row), get_cell(medal, r->row),
                     get_cell(&B->cols[a->bio_sex], b->row),
                     get_cell(&B->cols[a->bio_noc], b->row)};
        uint64_t h = combine(pair_hash(k[0], k[1], 1), pair_hash(k[2], k[3], 3));
        const agg *ag = groups_get(g, k, h); /* may move g->aggs: read it after */
        gi = ag - g->aggs;
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
  for (size_t gi = 0; gi < fcap && gi < (size_t)g->keys->nrows; gi++) {
    if (!fast[gi].n) continue;
    agg *ag = &g->aggs[gi];
    xsum_fold(&ag->h, &fast[gi].h);
    xsum_fold(&ag->w, &fast[gi].w);
    ag->n += fast[gi].n;
    ag->nh += fast[gi].nh;
    ag->nw += fast[gi].nw;
    mark_changed(a, (int64_t)gi);
  }
  free(fast);
  free(pm.slot);
  free(rs);
  return ATH_OK;
}

/* ---- portable group records ----------------------------------------------------------------
 * One group: its four keys (u32 little-endian length, 0xffffffff for null, then the bytes), then
 * for height and weight the exact sum (u8 limb count k, k limbs as u64 little-endian: the limbs
 * above are the sign extension of the last; the non-finite part as the u64 bits of a double),
 * then nh, nw and n as i64 little-endian. The same on any host and for any build. */

static void put_xsum(le_buf *b, const xsum *s) {
  uint64_t sign = s->limb[XSUM_LIMBS - 1] >> 63 ? ~0ull : 0;
  int k = XSUM_LIMBS;
  while (k > 1 && s->limb[k - 1] == sign && (s->limb[k - 2] >> 63) == (sign & 1))
    k--;
  le_put(b, (uint64_t)k, 1);
  for (int i = 0; i < k; i++)
    le_put(b, s->limb[i], 8);
  uint64_t sp;
  memcpy(&sp, &s->special, 8);
  le_put(b, sp, 8);
}

static void put_group(le_buf *b, const groups *g, int64_t i) {
  for (int c = 0; c < 4; c++) {
    cell k = get_cell(&g->keys->cols[c], i);
    le_put(b, k.null ? 0xffffffffu : (uint64_t)k.len, 4);
    if (!k.null) le_put_bytes(b, k.p, k.len);
  }
  const agg *a = &g->aggs[i];
  put_xsum(b, &a->h);
  put_xsum(b, &a->w);
  le_put(b, (uint64_t)a->nh, 8);
  le_put(b, (uint64_t)a->nw, 8);
  le_put(b, (uint64_t)a->n, 8);
}

static void get_xsum(le_reader *r, xsum *s) {
  int k = (int)le_get(r, 1);
  if (k < 1 || k > XSUM_LIMBS) {
    r->bad = true;
    return;
  }
  for (int i = 0; i < k; i++)
    s->limb[i] = le_get(r, 8);
  uint64_t ext = s->limb[k - 1] >> 63 ? ~0ull : 0;
  for (int i = k; i < XSUM_LIMBS; i++)
    s->limb[i] = ext;
  uint64_t sp = le_get(r, 8);
  memcpy(&s->special, &sp, 8);
}

/* Reads one record: its keys (pointing into r's bytes) and aggregate. */
static bool get_group(le_reader *r, cell k[4], agg *a) {
  for (int c = 0; c < 4; c++) {
    uint32_t len = (uint32_t)le_get(r, 4);
    k[c] = (cell){NULL, 0, len == 0xffffffffu};
    if (!k[c].null) k[c].p = le_get_bytes(r, len), k[c].len = len;
  }
  get_xsum(r, &a->h);
  get_xsum(r, &a->w);
  a->nh = (int64_t)le_get(r, 8);
  a->nw = (int64_t)le_get(r, 8);
  a->n = (int64_t)le_get(r, 8);
  return !r->bad && a->nh >= 0 && a->nw >= 0 && a->n >= 0;
}

static uint64_t keys_hash(const cell k[4]) {
  return combine(pair_hash(k[0], k[1], 1), pair_hash(k[2], k[3], 3));
}

void gold_agg_save(const gold_agg *a, bool changed_only, uint8_t **buf, size_t *len) {
  le_buf b = {*buf, *len, *len};
  for (int64_t i = 0; i < a->g.keys->nrows; i++)
    if (!changed_only || ((size_t)i < a->changed_cap && a->changed[i])) put_group(&b, &a->g, i);
  *buf = b.p;
  *len = b.len;
}

int gold_agg_load(gold_agg *a, const uint8_t *p, size_t n, bool add, ath_error *err) {
  le_reader r = {p, n, 0, false};
  while (r.at < n) {
    cell k[4];
    agg in;
    if (!get_group(&r, k, &in))
      return ath_fail(err, ATH_ERR, "gold: damaged group record at byte %zu of %zu", r.at, n);
    agg *g = groups_get(&a->g, k, keys_hash(k));
    mark_changed(a, g - a->g.aggs);
    if (!add) {
      *g = in;
      continue;
    }
    xsum_merge(&g->h, &in.h);
    xsum_merge(&g->w, &in.w);
    g->nh += in.nh;
    g->nw += in.nw;
    g->n += in.n;
  }
  return ATH_OK;
}

/* ---- merge onto rank 0 ---------------------------------------------------------------------- */

static const field_def PARTIAL_FIELDS[1] = {{"group", COL_STRING, false}};

/* Adds every other rank's partial aggregates into rank 0's own (a): one portable record a row,
 * sent in bounded rounds; rank 0's records stay where they are. */
static int merge_to_root(MPI_Comm comm, gold_agg *a, size_t round_bytes, ath_error *err) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  batch *part = batch_new(PARTIAL_FIELDS, 1), *got = NULL;
  int64_t n = rank == 0 ? 0 : a->g.keys->nrows;
  le_buf rec = {0};
  for (int64_t i = 0; i < n; i++) {
    rec.len = 0;
    put_group(&rec, &a->g, i);
    col_append_str(&part->cols[0], rec.p, rec.len);
    part->nrows++;
  }
  free(rec.p);
  int *dest = xcalloc((size_t)(n > 0 ? n : 1), sizeof *dest);
  int rc = shuffle_batch(comm, part, dest, round_bytes, &got, err);
  free(dest);
  batch_free(part);
  for (int64_t i = 0; rc == ATH_OK && rank == 0 && i < got->nrows; i++) {
    size_t len;
    const uint8_t *p = col_str(&got->cols[0], i, &len);
    rc = gold_agg_load(a, p, len, true, err);
  }
  batch_free(got);
  return rc;
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

batch *gold_agg_rows(const gold_agg *a, bool changed_only, int64_t timestamp_us) {
  const groups *g = &a->g;
  int64_t n = g->keys->nrows, m = 0;
  sort_row *rows = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *rows);
  for (int64_t i = 0; i < n; i++) {
    if (changed_only && ((size_t)i >= a->changed_cap || !a->changed[i])) continue;
    for (int c = 0; c < 4; c++)
      rows[m].k[c] = get_cell(&g->keys->cols[c], i);
    rows[m++].g = i;
  }
  qsort(rows, (size_t)m, sizeof *rows, sort_row_cmp);
  batch *out = batch_new(GOLD_FIELDS, 8);
  batch_reserve(out, m, 0);
  for (int64_t r = 0; r < m; r++) {
    int64_t i = rows[r].g;
    const agg *ag = &g->aggs[i];
    for (int c = 0; c < 4; c++)
      col_append_from(&out->cols[c], &g->keys->cols[c], i);
    append_avg(&out->cols[4], &ag->h, ag->nh);
    append_avg(&out->cols[5], &ag->w, ag->nw);
    col_append_i64(&out->cols[6], ag->n);
    col_append_i64(&out->cols[7], timestamp_us);
    out->nrows++;
  }
  free(rows);
  return out;
}

/* ---- the collective entry point ------------------------------------------------------------ */

int gold_compute(MPI_Comm comm, const batch *results, const batch *bio, int64_t timestamp_us,
                 size_t round_bytes, batch **gold, gold_stats *stats, ath_error *err) {
  batch *R = NULL, *B = NULL;
  gold_agg *local = NULL;
  int64_t orphans = 0, bio_null = 0, joined = 0, cnt[2] = {0, 0}, all[2] = {0, 0};
  int rank = 0, rc;
  MPI_Comm_rank(comm, &rank);
  *gold = NULL;
  memset(stats, 0, sizeof *stats);
  rc = project(results, "results", RESULT_COLS, 3, &R, &orphans, err);
  if (rc == ATH_OK) rc = project(bio, "bio", BIO_COLS, 5, &B, &bio_null, err);
  bool rview = R && orphans == 0, bview = B && bio_null == 0;
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  rc = shuffle_by_id(comm, &R, &rview, round_bytes, err);
  if (rc == ATH_OK) rc = shuffle_by_id(comm, &B, &bview, round_bytes, err);
  if (rc != ATH_OK) goto out;
  rc = gold_agg_new(B, &local, err);
  if (rc == ATH_OK) rc = gold_agg_add(local, R, &joined, &orphans, err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  proj_free(R, rview);
  R = NULL;
  drop_bio(local);
  proj_free(B, bview);
  B = NULL;
  rc = merge_to_root(comm, local, round_bytes, err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  cnt[0] = joined;
  cnt[1] = orphans;
  rc = ATH_MPI(MPI_Allreduce(cnt, all, 2, MPI_INT64_T, MPI_SUM, comm), err);
  stats->joined_rows = all[0];
  stats->results_without_bio = all[1];
  stats->groups = gold_agg_groups(local);
  if (rc == ATH_OK) rc = ATH_MPI(MPI_Bcast(&stats->groups, 1, MPI_INT64_T, 0, comm), err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) goto out;
  *gold = rank == 0 ? gold_agg_rows(local, false, timestamp_us) : batch_new(GOLD_FIELDS, 8);
out:
  proj_free(R, rview);
  proj_free(B, bview);
  gold_agg_free(local);
  return rc;
}
