/* Writes a random table with the Parquet writer and, beside it, what independent readers
 * must find in it:
 *   --expect FILE  one line per row, tab-separated canonical cells: \N for null, strings as
 *                  hex of their bytes, int64 and timestamps (epoch microseconds) in decimal,
 *                  doubles as the hex of their 64 bits, booleans as true/false;
 *   --meta FILE    one line per (row group, column): rg, column, null_count, min, max (same
 *                  canonical forms, \N when absent) and the expected data encoding
 *                  (dict, plain or any); first one "schema" line per column: name,
 *                  physical type, repetition, converted type.
 * Options: --seed N --rows N --codec zstd|snappy|none --out FILE [--rg-rows N]
 *          [--page-bytes N] [--dict-max N] [--big K (K multi-megabyte strings)]
 *          [--rg-bytes N (row groups bounded by bytes: --meta then holds no chunk lines)]
 *          [--batch-rows N (append in random slices of up to N rows; 0 = pq_write_batch)]
 *          [--check FILE (write nothing: read FILE, e.g. DuckDB's copy of the table, with the
 *           project's Parquet reader and compare it with the table of this seed)]
 * After writing, the file is read back with the project's own reader (pq_reader): the whole
 * table, then random row ranges; every value must come back exactly (doubles bit for bit).
 * Exit status 0 on success, 1 with a message on stderr otherwise. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/status.h"
#include "parquet/parquet.h"

static uint64_t rng_state;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) {
  return rnd() % n;
}

enum {
  C_S_DICT,
  C_S_PLAIN,
  C_S_REQ,
  C_I_DICT,
  C_I_PLAIN,
  C_D_PLAIN,
  C_D_DICT,
  C_B,
  C_B_REQ,
  C_TS,
  C_TS_DICT,
  C_NULL_S,
  C_NULL_I,
  C_NULL_D,
  C_NULL_B,
  C_NULL_TS,
  C_BIG,
  NCOLS
};

static const field_def FIELDS[NCOLS] = {
    {"s_dict", COL_STRING, true},      {"s_plain", COL_STRING, true},
    {"s_req", COL_STRING, false},      {"i_dict", COL_INT64, true},
    {"i_plain", COL_INT64, false},     {"d_plain", COL_DOUBLE, true},
    {"d_dict", COL_DOUBLE, false},     {"b", COL_BOOL, true},
    {"b_req", COL_BOOL, false},        {"ts", COL_TIMESTAMP, true},
    {"ts_dict", COL_TIMESTAMP, false}, {"null_s", COL_STRING, true},
    {"null_i", COL_INT64, true},       {"null_d", COL_DOUBLE, true},
    {"null_b", COL_BOOL, true},        {"null_ts", COL_TIMESTAMP, true},
    {"big", COL_STRING, true},
};
/* Expected data encoding per column when a row group has enough rows for a dictionary. */
static const char *const ENC[NCOLS] = {"dict",  "any",   "plain", "dict",  "plain", "plain",
                                       "dict",  "plain", "plain", "plain", "dict",  "plain",
                                       "plain", "plain", "plain", "plain", "any"};

static const char *const WORDS[] = {"",       "a",        "alpha",     "Zürich",
                                    "日本語", "émoji 🎉",  "tab\there", "line\nbreak",
                                    "zzz",    "\xc3\xbf", "Ω"};
static const char *const PIECES[] = {"a", "b",  "z",  "Q",  "0", " ",  "é", "€",
                                     "🎉", "日", "\"", "\\", ",", "\t", "ÿ"};
static const int64_t IVALS[] = {-1, 0, 1, 42, INT64_MIN, INT64_MAX};
static const double DVALS[] = {0.0, -0.0, 1.5, -2.25, 1e300, -1e-300};
static const int64_t TSVALS[] = {0, -2208988800000000LL, 1700000000123456LL, 4102444799999999LL};

/* A random UTF-8 string of up to max pieces. */
static void random_text(column *c, int max) {
  char tmp[256];
  size_t n = 0;
  int k = (int)below((uint64_t)max + 1);
  for (int i = 0; i < k; i++) {
    const char *p = PIECES[below(sizeof PIECES / sizeof *PIECES)];
    memcpy(tmp + n, p, strlen(p));
    n += strlen(p);
  }
  col_append_str(c, tmp, n);
}

/* A random finite double (any exponent), or a special value now and then. */
static double random_double(void) {
  /* NAN is the canonical quiet NaN, whose bits every reader keeps */
  static const double special[] = {0.0, -0.0, INFINITY, -INFINITY, 5e-324, -1.7976931348623157e308,
                                   NAN};
  if (below(10) == 0) return special[below(7)];
  uint64_t bits;
  do
    bits = rnd();
  while (((bits >> 52) & 0x7FF) == 0x7FF);
  double d;
  memcpy(&d, &bits, 8);
  return d;
}

/* Appends one random row to every column of t. */
static void random_row(batch *t, int64_t row, const int64_t *big_rows, int nbig) {
  column *c = t->cols;
  const char *w = WORDS[below(sizeof WORDS / sizeof *WORDS)];
  if (below(8) == 0)
    col_append_null(&c[C_S_DICT]);
  else
    col_append_str(&c[C_S_DICT], w, strlen(w));
  if (below(10) == 0)
    col_append_null(&c[C_S_PLAIN]);
  else
    random_text(&c[C_S_PLAIN], 40);
  char req[64];
  int n = snprintf(req, sizeof req, "row-%" PRId64 "-%016" PRIx64, row, rnd());
  col_append_str(&c[C_S_REQ], req, (size_t)n);
  if (below(5) == 0)
    col_append_null(&c[C_I_DICT]);
  else
    col_append_i64(&c[C_I_DICT], IVALS[below(6)]);
  col_append_i64(&c[C_I_PLAIN], (int64_t)rnd());
  if (below(7) == 0)
    col_append_null(&c[C_D_PLAIN]);
  else
    col_append_f64(&c[C_D_PLAIN], random_double());
  col_append_f64(&c[C_D_DICT], DVALS[below(6)]);
  if (below(4) == 0)
    col_append_null(&c[C_B]);
  else
    col_append_bool(&c[C_B], below(2));
  col_append_bool(&c[C_B_REQ], below(3) == 0);
  if (below(6) == 0)
    col_append_null(&c[C_TS]);
  else
    col_append_i64(&c[C_TS], -2208988800000000LL + (int64_t)below(6311433600000000ULL));
  col_append_i64(&c[C_TS_DICT], TSVALS[below(4)]);
  for (int k = C_NULL_S; k <= C_NULL_TS; k++)
    col_append_null(&c[k]);
  int big = -1;
  for (int k = 0; k < nbig; k++)
    if (big_rows[k] == row) big = k;
  if (big >= 0) {
    size_t len = (size_t)(2 << 20) + below(3 << 20);
    char *p = xmalloc(len);
    for (size_t i = 0; i < len; i++)
      p[i] = (char)('a' + below(26));
    col_append_str(&c[C_BIG], p, len);
    free(p);
  } else if (below(3) == 0) {
    col_append_null(&c[C_BIG]);
  } else {
    random_text(&c[C_BIG], 6);
  }
  t->nrows++;
}

/* Writes row r of column c in canonical form. */
static void put_cell(FILE *f, const column *c, int64_t r) {
  if (col_is_null(c, r)) {
    fputs("\\N", f);
    return;
  }
  size_t len;
  const uint8_t *p;
  uint64_t bits;
  double d;
  switch (c->type) {
  case COL_STRING:
    p = col_str(c, r, &len);
    fputs("s:", f);
    for (size_t i = 0; i < len; i++)
      fprintf(f, "%02x", p[i]);
    break;
  case COL_INT64:
  case COL_TIMESTAMP:
    fprintf(f, "%" PRId64, col_i64(c, r));
    break;
  case COL_DOUBLE:
    d = col_f64(c, r);
    memcpy(&bits, &d, 8);
    fprintf(f, "%016" PRIx64, bits);
    break;
  case COL_BOOL:
    fputs(col_bool(c, r) ? "true" : "false", f);
    break;
  }
}

/* Compares rows a and b of c in the Parquet column order (strings as unsigned bytes). */
static int cmp_rows(const column *c, int64_t a, int64_t b) {
  if (c->type == COL_STRING) {
    size_t la, lb;
    const uint8_t *pa = col_str(c, a, &la), *pb = col_str(c, b, &lb);
    int k = memcmp(pa, pb, la < lb ? la : lb);
    return k ? k : (la > lb) - (la < lb);
  }
  if (c->type == COL_DOUBLE)
    return (col_f64(c, a) > col_f64(c, b)) - (col_f64(c, a) < col_f64(c, b));
  if (c->type == COL_BOOL) return col_bool(c, a) - col_bool(c, b);
  return (col_i64(c, a) > col_i64(c, b)) - (col_i64(c, a) < col_i64(c, b));
}

/* A canonical double with the spec's signed-zero rule for statistics. */
static void put_double_stat(FILE *f, double d, bool is_min) {
  if (d == 0) d = is_min ? -0.0 : 0.0;
  uint64_t bits;
  memcpy(&bits, &d, 8);
  fprintf(f, "%016" PRIx64, bits);
}

/* One meta line for column k over rows [lo, hi). */
static void put_meta(FILE *f, const column *c, int rg, int k, int64_t lo, int64_t hi,
                     size_t dict_max) {
  int64_t nulls = 0, mn = -1, mx = -1;
  for (int64_t r = lo; r < hi; r++) {
    if (col_is_null(c, r)) {
      nulls++;
      continue;
    }
    if (c->type == COL_DOUBLE && isnan(col_f64(c, r))) continue; /* NaN has no order */
    if (mn < 0 || cmp_rows(c, r, mn) < 0) mn = r;
    if (mx < 0 || cmp_rows(c, r, mx) > 0) mx = r;
  }
  fprintf(f, "%d\t%s\t%" PRId64 "\t", rg, c->name, nulls);
  size_t lmin = 0, lmax = 0;
  if (mn >= 0 && c->type == COL_STRING) col_str(c, mn, &lmin), col_str(c, mx, &lmax);
  if (mn < 0 || lmin > 4096 || lmax > 4096) {
    fputs("\\N\t\\N", f);
  } else if (c->type == COL_DOUBLE) {
    put_double_stat(f, col_f64(c, mn), true);
    fputc('\t', f);
    put_double_stat(f, col_f64(c, mx), false);
  } else {
    put_cell(f, c, mn);
    fputc('\t', f);
    put_cell(f, c, mx);
  }
  const char *enc = ENC[k];
  if (strcmp(enc, "dict") == 0 && (hi - lo - nulls < 64 || dict_max < 1024)) enc = "any";
  fprintf(f, "\t%s\n", enc);
}

/* Copies rows [lo, hi) of src into dst (cleared first). */
static void slice(batch *dst, const batch *src, int64_t lo, int64_t hi) {
  batch_clear(dst);
  for (int64_t r = lo; r < hi; r++)
    batch_append_row(dst, src, r);
}

/* Writes t with pq_open_file/pq_append in random slices (or pq_write_batch). */
static int write_table(const char *out, const batch *t, const pq_options *o, int64_t batch_rows,
                       ath_error *err) {
  if (batch_rows <= 0) return pq_write_batch(out, t, o, err);
  pq_writer *w = pq_open_file(out, FIELDS, NCOLS, o, err);
  if (!w) return err->code;
  batch *part = batch_new(FIELDS, NCOLS);
  for (int64_t lo = 0; lo < t->nrows;) {
    int64_t hi = lo + 1 + (int64_t)below((uint64_t)batch_rows);
    if (hi > t->nrows) hi = t->nrows;
    slice(part, t, lo, hi);
    if (pq_append(w, part, err) != ATH_OK) break;
    lo = hi;
  }
  batch_free(part);
  return pq_close(w, err);
}

/* Rows [lo, lo + got->nrows) of want equal got, value for value (doubles by their bits). */
static bool same_rows(const batch *want, int64_t lo, const batch *got, bool strict, char *why,
                      size_t n) {
  if (got->ncols != want->ncols) return snprintf(why, n, "%d columns", got->ncols), false;
  for (int k = 0; k < want->ncols; k++) {
    const column *a = &want->cols[k], *b = &got->cols[k];
    if (a->type != b->type || strcmp(a->name, b->name) != 0 ||
        (strict && a->nullable != b->nullable))
      return snprintf(why, n, "column %d: another type or name", k), false;
    for (int64_t i = 0; i < got->nrows; i++) {
      int64_t r = lo + i;
      bool same = col_is_null(a, r) == col_is_null(b, i);
      if (same && !col_is_null(a, r)) {
        size_t la, lb;
        switch (a->type) {
        case COL_STRING: {
          const uint8_t *x = col_str(a, r, &la), *y = col_str(b, i, &lb);
          same = la == lb && (la == 0 || memcmp(x, y, la) == 0);
          break;
        }
        case COL_BOOL:
          same = col_bool(a, r) == col_bool(b, i);
          break;
        case COL_DOUBLE: /* bit for bit; other writers may fold -0.0 into 0.0 (DuckDB does) */
          same = memcmp((const double *)a->values + r, (const double *)b->values + i, 8) == 0 ||
                 (!strict && (col_f64(a, r) == col_f64(b, i) ||
                              (isnan(col_f64(a, r)) && isnan(col_f64(b, i)))));
          break;
        default: /* int64, timestamp */
          same = col_i64(a, r) == col_i64(b, i);
        }
      }
      if (!same)
        return snprintf(why, n, "row %lld, column %s differs", (long long)r, a->name), false;
    }
  }
  return true;
}

/* Reads `path` with pq_reader: the whole table, then random row ranges, against t. Not
 * strict: other writers (DuckDB) may make every column optional. */
static int read_back(const char *path, const batch *t, bool strict, ath_error *err) {
  pq_reader *r = NULL;
  if (pq_reader_open(path, &r, err) != ATH_OK) return ATH_ERR;
  int rc = ATH_OK;
  char why[256] = "";
  if (pq_reader_rows(r) != t->nrows)
    rc = ath_fail(err, ATH_ERR, "%s: %lld rows, expected %lld", path, (long long)pq_reader_rows(r),
                  (long long)t->nrows);
  for (int pass = 0; rc == ATH_OK && pass < 6; pass++) {
    int64_t lo = pass == 0 || t->nrows == 0 ? 0 : (int64_t)below((uint64_t)t->nrows);
    int64_t cnt = pass == 0 ? t->nrows : (int64_t)below((uint64_t)(t->nrows - lo) + 1);
    batch *got = batch_new(pq_reader_fields(r), pq_reader_ncols(r));
    rc = pq_read_rows(r, lo, cnt, got, err);
    if (rc == ATH_OK && got->nrows != cnt)
      rc = ath_fail(err, ATH_ERR, "%s: rows [%lld, +%lld): got %lld", path, (long long)lo,
                    (long long)cnt, (long long)got->nrows);
    if (rc == ATH_OK && !same_rows(t, lo, got, strict, why, sizeof why))
      rc = ath_fail(err, ATH_ERR, "%s: read back from row %lld: %s", path, (long long)lo, why);
    batch_free(got);
  }
  pq_reader_close(r);
  return rc;
}

int main(int argc, char **argv) {
  const char *out = NULL, *expect = NULL, *meta = NULL, *codec = "zstd", *check = NULL;
  int64_t rows = 100, batch_rows = 1000, nbig = 0;
  uint64_t seed = 1;
  pq_options o;
  pq_options_default(&o);
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--seed"))
      seed = strtoull(v, NULL, 10);
    else if (!strcmp(k, "--rows"))
      rows = strtoll(v, NULL, 10);
    else if (!strcmp(k, "--codec"))
      codec = v;
    else if (!strcmp(k, "--out"))
      out = v;
    else if (!strcmp(k, "--expect"))
      expect = v;
    else if (!strcmp(k, "--meta"))
      meta = v;
    else if (!strcmp(k, "--rg-rows"))
      o.row_group_rows = strtoll(v, NULL, 10);
    else if (!strcmp(k, "--rg-bytes"))
      o.row_group_bytes = strtoull(v, NULL, 10);
    else if (!strcmp(k, "--page-bytes"))
      o.page_bytes = strtoull(v, NULL, 10);
    else if (!strcmp(k, "--dict-max"))
      o.dict_max_bytes = strtoull(v, NULL, 10);
    else if (!strcmp(k, "--big"))
      nbig = strtoll(v, NULL, 10);
    else if (!strcmp(k, "--batch-rows"))
      batch_rows = strtoll(v, NULL, 10);
    else if (!strcmp(k, "--check"))
      check = v;
    else {
      fprintf(stderr, "pq_roundtrip: unknown option %s\n", k);
      return 1;
    }
  }
  ath_error err = {0};
  if (!check && (!out || !expect || !meta)) {
    fprintf(stderr, "pq_roundtrip: --out, --expect and --meta are required\n");
    return 1;
  }
  if (pq_codec_parse(codec, &o.codec, &err) != ATH_OK) {
    fprintf(stderr, "pq_roundtrip: %s\n", err.msg);
    return 1;
  }
  rng_state = seed;
  int64_t big_rows[16];
  if (nbig > 16) nbig = 16;
  for (int k = 0; k < nbig; k++)
    big_rows[k] = rows ? (int64_t)below((uint64_t)rows) : -1;
  batch *t = batch_new(FIELDS, NCOLS);
  for (int64_t r = 0; r < rows; r++)
    random_row(t, r, big_rows, (int)nbig);
  if (check) {
    int crc = read_back(check, t, false, &err);
    batch_free(t);
    if (crc != ATH_OK) fprintf(stderr, "pq_roundtrip: %s\n", err.msg);
    return crc == ATH_OK ? 0 : 1;
  }

  FILE *fe = fopen(expect, "w"), *fm = fopen(meta, "w");
  if (!fe || !fm) {
    perror("pq_roundtrip: expect/meta");
    return 1;
  }
  for (int64_t r = 0; r < rows; r++) {
    for (int k = 0; k < NCOLS; k++) {
      if (k) fputc('\t', fe);
      put_cell(fe, &t->cols[k], r);
    }
    fputc('\n', fe);
  }
  static const char *const phys[] = {"BYTE_ARRAY", "INT64", "DOUBLE", "BOOLEAN", "INT64"};
  static const char *const conv[] = {"UTF8", "\\N", "\\N", "\\N", "TIMESTAMP_MICROS"};
  for (int k = 0; k < NCOLS; k++)
    fprintf(fm, "schema\t%s\t%s\t%s\t%s\n", FIELDS[k].name, phys[FIELDS[k].type],
            FIELDS[k].nullable ? "OPTIONAL" : "REQUIRED", conv[FIELDS[k].type]);
  bool by_rows = o.row_group_bytes == (size_t)128 << 20; /* row groups cut by row count */
  for (int64_t lo = 0, rg = 0; by_rows && lo < rows; lo += o.row_group_rows, rg++) {
    int64_t hi = lo + o.row_group_rows < rows ? lo + o.row_group_rows : rows;
    for (int k = 0; k < NCOLS; k++)
      put_meta(fm, &t->cols[k], (int)rg, k, lo, hi, o.dict_max_bytes);
  }
  fclose(fe);
  fclose(fm);
  int rc = write_table(out, t, &o, batch_rows, &err);
  if (rc == ATH_OK) rc = read_back(out, t, true, &err);
  batch_free(t);
  if (rc != ATH_OK) {
    fprintf(stderr, "pq_roundtrip: %s\n", err.msg);
    return 1;
  }
  return 0;
}
