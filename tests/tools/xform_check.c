/* xform_check: runs silver_transform + silver_dedupe + gold_compute on a deterministic,
 * bronze-like global dataset split across the ranks at (seeded) random cut points, and dumps
 * the results so that runs with different rank counts and splits can be compared:
 *   OUT/silver_athlete_bio.txt, OUT/silver_athlete_event_results.txt   silver, one line per
 *        row (strings escaped, doubles as hex bits, null as \N), sorted: a set
 *   OUT/rejects_<table>.txt   the rejects, sorted
 *   OUT/gold.txt              gold in order, doubles as hex bits (byte-identical across runs)
 *   OUT/gold.tsv              gold as sport, medal, sex, country_noc, avg_height, avg_weight,
 *                             n_rows (%.17g, \N for null) for the DuckDB comparison
 *   OUT/stats.txt             global counts (rejects, dedupe drops, joined, orphans, groups)
 * With --csv DIR, rank 0 also writes the same global dataset as DIR/athlete_bio.csv and
 * DIR/athlete_event_results.csv (RFC 4180, minimal quoting, null as an empty field).
 * Usage: xform_check --rows N --seed S --split K --round-bytes B --out DIR [--csv DIR]
 * It also checks shuffle_batch itself: the arrival order (source rank, then source order) of
 * tagged rows, and, through the MPI profiling interface, that no MPI_Alltoallv sends or
 * receives more than --round-bytes on any rank.
 * With XFORM_TIMING set, rank 0 prints the wall time of silver + gold to stderr. */
#include "shuffle/shuffle.h"
#include "transform/gold.h"
#include "transform/silver.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the synthetic dataset: row i of each table is a pure function of (seed, i) ------------- */

static const char *const BIO_COLS[] = {"athlete_id",  "name",         "sex",     "born",
                                       "height",      "weight",       "country", "country_noc",
                                       "description", "special_notes"};
static const char *const RES_COLS[] = {"edition", "edition_id", "country_noc", "sport",
                                       "event",   "result_id",  "athlete",     "athlete_id",
                                       "pos",     "medal",      "isTeamSport"};
enum { BIO_NC = 10, RES_NC = 11 };

static uint64_t mix(uint64_t a, uint64_t b) {
  return hash_i64((int64_t)(a * 0x9e3779b97f4a7c15ull ^ b));
}

static const char *pick(const char *const *v, size_t n, uint64_t r) {
  return v[r % n];
}
#define PICK(v, r) pick(v, sizeof v / sizeof *v, r)

static const char *const NAMES[] = {"Károly Kárpáti",
                                    "Karoly Karpati",
                                    "Kroly Krpti",
                                    "Jean-Luc O'Neil",
                                    "Anna \"Flash\" Smith",
                                    "Lee, Min",
                                    "Zoë",
                                    "Ōta",
                                    NULL};
static const char *const SEXES[] = {"M", "F", "M", "F", NULL};
static const char *const NOCS[] = {"FRA", "USA", "HUN", "GBR", "JPN", "Fr\xc3\xa0", NULL, "GER"};
static const char *const HEIGHTS[] = {"183", "183.0",  " 170.5 ", "60-64", "1.8e2", "183cm",
                                      NULL,  "172.25", "0.1",     "165.",  ".5",    "190"};
static const char *const WEIGHTS[] = {"76.0",    "72, 74", "80",   NULL,  "55.5",
                                      "100.125", "0.3",    "1e15", "64.9"};
static const char *const SPORTS[] = {
    "Judo",   "Athletics", "Swimming", "Ski Jumping",
    "Fútbol", "Futbol",    NULL,       "4 × 100 metres Relay, Men"};
static const char *const MEDALS[] = {"Gold", "Silver", "Bronze", NULL, NULL, NULL};
static const char *const TEAM[] = {"True", "False", "TRUE", " false ", "yes", NULL};
static const char *const DESCS[] = {NULL, "Line one\nline two, with \"quotes\"", "plain", "ß"};

/* Athlete id text for id k, sometimes malformed (goes to rejects) or null. */
static void id_text(uint64_t r, int64_t k, char *buf, size_t n, const char **out) {
  switch (r % 40) {
  case 0:
    *out = NULL;
    return;
  case 1:
    *out = "abc";
    return;
  case 2:
    *out = "-3";
    return;
  case 3:
    snprintf(buf, n, " %" PRId64 " ", k);
    break;
  case 4:
    snprintf(buf, n, "00%" PRId64, k);
    break;
  default:
    snprintf(buf, n, "%" PRId64, k);
  }
  *out = buf;
}

typedef struct gen {
  uint64_t seed;
  int64_t nbio, nres;
} gen;

/* Fills cells[BIO_NC] for bio row i (buffers in bufs); every 9th row repeats the previous one
 * and every 7th repeats it up to cleaning, so duplicates straddle rank boundaries. */
static void bio_row(const gen *g, int64_t i, const char **cells, char bufs[][64]) {
  int64_t src = i % 9 == 8 ? i - 1 : i;
  uint64_t r = mix(g->seed, (uint64_t)src);
  id_text(r >> 3, src % (g->nbio * 9 / 10 + 1), bufs[0], 64, &cells[0]);
  cells[1] = PICK(NAMES, r >> 8);
  if (i % 7 == 6 && src == i) cells[1] = PICK(NAMES, mix(g->seed, (uint64_t)i - 1) >> 8);
  cells[2] = PICK(SEXES, r >> 12);
  snprintf(bufs[1], 64, "%d", 1880 + (int)((r >> 16) % 120));
  cells[3] = (r >> 20) % 5 ? bufs[1] : NULL;
  cells[4] = PICK(HEIGHTS, r >> 24);
  if ((r >> 28) % 3 == 0) {
    snprintf(bufs[2], 64, "%d.%d", 150 + (int)((r >> 32) % 60), (int)((r >> 40) % 10));
    cells[4] = bufs[2];
  }
  cells[5] = PICK(WEIGHTS, r >> 44);
  cells[6] = (r >> 48) % 2 ? " United States" : "Hungary";
  cells[7] = PICK(NOCS, r >> 50);
  cells[8] = PICK(DESCS, r >> 54);
  cells[9] = (r >> 58) % 4 ? NULL : "note, \"quoted\"";
}

static void res_row(const gen *g, int64_t i, const char **cells, char bufs[][64]) {
  int64_t src = i % 11 == 10 ? i - 1 : i;
  uint64_t r = mix(g->seed ^ 0x5bd1e995, (uint64_t)src);
  snprintf(bufs[0], 64, "%d Summer Olympics", 1896 + 4 * (int)(r % 30));
  cells[0] = bufs[0];
  snprintf(bufs[1], 64, "%d", (int)(r % 30));
  cells[1] = bufs[1];
  cells[2] = PICK(NOCS, r >> 6);
  cells[3] = PICK(SPORTS, r >> 10);
  cells[4] = (r >> 14) % 2 ? "100 metres, Men" : "Épée";
  snprintf(bufs[2], 64, "%" PRIu64, (r >> 16) % 100000);
  cells[5] = bufs[2];
  cells[6] = PICK(NAMES, r >> 20);
  /* ids reach a bit beyond the bio ids: those results have no bio row */
  id_text(r >> 24, (int64_t)((r >> 30) % (uint64_t)(g->nbio + g->nbio / 8 + 1)), bufs[3], 64,
          &cells[7]);
  cells[8] = (r >> 40) % 3 ? "=17" : "DNS";
  cells[9] = PICK(MEDALS, r >> 44);
  cells[10] = PICK(TEAM, r >> 50);
}

typedef void (*row_fn)(const gen *, int64_t, const char **, char[][64]);

/* This rank's bronze slice [lo, hi) of a table. */
static batch *make_bronze(const gen *g, row_fn fn, const char *const *names, int nc, int64_t lo,
                          int64_t hi) {
  field_def f[16];
  for (int k = 0; k < nc; k++)
    f[k] = (field_def){names[k], COL_STRING, true};
  batch *b = batch_new(f, nc);
  const char *cells[16];
  char bufs[4][64];
  for (int64_t i = lo; i < hi; i++) {
    fn(g, i, cells, bufs);
    for (int k = 0; k < nc; k++)
      cells[k] ? col_append_str(&b->cols[k], cells[k], strlen(cells[k]))
               : col_append_null(&b->cols[k]);
    b->nrows++;
  }
  return b;
}

/* Cut points of n rows over `size` ranks: even for split 0, else seeded random (some ranks may
 * get nothing). Writes [lo, hi) of `rank`. */
static void slice(int64_t n, int size, int rank, uint64_t split, int64_t *lo, int64_t *hi) {
  int64_t cut[65];
  cut[0] = 0;
  cut[size] = n;
  for (int r = 1; r < size; r++)
    cut[r] = split ? (int64_t)(mix(split, (uint64_t)r) % (uint64_t)(n + 1)) : n * r / size;
  for (int a = 1; a < size; a++) /* sort the inner cuts */
    for (int b = a + 1; b < size; b++)
      if (cut[b] < cut[a]) {
        int64_t t = cut[a];
        cut[a] = cut[b], cut[b] = t;
      }
  *lo = cut[rank];
  *hi = cut[rank + 1];
}

/* ---- dumps ---------------------------------------------------------------------------------- */

static void csv_field(FILE *f, const char *s) {
  if (!s) return;
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static int write_csv(const gen *g, const char *path, row_fn fn, const char *const *names, int nc,
                     int64_t n) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  for (int k = 0; k < nc; k++)
    fprintf(f, "%s%s", k ? "," : "", names[k]);
  fputc('\n', f);
  const char *cells[16];
  char bufs[4][64];
  for (int64_t i = 0; i < n; i++) {
    fn(g, i, cells, bufs);
    for (int k = 0; k < nc; k++) {
      if (k) fputc(',', f);
      csv_field(f, cells[k]);
    }
    fputc('\n', f);
  }
  return fclose(f);
}

typedef struct strbuf {
  char *p;
  size_t n, cap;
} strbuf;

static void sb_printf(strbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *s, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int w = vsnprintf(s->p ? s->p + s->n : NULL, s->p ? s->cap - s->n : 0, fmt, ap);
    va_end(ap);
    if (s->p && (size_t)w < s->cap - s->n) {
      s->n += (size_t)w;
      return;
    }
    grow_array((void **)&s->p, &s->cap, s->n + (size_t)w + 1, 1);
  }
}

/* Row i as one line: cells separated by tabs, strings with bytes outside 0x20..0x7e (and \)
 * as \xHH, doubles as their bits, null as \N. */
static void row_text(const batch *b, int64_t i, strbuf *s) {
  s->n = 0;
  for (int k = 0; k < b->ncols; k++) {
    const column *c = &b->cols[k];
    if (k) sb_printf(s, "\t");
    if (col_is_null(c, i)) {
      sb_printf(s, "\\N");
      continue;
    }
    switch (c->type) {
    case COL_STRING: {
      size_t len;
      const uint8_t *p = col_str(c, i, &len);
      sb_printf(s, "'");
      for (size_t j = 0; j < len; j++)
        p[j]<0x20 || p[j]> 0x7e || p[j] == '\\' ? sb_printf(s, "\\x%02x", p[j])
                                                : sb_printf(s, "%c", p[j]);
      sb_printf(s, "'");
      break;
    }
    case COL_DOUBLE: {
      double d = col_f64(c, i);
      uint64_t bits;
      memcpy(&bits, &d, 8);
      sb_printf(s, "%016" PRIx64 "(%.17g)", bits, d);
      break;
    }
    case COL_BOOL:
      sb_printf(s, "%s", col_bool(c, i) ? "true" : "false");
      break;
    default:
      sb_printf(s, "%" PRId64, col_i64(c, i));
    }
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes every row of b as text to path, sorted when `sorted`. */
static int dump(const batch *b, const char *path, bool sorted) {
  char **lines = xcalloc((size_t)b->nrows + 1, sizeof *lines);
  strbuf s = {0};
  for (int64_t i = 0; i < b->nrows; i++) {
    row_text(b, i, &s);
    lines[i] = xstrdup(s.p ? s.p : "");
  }
  if (sorted) qsort(lines, (size_t)b->nrows, sizeof *lines, cmp_str);
  FILE *f = fopen(path, "w");
  for (int64_t i = 0; f && i < b->nrows; i++)
    fprintf(f, "%s\n", lines[i]);
  for (int64_t i = 0; i < b->nrows; i++)
    free(lines[i]);
  free(lines);
  free(s.p);
  return f && fclose(f) == 0 ? 0 : -1;
}

/* Gathers b onto rank 0 through the shuffle (all rows to rank 0); returns the gathered batch on
 * rank 0, an empty one elsewhere; NULL on failure. */
static batch *gather(MPI_Comm comm, const batch *b, size_t round_bytes, ath_error *err) {
  int *dest = xcalloc((size_t)b->nrows + 1, sizeof *dest);
  batch *out = NULL;
  shuffle_batch(comm, b, dest, round_bytes, &out, err);
  free(dest);
  return out;
}

static int write_gold_tsv(const batch *g, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  for (int64_t i = 0; i < g->nrows; i++) {
    for (int k = 0; k < 7; k++) {
      const column *c = &g->cols[k];
      if (k) fputc('\t', f);
      if (col_is_null(c, i)) {
        fputs("\\N", f);
      } else if (c->type == COL_STRING) {
        size_t len;
        const uint8_t *p = col_str(c, i, &len);
        if (len) fwrite(p, 1, len, f);
      } else if (c->type == COL_DOUBLE) {
        fprintf(f, "%.17g", col_f64(c, i));
      } else {
        fprintf(f, "%" PRId64, col_i64(c, i));
      }
    }
    fputc('\n', f);
  }
  return fclose(f);
}

/* ---- the shuffle itself: bounded rounds and arrival order ------------------------------------ */

/* Every MPI_Alltoallv of this program passes through here (the MPI profiling interface), so
 * the round bound of shuffle_batch is checked on the real calls: bytes sent and received per
 * call must not exceed max(round_bytes, nranks). */
static size_t round_limit;
static int64_t alltoallv_calls, round_violations, round_max;

int MPI_Alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
                  MPI_Datatype sendtype, void *recvbuf, const int recvcounts[], const int rdispls[],
                  MPI_Datatype recvtype, MPI_Comm comm) {
  int n = 1;
  MPI_Comm_size(comm, &n);
  int64_t sent = 0, got = 0;
  for (int i = 0; i < n; i++)
    sent += sendcounts[i], got += recvcounts[i];
  int64_t most = sent > got ? sent : got;
  if (most > round_max) round_max = most;
  if (round_limit && (size_t)most > (round_limit > (size_t)n ? round_limit : (size_t)n))
    round_violations++;
  alltoallv_calls++;
  return PMPI_Alltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls,
                        recvtype, comm);
}

/* Shuffles rows tagged (source rank, index, padding of index-dependent length) to hashed
 * destinations and checks what arrives: only rows for this rank, ordered by source rank then
 * source index, padding intact, none lost (global count). Returns the number of problems. */
static int64_t shuffle_order_check(MPI_Comm comm, size_t round_bytes, ath_error *err) {
  static const field_def f[3] = {
      {"src", COL_INT64, false}, {"idx", COL_INT64, false}, {"pad", COL_STRING, true}};
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  batch *in = batch_new(f, 3), *out = NULL;
  int64_t n = 300 + 37 * rank, bad = 0;
  int *dest = xmalloc((size_t)n * sizeof *dest);
  char pad[200];
  memset(pad, 'p', sizeof pad);
  for (int64_t i = 0; i < n; i++) {
    col_append_i64(&in->cols[0], rank);
    col_append_i64(&in->cols[1], i);
    i % 5 ? col_append_str(&in->cols[2], pad, (size_t)(i % 200)) : col_append_null(&in->cols[2]);
    in->nrows++;
    dest[i] = (int)(hash_i64(rank * 100000 + i) % (uint64_t)size);
  }
  if (shuffle_batch(comm, in, dest, round_bytes, &out, err) != ATH_OK) bad++;
  for (int64_t i = 0; out && i < out->nrows; i++) {
    int64_t src = col_i64(&out->cols[0], i), idx = col_i64(&out->cols[1], i);
    size_t len = 0;
    if (!col_is_null(&out->cols[2], i)) col_str(&out->cols[2], i, &len);
    if (hash_i64(src * 100000 + idx) % (uint64_t)size != (uint64_t)rank) bad++;
    if (col_is_null(&out->cols[2], i) != (idx % 5 == 0) || (idx % 5 && len != (size_t)(idx % 200)))
      bad++;
    if (i > 0) {
      int64_t ps = col_i64(&out->cols[0], i - 1), pi = col_i64(&out->cols[1], i - 1);
      if (ps > src || (ps == src && pi >= idx)) bad++;
    }
  }
  int64_t rows[2] = {n, out ? out->nrows : 0}, tot[2];
  MPI_Allreduce(rows, tot, 2, MPI_INT64_T, MPI_SUM, comm);
  if (tot[0] != tot[1]) bad++;
  free(dest);
  batch_free(in);
  batch_free(out);
  return bad;
}

/* ---- main ------------------------------------------------------------------------------------ */

typedef struct args {
  int64_t rows;
  uint64_t seed, split;
  size_t round_bytes;
  const char *out, *csv;
} args;

static int parse_args(int argc, char **argv, args *a) {
  *a = (args){.rows = 1000, .seed = 1, .split = 0, .round_bytes = 1 << 20};
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--rows"))
      a->rows = strtoll(v, NULL, 10);
    else if (!strcmp(k, "--seed"))
      a->seed = strtoull(v, NULL, 10);
    else if (!strcmp(k, "--split"))
      a->split = strtoull(v, NULL, 10);
    else if (!strcmp(k, "--round-bytes"))
      a->round_bytes = strtoull(v, NULL, 10);
    else if (!strcmp(k, "--out"))
      a->out = v;
    else if (!strcmp(k, "--csv"))
      a->csv = v;
    else
      return -1;
  }
  return a->out ? 0 : -1;
}

typedef struct table_run {
  const char *name;
  batch *silver, *rejects;
  int64_t dropped;
} table_run;

/* Silver for one table on this rank: transform (consumes *bronze) + dedupe. */
static int run_silver(MPI_Comm comm, const args *a, batch **bronze, table_run *t, ath_error *err) {
  silver_options o;
  silver_options_default(&o);
  batch *typed = NULL;
  t->rejects = batch_new(SILVER_REJECT_FIELDS, 5);
  int rc = silver_transform(bronze, t->name, &o, &typed, t->rejects, err);
  if (rc == ATH_OK) rc = silver_dedupe(comm, typed, a->round_bytes, &t->dropped, err);
  if (rc == ATH_OK)
    t->silver = typed;
  else
    batch_free(typed);
  return rc;
}

/* Gathers and dumps the silver and rejects of one table on rank 0. */
static int dump_table(MPI_Comm comm, const args *a, const table_run *t, int rank, ath_error *err) {
  char path[4096];
  batch *s = gather(comm, t->silver, a->round_bytes, err), *r = NULL;
  if (s) r = gather(comm, t->rejects, a->round_bytes, err);
  int rc = s && r ? 0 : -1;
  if (rc == 0 && rank == 0) {
    snprintf(path, sizeof path, "%s/silver_%s.txt", a->out, t->name);
    rc |= dump(s, path, true);
    snprintf(path, sizeof path, "%s/rejects_%s.txt", a->out, t->name);
    rc |= dump(r, path, true);
  }
  batch_free(s);
  batch_free(r);
  return rc;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, rc = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  args a;
  ath_error err = {0};
  table_run bio = {.name = "athlete_bio"}, res = {.name = "athlete_event_results"};
  batch *gold = NULL;
  if (parse_args(argc, argv, &a) != 0 || size > 64) {
    if (rank == 0)
      fprintf(
          stderr,
          "usage: xform_check --out DIR [--rows N --seed S --split K --round-bytes B --csv DIR]\n");
    goto out;
  }
  round_limit = a.round_bytes;
  int64_t bad = shuffle_order_check(MPI_COMM_WORLD, a.round_bytes, &err);
  if (bad) {
    fprintf(stderr, "rank %d: shuffle order check: %" PRId64 " problems %s\n", rank, bad, err.msg);
    goto out;
  }
  gen g = {a.seed, a.rows / 2, a.rows};
  char path[4096];
  if (a.csv && rank == 0) {
    snprintf(path, sizeof path, "%s/athlete_bio.csv", a.csv);
    int w = write_csv(&g, path, bio_row, BIO_COLS, BIO_NC, g.nbio);
    snprintf(path, sizeof path, "%s/athlete_event_results.csv", a.csv);
    if (w || write_csv(&g, path, res_row, RES_COLS, RES_NC, g.nres)) goto out;
  }
  int64_t lo, hi;
  slice(g.nbio, size, rank, a.split, &lo, &hi);
  batch *bb = make_bronze(&g, bio_row, BIO_COLS, BIO_NC, lo, hi);
  slice(g.nres, size, rank, a.split * 31 + 7, &lo, &hi);
  batch *rb = make_bronze(&g, res_row, RES_COLS, RES_NC, lo, hi);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = ath_now(), c0 = (double)clock() / CLOCKS_PER_SEC;
  int st = run_silver(MPI_COMM_WORLD, &a, &bb, &bio, &err);
  if (st == ATH_OK) st = run_silver(MPI_COMM_WORLD, &a, &rb, &res, &err);
  batch_free(bb);
  batch_free(rb);
  gold_stats gs;
  if (st == ATH_OK)
    st = gold_compute(MPI_COMM_WORLD, res.silver, bio.silver, 1700000000000000, a.round_bytes,
                      &gold, &gs, &err);
  MPI_Barrier(MPI_COMM_WORLD);
  double t2 = ath_now();
  if (rank == 0 && getenv("XFORM_TIMING"))
    fprintf(stderr, "xform_check: silver + gold on %d ranks: %.3f s wall, %.3f s CPU on rank 0\n",
            size, t2 - t0, (double)clock() / CLOCKS_PER_SEC - c0);
  if (st != ATH_OK) {
    fprintf(stderr, "rank %d: %s\n", rank, err.msg);
    goto out;
  }
  if (dump_table(MPI_COMM_WORLD, &a, &bio, rank, &err) ||
      dump_table(MPI_COMM_WORLD, &a, &res, rank, &err))
    goto out;
  int64_t local[4] = {bio.rejects->nrows, res.rejects->nrows, bio.dropped, res.dropped}, tot[4];
  MPI_Reduce(local, tot, 4, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
  rc = 0;
  if (rank == 0) {
    snprintf(path, sizeof path, "%s/gold.txt", a.out);
    rc |= dump(gold, path, false);
    snprintf(path, sizeof path, "%s/gold.tsv", a.out);
    rc |= write_gold_tsv(gold, path);
    snprintf(path, sizeof path, "%s/stats.txt", a.out);
    FILE *f = fopen(path, "w");
    if (f) {
      fprintf(f,
              "rejects_bio %" PRId64 "\nrejects_results %" PRId64 "\ndropped_bio %" PRId64
              "\ndropped_results %" PRId64 "\njoined %" PRId64 "\nwithout_bio %" PRId64
              "\ngroups %" PRId64 "\n",
              tot[0], tot[1], tot[2], tot[3], gs.joined_rows, gs.results_without_bio, gs.groups);
      rc |= fclose(f);
    } else {
      rc = 1;
    }
  }
  if (rc) fprintf(stderr, "rank %d: writing %s failed\n", rank, a.out);
  if (round_violations) {
    fprintf(stderr, "rank %d: %" PRId64 " MPI_Alltoallv rounds above %zu bytes\n", rank,
            round_violations, a.round_bytes);
    rc = 1;
  }
  if (rank == 0)
    fprintf(stderr,
            "xform_check: %" PRId64 " MPI_Alltoallv rounds on rank 0, largest %" PRId64 " bytes\n",
            alltoallv_calls, round_max);
out:
  batch_free(bio.silver);
  batch_free(bio.rejects);
  batch_free(res.silver);
  batch_free(res.rejects);
  batch_free(gold);
  MPI_Finalize();
  return rc ? 1 : 0;
}
