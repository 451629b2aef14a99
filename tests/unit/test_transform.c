/* Silver typing/cleaning/dedupe, exact sums and gold, on MPI_COMM_SELF (singleton MPI); the
 * rank-count equivalence is tests/integration/xform_ranks.sh. */
#include "test.h"

#include "shuffle/shuffle.h"
#include "transform/gold.h"
#include "transform/silver.h"
#include "transform/xsum.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* A bronze batch (all STRING) from a row-major table of C strings; NULL is a null cell. */
static batch *bronze(const char *const *names, int nc, const char *const *cells, int nr) {
  field_def f[16];
  for (int k = 0; k < nc; k++)
    f[k] = (field_def){names[k], COL_STRING, true};
  batch *b = batch_new(f, nc);
  for (int i = 0; i < nr; i++) {
    for (int k = 0; k < nc; k++) {
      const char *s = cells[i * nc + k];
      s ? col_append_str(&b->cols[k], s, strlen(s)) : col_append_null(&b->cols[k]);
    }
    b->nrows++;
  }
  return b;
}

/* Silver of b; b stays the caller's (the transform consumes a copy). */
static batch *silver_of(const batch *b, const char *table, batch *rejects) {
  silver_options o;
  silver_options_default(&o);
  batch *s = NULL, *copy = batch_new_like(b);
  for (int64_t i = 0; i < b->nrows; i++)
    batch_append_row(copy, b, i);
  ath_error err = {0};
  int rc = silver_transform(&copy, table, &o, &s, rejects, &err);
  if (rc != ATH_OK) FAILF("silver_transform: %s", err.msg);
  return s;
}

static bool same_bits(double a, double b) {
  return memcmp(&a, &b, sizeof a) == 0;
}

static const char *const BIO_COLS[] = {"athlete_id", "name", "height", "weight"};

TEST(silver_numeric_typing) {
  const char *const cells[] = {"1",
                               "a",
                               "183.0",
                               "76.0", /* plain */
                               "2",
                               "b",
                               " 183 ",
                               "60-64", /* trimmed; a range is null, never 6064 */
                               "3",
                               "c",
                               "183.",
                               "72, 74", /* dangling dot; a list */
                               "4",
                               "d",
                               ".5",
                               "1.8e2", /* no integer part; exponent */
                               "5",
                               "e",
                               "183cm",
                               "0.1", /* unit suffix; inexact decimal */
                               "6",
                               "f",
                               NULL,
                               "", /* null; empty */
                               "7",
                               "g",
                               "\t72.5\r",
                               "1.00000000000000000000001", /* tab/CR trimmed; long (strtod) */
                               "8",
                               "h",
                               "-5",
                               "+5", /* signs are not digits */
                               "9",
                               "i",
                               "12345678901234567890.5",
                               "0000183.25"};
  batch *b = bronze(BIO_COLS, 4, cells, 9);
  batch *s = silver_of(b, "athlete_bio", NULL);
  if (!s) return;
  CHECK_INT(s->nrows, 9);
  const column *h = &s->cols[2], *w = &s->cols[3];
  CHECK_INT(h->type, COL_DOUBLE);
  const int hv[] = {1, 1, 0, 0, 0, 0, 1, 0, 1}, wv[] = {1, 0, 0, 0, 1, 0, 1, 0, 1};
  for (int i = 0; i < 9; i++) {
    if (!col_is_null(h, i) != hv[i]) FAILF("height row %d validity", i);
    if (!col_is_null(w, i) != wv[i]) FAILF("weight row %d validity", i);
  }
  CHECK(col_f64(h, 0) == 183.0 && col_f64(h, 1) == 183.0 && col_f64(h, 6) == 72.5);
  CHECK(col_f64(w, 0) == 76.0 && same_bits(col_f64(w, 4), 0.1));
  CHECK(same_bits(col_f64(w, 6), strtod("1.00000000000000000000001", NULL)));
  CHECK(same_bits(col_f64(h, 8), strtod("12345678901234567890.5", NULL)));
  CHECK(same_bits(col_f64(w, 8), 183.25));
  batch_free(s);
  batch_free(b);
}

/* The fast path (mantissa / 10^k) agrees with strtod bit for bit on many decimals. */
TEST(silver_decimal_parse_matches_strtod) {
  uint64_t r = 12345;
  const char *const names[] = {"athlete_id", "height"};
  for (int round = 0; round < 2000; round++) {
    char num[64], id[] = "1";
    r = r * 6364136223846793005ull + 1442695040888963407ull;
    int frac = (int)(r >> 60) % 8;
    snprintf(num, sizeof num, "%llu.%0*llu", (unsigned long long)((r >> 20) % 100000000ull),
             frac ? frac : 1,
             (unsigned long long)((r >> 8) % 10000000ull) %
                 (frac ? (unsigned long long)pow(10, frac) : 10));
    const char *cells[] = {id, num};
    batch *b = bronze(names, 2, cells, 1), *s = silver_of(b, "athlete_bio", NULL);
    if (s && !same_bits(col_f64(&s->cols[1], 0), strtod(num, NULL))) FAILF("%s", num);
    batch_free(s);
    batch_free(b);
  }
}

TEST(silver_ids_and_rejects) {
  const char *const cells[] = {" 42 ",
                               "ok",
                               NULL,
                               NULL, /* trimmed id */
                               "+5",
                               "plus",
                               NULL,
                               NULL, /* sign: invalid */
                               "-5",
                               "neg",
                               NULL,
                               NULL, /* sign: invalid */
                               "4 2",
                               "sp",
                               NULL,
                               NULL, /* inner space */
                               "9223372036854775807",
                               "max",
                               NULL,
                               NULL, /* INT64_MAX fits */
                               "9223372036854775808",
                               "over",
                               NULL,
                               NULL, /* overflow: invalid */
                               NULL,
                               "x,\"y\"",
                               "180",
                               NULL, /* missing; raw needs quoting */
                               "007",
                               "zeros",
                               NULL,
                               NULL};
  batch *b = bronze(BIO_COLS, 4, cells, 8);
  batch *rej = batch_new(SILVER_REJECT_FIELDS, 5);
  batch *s = silver_of(b, "athlete_bio", rej);
  if (!s) return;
  CHECK_INT(s->nrows, 3);
  CHECK_INT(s->cols[0].type, COL_INT64);
  CHECK_INT(col_i64(&s->cols[0], 0), 42);
  CHECK_INT(col_i64(&s->cols[0], 1), INT64_MAX);
  CHECK_INT(col_i64(&s->cols[0], 2), 7);
  CHECK_INT(rej->nrows, 5);
  size_t len;
  const char *reason = (const char *)col_str(&rej->cols[3], 0, &len);
  CHECK_MEM(reason, len, "invalid athlete_id '+5'", 23);
  reason = (const char *)col_str(&rej->cols[3], 4, &len);
  CHECK_MEM(reason, len, "missing athlete_id", 18);
  const char *raw = (const char *)col_str(&rej->cols[4], 4, &len);
  CHECK_MEM(raw, len, ",\"x,\"\"y\"\"\",180,", 15);
  raw = (const char *)col_str(&rej->cols[4], 0, &len);
  CHECK_MEM(raw, len, "+5,plus,,", 9);
  const char *src = (const char *)col_str(&rej->cols[0], 0, &len);
  CHECK_MEM(src, len, "athlete_bio", 11);
  CHECK(col_is_null(&rej->cols[1], 0) && col_is_null(&rej->cols[2], 0));
  batch_free(rej);
  batch_free(s);
  batch_free(b);
}

TEST(silver_bool_and_cleaning) {
  const char *const names[] = {"athlete_id", "sport", "isTeamSport"};
  const char *const cells[] = {"1",
                               "Károly",
                               "TRUE",
                               "2",
                               " United States",
                               " false ",
                               "3",
                               "é",
                               "yes",
                               "4",
                               NULL,
                               NULL,
                               "5",
                               "4 × 100 metres Relay, Men",
                               "False"};
  batch *b = bronze(names, 3, cells, 5), *s = silver_of(b, "athlete_event_results", NULL);
  if (!s) return;
  const column *t = &s->cols[2], *sp = &s->cols[1];
  CHECK_INT(t->type, COL_BOOL);
  CHECK(!col_is_null(t, 0) && col_bool(t, 0));
  CHECK(!col_is_null(t, 1) && !col_bool(t, 1));
  CHECK(col_is_null(t, 2) && col_is_null(t, 3));
  CHECK(!col_is_null(t, 4) && !col_bool(t, 4));
  size_t len;
  const char *v = (const char *)col_str(sp, 0, &len);
  CHECK_MEM(v, len, "Kroly", 5);
  v = (const char *)col_str(sp, 1, &len);
  CHECK_MEM(v, len, " United States", 14);
  CHECK(!col_is_null(sp, 2) && sp->offsets[3] == sp->offsets[2]); /* "é" -> "" not null */
  CHECK(col_is_null(sp, 3));
  v = (const char *)col_str(sp, 4, &len);
  CHECK_MEM(v, len, "4  100 metres Relay, Men", 24);
  batch_free(s);
  batch_free(b);
}

TEST(silver_other_table_all_text) {
  const char *const names[] = {"athlete_id", "height"};
  const char *const cells[] = {"x1", "1.5kg"};
  batch *b = bronze(names, 2, cells, 1), *rej = batch_new(SILVER_REJECT_FIELDS, 5);
  batch *s = silver_of(b, "medals", rej);
  if (!s) return;
  CHECK_INT(s->nrows, 1);
  CHECK_INT(rej->nrows, 0);
  CHECK_INT(s->cols[0].type, COL_STRING);
  CHECK_INT(s->cols[1].type, COL_STRING);
  batch_free(s);
  batch_free(rej);
  batch_free(b);
}

TEST(keep_chars_spec) {
  silver_options o;
  ath_error err = {0};
  CHECK_INT(silver_parse_keep_chars("a-c\\x41\\-\\s", &o, &err), ATH_OK);
  int kept = 0;
  for (int c = 0; c < 256; c++)
    kept += o.keep[c];
  CHECK_INT(kept, 6);
  CHECK(o.keep['a'] && o.keep['b'] && o.keep['c'] && o.keep['A'] && o.keep['-'] && o.keep[' ']);
  CHECK_INT(silver_parse_keep_chars("-x", &o, &err), ATH_OK); /* leading dash literal */
  CHECK(o.keep['-'] && o.keep['x'] && !o.keep['a']);
  CHECK_INT(silver_parse_keep_chars("x-", &o, &err), ATH_OK); /* trailing dash literal */
  CHECK(o.keep['-'] && o.keep['x']);
  silver_options d, p;
  silver_options_default(&d);
  CHECK_INT(silver_parse_keep_chars("A-Za-z0-9 ,.'\"-", &p, &err), ATH_OK);
  CHECK(memcmp(d.keep, p.keep, 256) == 0);
  const char *bad[] = {"", "z-a", "\\q", "abc\\", "\\x4", "\\xZZ"};
  silver_options before = o;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ath_error e = {0};
    if (silver_parse_keep_chars(bad[i], &o, &e) != ATH_EUSAGE) FAILF("accepted '%s'", bad[i]);
  }
  CHECK(memcmp(o.keep, before.keep, 256) == 0); /* a bad spec leaves o untouched */
}

TEST(cleaning_uses_the_configured_set) {
  silver_options o;
  ath_error err = {0};
  CHECK_INT(silver_parse_keep_chars("a-z\\xc3\\xa1", &o, &err), ATH_OK);
  const char *const names[] = {"name"}, *const cells[] = {"Károly 7"};
  batch *b = bronze(names, 1, cells, 1), *s = NULL;
  CHECK_INT(silver_transform(&b, "other", &o, &s, NULL, &err), ATH_OK);
  CHECK(b == NULL);
  size_t len;
  const char *v = (const char *)col_str(&s->cols[0], 0, &len);
  CHECK_MEM(v, len, "ároly", 6);
  batch_free(s);
}

/* Rows equal only after cleaning collapse; null and "" stay distinct; a different id keeps. */
TEST(dedupe_after_cleaning) {
  test_mpi_init();
  const char *const cells[] = {"1",     "Károly", "180",   NULL,  "1",     "Kéroly", "180",
                               NULL,    "1",      "Kroly", "180", NULL,    "1",      "Kroly",
                               "180.0", NULL,     "1",     NULL,  "180",   NULL,     "1",
                               "é",     "180",    NULL,    "2",   "Kroly", "180",    NULL};
  batch *b = bronze(BIO_COLS, 4, cells, 7), *s = silver_of(b, "athlete_bio", NULL);
  if (!s) return;
  batch *d = s;
  int64_t dropped = -1;
  ath_error err = {0};
  CHECK_INT(silver_dedupe(MPI_COMM_SELF, d, 64, &dropped, &err), ATH_OK);
  CHECK_INT(d->nrows, 4); /* (1,Kroly,180) (1,null,180) (1,"",180) (2,Kroly,180) */
  CHECK_INT(dropped, 3);
  /* The first occurrences stay, in their order. */
  if (d->nrows == 4) {
    size_t len = 0;
    const uint8_t *name = col_str(&d->cols[1], 0, &len);
    CHECK_MEM(name, len, "Kroly", 5);
    CHECK(col_is_null(&d->cols[1], 1));
    CHECK(!col_is_null(&d->cols[1], 2) && d->cols[1].offsets[3] == d->cols[1].offsets[2]);
    CHECK_INT(col_i64(&d->cols[0], 3), 2);
  }
  for (int64_t i = 0; i < d->nrows; i++)
    for (int64_t j = i + 1; j < d->nrows; j++)
      if (row_equal(d, i, d, j)) FAILF("rows %lld and %lld equal", (long long)i, (long long)j);
  batch_free(d);
  batch_free(b);
}

/* ---- exact sums ---------------------------------------------------------------------------- */

static double xsum_of(const double *v, int n) {
  xsum s;
  xsum_init(&s);
  for (int i = 0; i < n; i++)
    xsum_add(&s, v[i]);
  return xsum_round(&s);
}

/* The sum of two doubles rounded once is exactly IEEE a + b (itself correctly rounded, ties to
 * even): random pairs across the whole exponent range, subnormals and signs included. */
TEST(xsum_pairs_equal_ieee_addition) {
  uint64_t r = 99;
  for (int i = 0; i < 200000; i++) {
    double v[2];
    for (int k = 0; k < 2; k++) {
      r ^= r << 13, r ^= r >> 7, r ^= r << 17;
      uint64_t bits = r;
      if (i % 3 == 0)
        bits = (bits & 0x800fffffffffffffull) | ((uint64_t)(1023 + (int)(r % 60) - 30) << 52);
      memcpy(&v[k], &bits, 8);
      if (!isfinite(v[k])) v[k] = 1.0;
    }
    double want = v[0] + v[1], got = xsum_of(v, 2);
    if (!same_bits(want, got) && !(want == 0 && got == 0)) {
      FAILF("%a + %a: want %a got %a", v[0], v[1], want, got);
      return;
    }
  }
}

TEST(xsum_exact_cancellation_and_order_independence) {
  const double a[] = {1e15, 0.1, -1e15, 0.1, 1e16, 1.0, -1e16, 0.1, 3e-300, DBL_MAX, -DBL_MAX};
  enum { N = sizeof a / sizeof *a };
  double first = xsum_of(a, N);
  /* exact value: 0.3 (as the sum of three doubles 0.1) + 1 + 3e-300, rounded once */
  CHECK(same_bits(xsum_of((double[]){0.1, 0.1, 0.1, 1.0, 3e-300}, 5), first));
  uint64_t r = 7;
  double perm[N];
  for (int t = 0; t < 500; t++) {
    memcpy(perm, a, sizeof a);
    for (int i = N - 1; i > 0; i--) {
      r = r * 6364136223846793005ull + 1;
      int j = (int)((r >> 33) % (uint64_t)(i + 1));
      double x = perm[i];
      perm[i] = perm[j], perm[j] = x;
    }
    if (!same_bits(xsum_of(perm, N), first)) FAILF("permutation %d differs", t);
  }
  /* naive left-to-right double addition loses the 0.1s next to 1e16 */
  CHECK(xsum_of((double[]){1e16, 0.5, 0.5, -1e16}, 4) == 1.0);
  CHECK(xsum_of((double[]){0x1p-1074, 0x1p-1074}, 2) == 0x1p-1073);
  CHECK(isinf(xsum_of((double[]){DBL_MAX, DBL_MAX}, 2)));
  CHECK(isnan(xsum_of((double[]){INFINITY, -INFINITY, 1}, 3)));
  CHECK(xsum_of((double[]){0x1p53, 1.0}, 2) == 0x1p53);              /* tie to even */
  CHECK(xsum_of((double[]){0x1p53, 1.0, 0x1p-60}, 3) == 0x1p53 + 2); /* sticky bit */
}

TEST(xsum_merge_equals_sequential) {
  double v[1000];
  for (int i = 0; i < 1000; i++)
    v[i] = (i % 7 ? 0.1 * i : 1e15 / (i + 1)) * (i % 5 ? 1 : -1);
  double seq = xsum_of(v, 1000);
  for (int parts = 2; parts <= 7; parts++) {
    xsum total, part;
    xsum_init(&total);
    for (int p = parts - 1; p >= 0; p--) {
      xsum_init(&part);
      for (int i = p; i < 1000; i += parts)
        xsum_add(&part, v[i]);
      xsum_merge(&total, &part);
    }
    if (!same_bits(xsum_round(&total), seq)) FAILF("%d parts differ", parts);
  }
}

/* The fast fixed-point path gives the very same limbs as xsum_add, for ordinary values, the
 * values around its bounds (2^-12, 2^40, negative, zero, subnormal, huge, non-finite), and
 * across a fold when the fast sum is full. */
TEST(xsum_fast_equals_xsum_add) {
  const double edge[] = {0x1p-12, -0x1p-12, 0x1.fffffffffffffp-13,
                         0x1p40,  -0x1p40,  0x1.fffffffffffffp39,
                         0.0,     -0.0,     0x1p-1074,
                         1e300,   -1e-300,  183.5,
                         76.3,    -0.1,     1e12,
                         INFINITY};
  xsum slow, fs;
  xsum_fast f = {0};
  xsum_init(&slow);
  xsum_init(&fs);
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 200000; i++) {
    double v;
    if (i % 10 == 0) {
      v = edge[(i / 10) % (int)(sizeof edge / sizeof *edge)];
      if (i > 100000 && isinf(v)) v = 1.5; /* one infinity is enough */
    } else {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      v = ldexp((double)(x >> 11), (int)(x % 90) - 70) * (x & 1 ? -1 : 1);
    }
    xsum_add(&slow, v);
    xsum_add_fast(&fs, &f, v);
  }
  xsum_fold(&fs, &f);
  CHECK(memcmp(slow.limb, fs.limb, sizeof slow.limb) == 0);
  CHECK(same_bits(xsum_round(&slow), xsum_round(&fs)));
  /* A full fast sum folds itself and goes on. */
  xsum_init(&slow);
  xsum_init(&fs);
  for (int64_t i = 0; i < XSUM_FAST_MAX + 5; i++) {
    double v = (double)(i % 1000) + 0.25;
    xsum_add(&slow, v);
    xsum_add_fast(&fs, &f, v);
  }
  xsum_fold(&fs, &f);
  CHECK(memcmp(slow.limb, fs.limb, sizeof slow.limb) == 0);
}

/* ---- gold ---------------------------------------------------------------------------------- */

static batch *typed(const char *table, const char *const *names, int nc, const char *const *cells,
                    int nr) {
  batch *b = bronze(names, nc, cells, nr), *s = silver_of(b, table, NULL);
  batch_free(b);
  return s;
}

TEST(gold_join_group_sort) {
  test_mpi_init();
  const char *const rn[] = {"athlete_id", "sport", "medal"};
  const char *const rc[] = {"1", "Judo", "Gold", "1", "Judo", "Gold", "2", "Judo", "Gold",
                            "3", "Judo", NULL,   "9", "Judo", "Gold", "4", NULL,   NULL};
  const char *const bn[] = {"athlete_id", "sex", "country_noc", "height", "weight"};
  const char *const bc[] = {"1",   "M",  "FRA", "180", "80.5", /* athlete 1 twice in bio: */
                            "1",   "M",  "FRA", "170", NULL,   /* 2 results x 2 bio = 4 rows */
                            "2",   "M",  "FRA", NULL,  "70",   "3",  "F", NULL,
                            "160", "55", "4",   NULL,  NULL,   NULL, NULL};
  batch *R = typed("athlete_event_results", rn, 3, rc, 6);
  batch *B = typed("athlete_bio", bn, 5, bc, 5);
  batch *g = NULL;
  gold_stats st;
  ath_error err = {0};
  CHECK_INT(gold_compute(MPI_COMM_SELF, R, B, 1700000000000000, 5, &g, &st, &err), ATH_OK);
  CHECK_INT(st.joined_rows, 7);
  CHECK_INT(st.results_without_bio, 1);
  CHECK_INT(st.groups, 3);
  CHECK_INT(g->nrows, 3);
  CHECK_INT(g->ncols, 8);
  /* sorted: (null,null,null,null) < (Judo,null,F,null) < (Judo,Gold,M,FRA) */
  CHECK(col_is_null(&g->cols[0], 0) && col_is_null(&g->cols[4], 0) && col_i64(&g->cols[6], 0) == 1);
  CHECK(col_is_null(&g->cols[1], 1) && col_is_null(&g->cols[3], 1));
  CHECK(col_f64(&g->cols[4], 1) == 160 && col_f64(&g->cols[5], 1) == 55);
  CHECK_INT(col_i64(&g->cols[6], 2), 5);
  CHECK(col_f64(&g->cols[4], 2) == 175.0);               /* (180+170)*2 / 4 */
  CHECK(col_f64(&g->cols[5], 2) == (80.5 * 2 + 70) / 3); /* nulls skipped */
  CHECK_INT(col_i64(&g->cols[7], 2), 1700000000000000);
  batch_free(g);
  batch_free(R);
  batch_free(B);
}

TEST(gold_empty_inputs) {
  test_mpi_init();
  const char *const rn[] = {"athlete_id", "sport", "medal"};
  const char *const bn[] = {"athlete_id", "sex", "country_noc", "height", "weight"};
  batch *R = typed("athlete_event_results", rn, 3, NULL, 0);
  batch *B = typed("athlete_bio", bn, 5, NULL, 0);
  batch *g = NULL;
  gold_stats st;
  ath_error err = {0};
  CHECK_INT(gold_compute(MPI_COMM_SELF, R, B, 0, 1 << 20, &g, &st, &err), ATH_OK);
  CHECK(g && g->nrows == 0 && g->ncols == 8);
  CHECK_INT(st.groups, 0);
  batch_free(g);
  /* a missing column is an error naming it */
  batch_free(g = NULL);
  CHECK_INT(gold_compute(MPI_COMM_SELF, B, B, 0, 1 << 20, &g, &st, &err), ATH_ERR);
  CHECK(strstr(err.msg, "sport") != NULL);
  batch_free(R);
  batch_free(B);
}

/* Gold rows a and b are equal: keys by bytes, averages by bits, counts (timestamps aside). */
static bool gold_rows_equal(const batch *a, const batch *b) {
  if (a->nrows != b->nrows) return false;
  for (int64_t i = 0; i < a->nrows; i++) {
    for (int c = 0; c < 4; c++) {
      bool an = col_is_null(&a->cols[c], i), bn = col_is_null(&b->cols[c], i);
      if (an != bn) return false;
      size_t la = 0, lb = 0;
      const uint8_t *pa = an ? NULL : col_str(&a->cols[c], i, &la),
                    *pb = bn ? NULL : col_str(&b->cols[c], i, &lb);
      if (!an && (la != lb || memcmp(pa, pb, la) != 0)) return false;
    }
    for (int c = 4; c < 6; c++) {
      bool an = col_is_null(&a->cols[c], i), bn = col_is_null(&b->cols[c], i);
      if (an != bn || (!an && !same_bits(col_f64(&a->cols[c], i), col_f64(&b->cols[c], i))))
        return false;
    }
    if (col_i64(&a->cols[6], i) != col_i64(&b->cols[6], i)) return false;
  }
  return true;
}

/* The state API: results added batch by batch (as stream-stats does), or saved and loaded in
 * between, give exactly the rows of one gold_compute over all of them. */
TEST(gold_agg_incremental) {
  test_mpi_init();
  const char *const rn[] = {"athlete_id", "sport", "medal"};
  const char *const bn[] = {"athlete_id", "sex", "country_noc", "height", "weight"};
  enum { NB = 300, NR = 2000 };
  static const char *bc[NB * 5], *rc[NR * 3];
  static char bbuf[NB][4][16], rbuf[NR][16];
  static const char *const sports[] = {"Judo", "Rowing", "Swimming", NULL};
  static const char *const medals[] = {"Gold", "Silver", NULL};
  static const char *const nocs[] = {"FRA", "USA", NULL, "JPN"};
  uint64_t x = 12345;
  for (int i = 0; i < NB; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    snprintf(bbuf[i][0], 16, "%d", i % 250); /* some athletes twice */
    snprintf(bbuf[i][1], 16, "%s", x & 1 ? "M" : "F");
    snprintf(bbuf[i][2], 16, "%d.%d", 150 + (int)(x % 50), (int)(x >> 8) % 10);
    snprintf(bbuf[i][3], 16, "%d.%02d", 40 + (int)(x >> 16) % 60, (int)(x >> 24) % 100);
    const char *row[5] = {bbuf[i][0], bbuf[i][1], nocs[(x >> 5) % 4], x % 7 ? bbuf[i][2] : NULL,
                          x % 5 ? bbuf[i][3] : NULL};
    memcpy(&bc[i * 5], row, sizeof row);
  }
  for (int i = 0; i < NR; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    snprintf(rbuf[i], 16, "%d", (int)(x % 280)); /* some without bio */
    rc[i * 3] = rbuf[i];
    rc[i * 3 + 1] = sports[(x >> 9) % 4];
    rc[i * 3 + 2] = medals[(x >> 13) % 3];
  }
  batch *R = typed("athlete_event_results", rn, 3, rc, NR);
  batch *B = typed("athlete_bio", bn, 5, bc, NB);
  batch *want = NULL;
  gold_stats st;
  ath_error err = {0};
  CHECK_INT(gold_compute(MPI_COMM_SELF, R, B, 0, 1 << 20, &want, &st, &err), ATH_OK);
  CHECK(want->nrows > 20);

  gold_agg *a = NULL, *copy = NULL;
  CHECK_INT(gold_agg_new(B, &a, &err), ATH_OK);
  int64_t joined = 0, orphans = 0;
  uint8_t *saved = NULL;
  size_t saved_len = 0;
  for (int64_t lo = 0; lo < R->nrows; lo += 97) { /* batches of 97 rows */
    batch *part = batch_new_like(R);
    for (int64_t i = lo; i < R->nrows && i < lo + 97; i++)
      batch_append_row(part, R, i);
    gold_agg_clear_changed(a);
    CHECK_INT(gold_agg_add(a, part, &joined, &orphans, &err), ATH_OK);
    batch *changed = gold_agg_rows(a, true, 0);
    CHECK_INT(changed->nrows, gold_agg_changed(a));
    CHECK(changed->nrows > 0 && changed->nrows <= gold_agg_groups(a));
    batch_free(changed);
    batch_free(part);
    /* A checkpoint: every group once, then after each batch the groups it changed. */
    if (lo >= 97 * 10) gold_agg_save(a, lo > 97 * 10, &saved, &saved_len);
  }
  CHECK_INT(joined, st.joined_rows);
  CHECK_INT(orphans, st.results_without_bio);
  batch *got = gold_agg_rows(a, false, 0);
  CHECK(gold_rows_equal(got, want));
  batch_free(got);
  /* Restore: the checkpoint's groups, then each later change, each replacing ("set"). */
  CHECK_INT(gold_agg_new(NULL, &copy, &err), ATH_OK);
  CHECK_INT(gold_agg_load(copy, saved, saved_len, false, &err), ATH_OK);
  got = gold_agg_rows(copy, false, 0);
  CHECK(gold_rows_equal(got, want));
  batch_free(got);
  /* Merging ("add") a state into an empty one twice doubles every count. */
  gold_agg_free(copy);
  CHECK_INT(gold_agg_new(NULL, &copy, &err), ATH_OK);
  size_t one = 0;
  uint8_t *all = NULL;
  gold_agg_save(a, false, &all, &one);
  CHECK_INT(gold_agg_load(copy, all, one, true, &err), ATH_OK);
  CHECK_INT(gold_agg_load(copy, all, one, true, &err), ATH_OK);
  got = gold_agg_rows(copy, false, 0);
  CHECK_INT(got->nrows, want->nrows);
  for (int64_t i = 0; i < got->nrows; i++)
    CHECK_INT(col_i64(&got->cols[6], i), 2 * col_i64(&want->cols[6], i));
  batch_free(got);
  /* Damaged bytes are an error, never a crash. */
  CHECK_INT(gold_agg_load(copy, all, one - 3, true, &err), ATH_ERR);
  CHECK(strstr(err.msg, "damaged") != NULL);
  free(all);
  free(saved);
  gold_agg_free(copy);
  gold_agg_free(a);
  batch_free(want);
  batch_free(R);
  batch_free(B);
}
