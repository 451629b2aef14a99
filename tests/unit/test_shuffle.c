/* Hashing and the MPI row exchange, on MPI_COMM_SELF (singleton MPI, no mpirun needed); the
 * multi-rank exchange is covered by tests/integration/xform_ranks.sh. */
#include "test.h"

#include "shuffle/shuffle.h"

#include <stdlib.h>

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static const field_def FIELDS[5] = {{"s", COL_STRING, true},
                                    {"i", COL_INT64, true},
                                    {"d", COL_DOUBLE, true},
                                    {"b", COL_BOOL, true},
                                    {"t", COL_TIMESTAMP, false}};

/* A batch of n random rows of every type with nulls, empty and long strings. */
static batch *random_batch(int64_t n) {
  batch *b = batch_new(FIELDS, 5);
  char s[300];
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = next_rand();
    size_t len = r % 7 == 0 ? 0 : (size_t)(r >> 8) % (r % 5 == 0 ? sizeof s : 12);
    for (size_t k = 0; k < len; k++)
      s[k] = (char)(next_rand() & 0xff);
    r % 11 == 0 ? col_append_null(&b->cols[0]) : col_append_str(&b->cols[0], s, len);
    r % 13 == 0 ? col_append_null(&b->cols[1]) : col_append_i64(&b->cols[1], (int64_t)next_rand());
    r % 17 == 0 ? col_append_null(&b->cols[2]) : col_append_f64(&b->cols[2], (double)r / 7.0);
    r % 3 == 0 ? col_append_null(&b->cols[3]) : col_append_bool(&b->cols[3], r & 1);
    col_append_i64(&b->cols[4], (int64_t)i);
    b->nrows++;
  }
  return b;
}

static int popcount64(uint64_t x) {
  return __builtin_popcountll(x);
}

TEST(hash_bytes_is_deterministic_and_seeded) {
  const char *s = "athlete_event_results";
  CHECK(hash_bytes(s, strlen(s), 1) == hash_bytes(s, strlen(s), 1));
  CHECK(hash_bytes(s, strlen(s), 1) != hash_bytes(s, strlen(s), 2));
  CHECK(hash_bytes("", 0, 0) != hash_bytes("\0", 1, 0));
  CHECK(hash_bytes("ab", 2, 0) != hash_bytes("ba", 2, 0));
}

/* Flipping any single input bit flips about half of the output bits, for every length class
 * (short, 4..16, long with a tail). */
TEST(hash_bytes_avalanche) {
  uint8_t buf[80];
  for (size_t k = 0; k < sizeof buf; k++)
    buf[k] = (uint8_t)(k * 37 + 11);
  size_t lens[] = {1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64, 80};
  for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
    size_t n = lens[li];
    uint64_t h0 = hash_bytes(buf, n, 7);
    double total = 0;
    int worst = 64;
    for (size_t bit = 0; bit < n * 8; bit++) {
      buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      int d = popcount64(h0 ^ hash_bytes(buf, n, 7));
      buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      total += d;
      if (d < worst) worst = d;
    }
    double mean = total / (double)(n * 8);
    if (mean < 26 || mean > 38 || worst < 8)
      FAILF("length %zu: mean flipped bits %.1f, worst %d", n, mean, worst);
  }
}

/* Sequential ids (the athlete_id case) spread evenly over rank counts 2..64. */
TEST(hash_i64_spreads_sequential_ids) {
  enum { N = 1 << 16 };
  for (int buckets = 2; buckets <= 64; buckets *= 2) {
    int count[64] = {0};
    for (int64_t v = 0; v < N; v++)
      count[hash_i64(v) % (uint64_t)buckets]++;
    double mean = (double)N / buckets;
    for (int k = 0; k < buckets; k++)
      if (count[k] < mean * 0.9 || count[k] > mean * 1.1)
        FAILF("%d buckets: bucket %d has %d (mean %.0f)", buckets, k, count[k], mean);
  }
  CHECK(hash_i64(0) != 0);
  CHECK(hash_i64(1) != hash_i64(-1));
}

TEST(hash_row_null_distinct_and_positional) {
  const field_def f[2] = {{"a", COL_STRING, true}, {"b", COL_STRING, true}};
  batch *b = batch_new(f, 2);
  /* row 0: ("x", null)  row 1: ("x", "")  row 2: (null, "x")  row 3: ("", "x")  row 4: ("x", null)
   */
  col_append_str(&b->cols[0], "x", 1), col_append_null(&b->cols[1]);
  col_append_str(&b->cols[0], "x", 1), col_append_str(&b->cols[1], "", 0);
  col_append_null(&b->cols[0]), col_append_str(&b->cols[1], "x", 1);
  col_append_str(&b->cols[0], "", 0), col_append_str(&b->cols[1], "x", 1);
  col_append_str(&b->cols[0], "x", 1), col_append_null(&b->cols[1]);
  b->nrows = 5;
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++) {
      if (hash_row(b, i) == hash_row(b, j)) FAILF("rows %d and %d hash equal", i, j);
      if (row_equal(b, i, b, j)) FAILF("rows %d and %d compare equal", i, j);
    }
  CHECK(hash_row(b, 0) == hash_row(b, 4));
  CHECK(row_equal(b, 0, b, 4));
  batch_free(b);
}

TEST(hash_row_type_aware) {
  const field_def fi[1] = {{"v", COL_INT64, true}}, fd[1] = {{"v", COL_DOUBLE, true}};
  batch *a = batch_new(fi, 1), *d = batch_new(fd, 1);
  col_append_i64(&a->cols[0], 0), col_append_null(&a->cols[0]);
  col_append_f64(&d->cols[0], 0.0);
  a->nrows = 2, d->nrows = 1;
  CHECK(hash_row(a, 0) != hash_row(a, 1)); /* 0 vs null */
  CHECK(hash_row(a, 0) != hash_row(d, 0)); /* int 0 vs double 0.0: same bits, other type */
  batch_free(a);
  batch_free(d);
}

static void check_same_rows(const batch *a, const batch *b) {
  CHECK_INT(a->nrows, b->nrows);
  if (a->nrows != b->nrows) return;
  for (int64_t i = 0; i < a->nrows; i++)
    if (!row_equal(a, i, b, i)) {
      FAILF("row %lld differs", (long long)i);
      return;
    }
}

/* On one rank every row comes back, in source order, whatever the round size (1 byte per
 * round splits every row across many rounds). */
TEST(shuffle_self_roundtrip_any_round_size) {
  test_mpi_init();
  batch *in = random_batch(2000);
  int *dest = calloc((size_t)in->nrows, sizeof *dest);
  size_t rounds[] = {1, 7, 100, 4096, SHUFFLE_DEFAULT_ROUND_BYTES};
  for (size_t r = 0; r < sizeof rounds / sizeof *rounds; r++) {
    batch *out = NULL;
    ath_error err = {0};
    int rc = shuffle_batch(MPI_COMM_SELF, in, dest, rounds[r], &out, &err);
    CHECK_INT(rc, ATH_OK);
    if (!out) continue;
    check_same_rows(in, out);
    CHECK_INT(out->cols[0].null_count, in->cols[0].null_count);
    batch_free(out);
  }
  free(dest);
  batch_free(in);
}

TEST(shuffle_empty_batch) {
  test_mpi_init();
  batch *in = batch_new(FIELDS, 5), *out = NULL;
  ath_error err = {0};
  CHECK_INT(shuffle_batch(MPI_COMM_SELF, in, NULL, 64, &out, &err), ATH_OK);
  CHECK(out && out->nrows == 0 && out->ncols == 5);
  batch_free(out);
  batch_free(in);
}

TEST(shuffle_rejects_bad_destination) {
  test_mpi_init();
  batch *in = random_batch(10), *out = NULL;
  int dest[10] = {0, 0, 0, 1};
  ath_error err = {0};
  CHECK_INT(shuffle_batch(MPI_COMM_SELF, in, dest, 1024, &out, &err), ATH_ERR);
  CHECK(out == NULL);
  CHECK(strstr(err.msg, "row 3 has destination 1") != NULL);
  batch_free(in);
}
