/* h5_roundtrip DIR [--seed S] [--piece BYTES] [--rows-max N] [--direct-chunk BYTES]
 *                  [--io direct|buffered]
 *   Every rank builds a deterministic random batch (every column type, nulls, empty strings,
 *   NUL bytes, non-ASCII text; rank 1 has no rows), writes DIR/table.h5 with h5_write_table,
 *   reads it back with h5_read_table on all ranks, on all ranks but the last (a different rank
 *   count) and on each rank alone, and checks every row and h5_read_info. It does the same for
 *   a table with no rows (DIR/empty.h5), checks that errors come back the same on every rank,
 *   and rank 0 writes the expected rows as escaped text (DIR/<table>.tsv) and the rows per
 *   writing rank (DIR/<table>.parts) for tests/integration/h5_check.py. A rank has up to N rows
 *   (default 200); --direct-chunk and --io set h5_io's direct-I/O settings, and the last line
 *   says how many bytes went direct and how many files the helper process created (none with
 *   ATHLETE_H5_HELPER=0).
 * h5_roundtrip DIR --read NAME
 *   Reads DIR/NAME.h5 written by an earlier run (any rank count) on all ranks; each rank dumps
 *   its rows to DIR/NAME.read<rank> (rank 0 with the header line).
 * h5_roundtrip DIR --big-mib M
 *   Rank 0 writes M MiB of string bytes (other ranks none), reads the table back and compares:
 *   the > 2 GiB per rank check (run by hand, e.g. M = 2500).
 * Exit status 0 when every check passed. */
#include "core/batch.h"
#include "core/status.h"
#include "h5/h5table.h"

#include <inttypes.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, nranks, failures;
static h5_io io;               /* --piece BYTES: many pieces on small data; --direct-chunk, --io */
static int64_t rows_max = 200; /* --rows-max N: up to N rows per rank */
static int64_t direct_bytes;   /* written with direct I/O by this rank */

#define EXPECT(cond, ...)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "[rank %d] %s:%d: ", rank, __FILE__, __LINE__);                              \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      failures++;                                                                                  \
    }                                                                                              \
  } while (0)

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static const field_def schema[] = {
    {"name", COL_STRING, true},   {"athlete_id", COL_INT64, false}, {"height", COL_DOUBLE, true},
    {"is_team", COL_BOOL, true},  {"born", COL_TIMESTAMP, true},    {"code", COL_STRING, false},
    {"score", COL_DOUBLE, false}, {"flag", COL_BOOL, false},        {"país", COL_STRING, true},
    {"count", COL_INT64, true},
};
enum { NCOLS = sizeof schema / sizeof *schema };

/* Appends a random string: fixed tricky samples or random bytes that are valid UTF-8. */
static void random_string(column *c, uint64_t *s) {
  static const char *const samples[] = {"",
                                        "Károly",
                                        "4 × 100 metres Relay, Men",
                                        "中文名",
                                        "medal 🏅",
                                        "tab\there",
                                        "new\nline\r\n",
                                        "quote \"x\"",
                                        "back\\slash",
                                        " United States"};
  uint64_t k = rng_next(s) % 14;
  if (k < 10) {
    col_append_str(c, samples[k], strlen(samples[k]));
  } else if (k == 10) {
    col_append_str(c, "nul\0byte", 8);
  } else {
    char buf[300];
    size_t n = (size_t)(rng_next(s) % (k == 13 ? 300 : 24));
    for (size_t i = 0; i < n; i++)
      buf[i] = (char)(0x20 + rng_next(s) % 0x5f);
    col_append_str(c, buf, n);
  }
}

static double random_double(uint64_t *s) {
  static const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-300, 183.0, 5e-324};
  uint64_t k = rng_next(s) % 16;
  if (k < 8) return special[k];
  return ((double)(int64_t)rng_next(s) / 1e6);
}

/* Appends one random value of c's type (null with probability 1/6 when nullable). */
static void random_value(column *c, uint64_t *s) {
  if (c->nullable && rng_next(s) % 6 == 0) {
    col_append_null(c);
    return;
  }
  switch (c->type) {
  case COL_STRING:
    random_string(c, s);
    break;
  case COL_INT64:
  case COL_TIMESTAMP:
    col_append_i64(c, (int64_t)rng_next(s) >> (rng_next(s) % 64));
    break;
  case COL_DOUBLE:
    col_append_f64(c, random_double(s));
    break;
  case COL_BOOL:
    col_append_bool(c, rng_next(s) & 1);
    break;
  }
}

/* The rows rank r of n writes: rank 1 has none, the others 1..200. */
static int64_t rows_of(int r, uint64_t seed) {
  uint64_t s = seed * 1000003u + (uint64_t)r;
  return r == 1 ? 0 : 1 + (int64_t)(rng_next(&s) % (uint64_t)rows_max);
}

/* Appends rank r's deterministic rows to b. */
static void gen_rank(batch *b, int r, uint64_t seed) {
  uint64_t s = seed ^ ((uint64_t)r << 32);
  int64_t n = rows_of(r, seed);
  for (int64_t i = 0; i < n; i++)
    for (int k = 0; k < b->ncols; k++)
      random_value(&b->cols[k], &s);
  batch_sync_rows(b);
}

/* Compares rows [0, got->nrows) of got with rows [lo, ...) of want; reports the first
 * difference per column. */
static void compare(const batch *want, int64_t lo, const batch *got, const char *what) {
  EXPECT(got->ncols == want->ncols, "%s: %d columns, want %d", what, got->ncols, want->ncols);
  for (int k = 0; k < got->ncols && k < want->ncols; k++) {
    const column *a = &want->cols[k], *b = &got->cols[k];
    EXPECT(strcmp(a->name, b->name) == 0 && a->type == b->type && a->nullable == b->nullable,
           "%s: column %d is %s/%d, want %s/%d", what, k, b->name, b->type, a->name, a->type);
    EXPECT(b->n == got->nrows, "%s: column %s has %" PRId64 " rows", what, b->name, b->n);
    for (int64_t i = 0; i < got->nrows && a->type == b->type; i++) {
      size_t la = 0, lb = 0, w = col_type_width(a->type);
      bool same = a->valid[lo + i] == b->valid[i];
      if (same && a->type == COL_STRING) {
        const uint8_t *pa = col_str(a, lo + i, &la), *pb = col_str(b, i, &lb);
        same = la == lb && memcmp(pa, pb, la) == 0;
      } else if (same) {
        same = memcmp((char *)a->values + (size_t)(lo + i) * w, (char *)b->values + (size_t)i * w,
                      w) == 0;
      }
      if (!same) {
        EXPECT(0, "%s: column %s differs at row %" PRId64, what, a->name, lo + i);
        break;
      }
    }
  }
}

/* Reads path on comm and checks this rank's slice against the whole table `all`. */
static void read_and_compare(MPI_Comm comm, const char *path, const batch *all, const char *what) {
  int r, n;
  MPI_Comm_rank(comm, &r);
  MPI_Comm_size(comm, &n);
  batch *got = NULL;
  ath_error err = {0};
  int rc = h5_read_table_with(comm, path, &io, &got, &err);
  EXPECT(rc == ATH_OK && got, "%s: h5_read_table: %s", what, err.msg);
  if (!got) return;
  int64_t lo = r * all->nrows / n, hi = (r + 1) * all->nrows / n;
  EXPECT(got->nrows == hi - lo, "%s: %" PRId64 " rows, want %" PRId64, what, got->nrows, hi - lo);
  if (got->nrows == hi - lo) compare(all, lo, got, what);
  batch_free(got);
}

/* Checks h5_read_info against the schema and row count. */
static void check_info(const char *path, const batch *all) {
  field_def *f = NULL;
  int nf = 0;
  int64_t rows = -1;
  ath_error err = {0};
  EXPECT(h5_read_info(path, &f, &nf, &rows, &err) == ATH_OK, "h5_read_info: %s", err.msg);
  EXPECT(nf == all->ncols && rows == all->nrows, "h5_read_info: %d columns, %" PRId64 " rows", nf,
         rows);
  for (int i = 0; i < nf && i < all->ncols; i++)
    EXPECT(strcmp(f[i].name, all->cols[i].name) == 0 && f[i].type == all->cols[i].type &&
               f[i].nullable == all->cols[i].nullable,
           "h5_read_info: field %d is %s", i, f[i].name);
  h5_free_fields(f, nf);
}

/* Writes bytes as escaped text: printable ASCII as is, '\\' doubled, other bytes \xHH. */
static void dump_bytes(FILE *fp, const uint8_t *p, size_t len) {
  for (size_t k = 0; k < len; k++) {
    if (p[k] == '\\')
      fputs("\\\\", fp);
    else if (p[k] >= 0x20 && p[k] < 0x7f)
      fputc(p[k], fp);
    else
      fprintf(fp, "\\x%02x", p[k]);
  }
}

/* Writes one field as text (strings through dump_bytes, doubles %.17g); a null is \N. */
static void dump_field(FILE *fp, const column *c, int64_t i) {
  if (col_is_null(c, i)) {
    fputs("\\N", fp);
    return;
  }
  size_t len;
  switch (c->type) {
  case COL_STRING: {
    const uint8_t *p = col_str(c, i, &len);
    dump_bytes(fp, p, len);
    break;
  }
  case COL_INT64:
  case COL_TIMESTAMP:
    fprintf(fp, "%" PRId64, col_i64(c, i));
    break;
  case COL_DOUBLE:
    fprintf(fp, "%.17g", col_f64(c, i));
    break;
  case COL_BOOL:
    fputs(col_bool(c, i) ? "true" : "false", fp);
    break;
  }
}

/* Writes the rows of b as text lines (after a header line of the column names if `header`)
 * to `path`. */
static void dump_rows(const char *path, const batch *b, bool header) {
  FILE *fp = fopen(path, "w");
  EXPECT(fp, "cannot write %s", path);
  if (!fp) return;
  for (int k = 0; k < b->ncols && header; k++) {
    if (k) fputc('\t', fp);
    dump_bytes(fp, (const uint8_t *)b->cols[k].name, strlen(b->cols[k].name));
  }
  if (header) fputc('\n', fp);
  for (int64_t i = 0; i < b->nrows; i++) {
    for (int k = 0; k < b->ncols; k++) {
      if (k) fputc('\t', fp);
      dump_field(fp, &b->cols[k], i);
    }
    fputc('\n', fp);
  }
  fclose(fp);
}

/* Rank 0: DIR/<name>.tsv (header + escaped rows) and DIR/<name>.parts (rows per rank). */
static void dump(const char *dir, const char *name, const batch *all, const int64_t *parts) {
  if (rank != 0) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.tsv", dir, name);
  dump_rows(path, all, true);
  snprintf(path, sizeof path, "%s/%s.parts", dir, name);
  FILE *fp = fopen(path, "w");
  EXPECT(fp, "cannot write %s", path);
  if (!fp) return;
  for (int r = 0; r < nranks; r++)
    fprintf(fp, "%s%" PRId64, r ? " " : "", parts[r]);
  fputc('\n', fp);
  fclose(fp);
}

/* --read NAME: reads DIR/NAME.h5 (written by an earlier run, any rank count) on all ranks;
 * each rank dumps its rows to DIR/NAME.read<rank> (rank 0 with the header), so that their
 * concatenation in rank order must equal DIR/NAME.tsv. */
static void read_only(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.h5", dir, name);
  batch *got = NULL;
  ath_error err = {0};
  EXPECT(h5_read_table_with(MPI_COMM_WORLD, path, &io, &got, &err) == ATH_OK, "read %s: %s", path,
         err.msg);
  if (!got) return;
  snprintf(path, sizeof path, "%s/%s.read%d", dir, name, rank);
  dump_rows(path, got, rank == 0);
  batch_free(got);
}

/* Writes `local` to DIR/<name>.h5 and checks it read back on every rank layout. */
static void roundtrip(const char *dir, const char *name, const batch *local, const batch *all,
                      const int64_t *parts) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.h5", dir, name);
  const char *keys[] = {"table", "layer"}, *values[] = {name, "test"};
  ath_error err = {0};
  int rc = h5_write_table_with(MPI_COMM_WORLD, path, local, keys, values, 2, NULL, &io, &err);
  EXPECT(rc == ATH_OK, "h5_write_table %s: %s", path, err.msg);
  read_and_compare(MPI_COMM_WORLD, path, all, "same ranks");
  MPI_Comm fewer;
  MPI_Comm_split(MPI_COMM_WORLD, nranks > 1 && rank == nranks - 1 ? MPI_UNDEFINED : 0, rank,
                 &fewer);
  if (fewer != MPI_COMM_NULL) {
    read_and_compare(fewer, path, all, "fewer ranks");
    MPI_Comm_free(&fewer);
  }
  read_and_compare(MPI_COMM_SELF, path, all, "one rank");
  check_info(path, all);
  dump(dir, name, all, parts);
}

/* The whole table (every rank's rows in rank order) and the rows per rank. */
static batch *whole_table(uint64_t seed, bool empty, int64_t *parts) {
  batch *all = batch_new(schema, NCOLS);
  for (int r = 0; r < nranks; r++) {
    int64_t before = all->nrows;
    if (!empty) gen_rank(all, r, seed);
    parts[r] = all->nrows - before;
  }
  return all;
}

/* Every rank must get the same failure status and a message naming `needle`. */
static void expect_error(int rc, const ath_error *err, const char *needle, const char *what) {
  EXPECT(rc == ATH_ERR, "%s: status %d, want %d", what, rc, ATH_ERR);
  EXPECT(strstr(err->msg, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err->msg,
         needle);
  if (rank == 0) printf("expected error (%s): %s\n", what, err->msg);
}

/* Failures every rank must agree on: a missing file, a missing folder, nulls in a column that
 * is not nullable on one rank only, schemas that differ between ranks. */
static void check_errors(const char *dir, uint64_t seed) {
  char path[4096];
  batch *got = NULL;
  ath_error err = {0};
  snprintf(path, sizeof path, "%s/missing.h5", dir);
  expect_error(h5_read_table_with(MPI_COMM_WORLD, path, &io, &got, &err), &err, "missing.h5",
               "read");
  EXPECT(got == NULL, "read of a missing file returned a batch");
  batch *b = batch_new(schema, NCOLS);
  gen_rank(b, 0, seed);
  snprintf(path, sizeof path, "%s/no/such/dir/t.h5", dir);
  ath_error_clear(&err);
  expect_error(h5_write_table_with(MPI_COMM_WORLD, path, b, NULL, NULL, 0, NULL, &io, &err), &err,
               path, "create");
  snprintf(path, sizeof path, "%s/bad.h5", dir);
  if (rank == nranks - 1) b->cols[1].null_count = 1; /* athlete_id is not nullable */
  ath_error_clear(&err);
  expect_error(h5_write_table_with(MPI_COMM_WORLD, path, b, NULL, NULL, 0, NULL, &io, &err), &err,
               "not nullable", "nulls");
  b->cols[1].null_count = 0;
  if (rank == nranks - 1) b->cols[2].type = COL_INT64;
  ath_error_clear(&err);
  int rc = h5_write_table_with(MPI_COMM_WORLD, path, b, NULL, NULL, 0, NULL, &io, &err);
  if (nranks > 1) expect_error(rc, &err, "schema", "schema");
  batch_free(b);
}

/* --big-mib: rank 0 writes `mib` MiB of 8 KiB strings (one /s/bytes dataset of that size) and
 * an int64 per row, the other ranks nothing; rank 0 reads it back alone and compares. */
static void big(const char *dir, int64_t mib) {
  field_def f[] = {{"s", COL_STRING, false}, {"v", COL_INT64, false}};
  batch *b = batch_new(f, 2);
  const size_t slen = 8192;
  if (rank == 0) {
    int64_t srows = mib * 1024 * 1024 / (int64_t)slen, nrows = srows;
    col_reserve(&b->cols[0], (size_t)nrows, (size_t)srows * slen);
    col_reserve(&b->cols[1], (size_t)nrows, 0);
    char *s = xmalloc(slen);
    memset(s, 'a', slen);
    for (int64_t i = 0; i < nrows; i++) {
      s[i % (int64_t)slen] = (char)i;
      col_append_str(&b->cols[0], s, i < srows ? slen : 0);
      col_append_i64(&b->cols[1], i * 7);
    }
    free(s);
  }
  batch_sync_rows(b);
  char path[4096];
  snprintf(path, sizeof path, "%s/big.h5", dir);
  ath_error err = {0};
  double t0 = MPI_Wtime();
  EXPECT(h5_write_table_with(MPI_COMM_WORLD, path, b, NULL, NULL, 0, NULL, &io, &err) == ATH_OK,
         "big: %s", err.msg);
  double t1 = MPI_Wtime();
  batch *got = NULL;
  if (rank == 0) {
    EXPECT(h5_read_table_with(MPI_COMM_SELF, path, &io, &got, &err) == ATH_OK, "big read: %s",
           err.msg);
    EXPECT(got && got->nrows == b->nrows, "big: rows differ");
    if (got && got->nrows == b->nrows) compare(b, 0, got, "big");
    if (got)
      printf("big: %" PRId64 " rows, %zu string bytes, write %.1f s, read %.1f s\n", got->nrows,
             got->cols[0].nbytes, t1 - t0, MPI_Wtime() - t1);
  }
  batch_free(got);
  batch_free(b);
}

int main(int argc, char **argv) {
  h5_helper_start(); /* as athlete does (ATHLETE_H5_HELPER=0: files are created by forking) */
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  if (argc < 2) {
    if (rank == 0)
      fprintf(stderr, "usage: h5_roundtrip DIR [--seed S] [--piece BYTES] [--rows-max N] "
                      "[--direct-chunk BYTES]\n"
                      "                    [--io direct|buffered] [--read NAME] [--big-mib M]\n");
    MPI_Finalize();
    return 2;
  }
  const char *dir = argv[1];
  uint64_t seed = 42;
  int64_t big_mib = 0;
  const char *read_name = NULL;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--seed") == 0) seed = strtoull(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "--piece") == 0) io.piece_bytes = strtoull(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "--big-mib") == 0) big_mib = strtoll(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "--read") == 0) read_name = argv[i + 1];
    if (strcmp(argv[i], "--rows-max") == 0) rows_max = strtoll(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "--direct-chunk") == 0) io.direct_chunk = strtoull(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "--io") == 0) io.buffered = strcmp(argv[i + 1], "buffered") == 0;
  }
  io.direct_bytes = &direct_bytes;
  if (big_mib > 0) {
    big(dir, big_mib);
  } else if (read_name) {
    read_only(dir, read_name);
  } else {
    int64_t *parts = xcalloc((size_t)nranks, sizeof *parts);
    for (int empty = 0; empty <= 1; empty++) {
      batch *all = whole_table(seed, empty, parts);
      batch *local = batch_new(schema, NCOLS);
      if (!empty) gen_rank(local, rank, seed);
      roundtrip(dir, empty ? "empty" : "table", local, all, parts);
      batch_free(local);
      batch_free(all);
    }
    free(parts);
    check_errors(dir, seed);
  }
  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  int64_t direct_all = 0;
  MPI_Allreduce(&direct_bytes, &direct_all, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  long helper_files = h5_helper_files(), helper_all = 0;
  MPI_Allreduce(&helper_files, &helper_all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0)
    printf("h5_roundtrip: %d ranks, %d failures, %" PRId64 " bytes written direct, %ld files "
           "created by the helper\n",
           nranks, total, direct_all, helper_all);
  MPI_Finalize();
  return total ? 1 : 0;
}
