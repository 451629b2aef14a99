/* Unit tests of the Parquet writer: encodings against bytes worked out by hand from the spec
 * (Thrift compact protocol, RLE/bit-packed hybrid in Encodings.md), and the writer's handling
 * of malformed calls. Whole files are checked by DuckDB and hyparquet in
 * tests/integration/parquet_roundtrip.sh. */
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parquet/parquet.h"
#include "parquet/pq_internal.h"

#define CHECK_BYTES(buf, ...)                                                                      \
  do {                                                                                             \
    const uint8_t want_[] = {__VA_ARGS__};                                                         \
    CHECK_INT((buf).len, sizeof want_);                                                            \
    for (size_t i_ = 0; i_ < sizeof want_ && i_ < (buf).len; i_++)                                 \
      if ((buf).data[i_] != want_[i_])                                                             \
        FAILF("byte %zu: 0x%02x != 0x%02x", i_, (buf).data[i_], want_[i_]);                        \
  } while (0)

TEST(varint_and_zigzag) {
  pq_buf b = {0};
  uint64_t vals[] = {0, 1, 127, 128, 300, 16384};
  for (size_t i = 0; i < 6; i++)
    pq_varint(&b, vals[i]);
  CHECK_BYTES(b, 0x00, 0x01, 0x7f, 0x80, 0x01, 0xac, 0x02, 0x80, 0x80, 0x01);
  CHECK_INT(pq_zigzag(0), 0);
  CHECK_INT(pq_zigzag(-1), 1);
  CHECK_INT(pq_zigzag(1), 2);
  CHECK_INT(pq_zigzag(-2), 3);
  CHECK(pq_zigzag(INT32_MAX) == 4294967294u);
  CHECK(pq_zigzag(INT32_MIN) == 4294967295u);
  CHECK(pq_zigzag(INT64_MIN) == UINT64_MAX);
  pq_buf_free(&b);
}

TEST(thrift_compact_struct) {
  pq_buf b = {0};
  pq_thrift t;
  pq_thrift_init(&t, &b);
  pq_thrift_i32(&t, 1, 3);                 /* delta 1, I32: 0x15, zigzag 6 */
  pq_thrift_i64(&t, 20, -1);               /* delta 19: long form 0x06, id 40, value 1 */
  pq_thrift_bool(&t, 21, true);            /* 0x11 */
  pq_thrift_binary(&t, 22, "ab", 2);       /* 0x18, 2, 'a', 'b' */
  pq_thrift_struct(&t, 23);                /* 0x1c */
  pq_thrift_i32(&t, 1, 0);                 /* ids restart inside: 0x15 0x00 */
  pq_thrift_end(&t);                       /* 0x00 */
  pq_thrift_list(&t, 24, PQ_T_I32, 2);     /* 0x19, size 2 << 4 | 5 = 0x25 */
  pq_thrift_elem_i32(&t, 1);               /* 0x02 */
  pq_thrift_elem_i32(&t, -1);              /* 0x01 */
  pq_thrift_list(&t, 25, PQ_T_STRUCT, 15); /* 0x19, long form 0xfc, 15 */
  pq_thrift_i16(&t, 26, 7);                /* 0x14, zigzag 14 */
  pq_thrift_bool(&t, 27, false);           /* 0x12 */
  pq_thrift_end(&t);                       /* 0x00 */
  CHECK_BYTES(b, 0x15, 0x06, 0x06, 0x28, 0x01, 0x11, 0x18, 0x02, 'a', 'b', 0x1c, 0x15, 0x00, 0x00,
              0x19, 0x25, 0x02, 0x01, 0x19, 0xfc, 0x0f, 0x14, 0x0e, 0x12, 0x00);
  pq_buf_free(&b);
}

TEST(bit_width) {
  CHECK_INT(pq_bit_width(0), 0);
  CHECK_INT(pq_bit_width(1), 1);
  CHECK_INT(pq_bit_width(2), 2);
  CHECK_INT(pq_bit_width(3), 2);
  CHECK_INT(pq_bit_width(4), 3);
  CHECK_INT(pq_bit_width(255), 8);
  CHECK_INT(pq_bit_width(256), 9);
}

/* Encodings.md's bit-packing example: 0..7 at width 3 -> 10001000 11000110 11111010. */
TEST(rle_bitpacked_spec_example) {
  pq_buf b = {0};
  uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7};
  pq_rle_encode(&b, v, 8, 3);
  CHECK_BYTES(b, 0x03, 0x88, 0xc6, 0xfa);
  pq_buf_free(&b);
}

TEST(rle_runs) {
  pq_buf b = {0};
  uint32_t ten5[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
  pq_rle_encode(&b, ten5, 10, 3); /* RLE run: 10 << 1, one value byte */
  CHECK_BYTES(b, 0x14, 0x05);
  b.len = 0;
  uint32_t wide[8] = {300, 300, 300, 300, 300, 300, 300, 300};
  pq_rle_encode(&b, wide, 8, 9); /* width 9: the value takes 2 little-endian bytes */
  CHECK_BYTES(b, 0x10, 0x2c, 0x01);
  b.len = 0;
  uint32_t v[17] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0};
  pq_rle_encode(&b, v, 13, 1); /* 10 ones as a run, then 0,1,0 padded to a group of 8 */
  CHECK_BYTES(b, 0x14, 0x01, 0x03, 0x02);
  pq_buf_free(&b);
}

TEST(rle_literal_then_run) {
  pq_buf b = {0};
  uint32_t v[17] = {0, 1, 0};
  for (int i = 3; i < 17; i++)
    v[i] = 1;
  /* 0,1,0 then 12 ones: the literal group would take 5 of them, leaving 7 (< 8): one
   * bit-packed run of 15 values (2 groups). */
  pq_rle_encode(&b, v, 15, 1);
  CHECK_BYTES(b, 0x05, 0xfa, 0x7f);
  b.len = 0;
  /* 0,1,0 then 14 ones: the literal's group is filled with 5 ones, the other 9 are a run. */
  pq_rle_encode(&b, v, 17, 1);
  CHECK_BYTES(b, 0x03, 0xfa, 0x12, 0x01);
  pq_buf_free(&b);
}

TEST(codec_names) {
  pq_codec c = PQ_CODEC_NONE;
  ath_error e = {0};
  CHECK_INT(pq_codec_parse("snappy", &c, &e), ATH_OK);
  CHECK_INT(c, PQ_CODEC_SNAPPY);
  CHECK_INT(pq_codec_parse("zstd", &c, &e), ATH_OK);
  CHECK_INT(c, PQ_CODEC_ZSTD);
  CHECK_INT(pq_codec_parse("none", &c, &e), ATH_OK);
  CHECK_INT(c, PQ_CODEC_NONE);
  CHECK_INT(pq_codec_parse("gzip", &c, &e), ATH_EUSAGE);
  CHECK(strstr(e.msg, "gzip") != NULL);
  CHECK_STR(pq_codec_name(PQ_CODEC_ZSTD), "zstd");
  pq_options o;
  pq_options_default(&o);
  CHECK_INT(o.codec, PQ_CODEC_ZSTD);
  CHECK(o.zstd_level >= 1 && o.zstd_level <= 3);
  CHECK_INT(o.row_group_rows, 1 << 20);
}

static const field_def F[] = {{"s", COL_STRING, false}, {"i", COL_INT64, true}};

/* A two-column batch of n rows; row 1's i is null. */
static batch *small_batch(const field_def *f, int n) {
  batch *b = batch_new(f, 2);
  for (int r = 0; r < n; r++) {
    col_append_str(&b->cols[0], "hello", 5);
    if (r == 1)
      col_append_null(&b->cols[1]);
    else
      col_append_i64(&b->cols[1], r);
  }
  batch_sync_rows(b);
  return b;
}

/* Checks the file frame: magic at both ends and a footer length that fits. */
static void check_frame(const uint8_t *p, size_t n) {
  CHECK(n >= 12);
  if (n < 12) return;
  CHECK_MEM(p, 4, "PAR1", 4);
  CHECK_MEM(p + n - 4, 4, "PAR1", 4);
  uint32_t flen;
  memcpy(&flen, p + n - 8, 4);
  CHECK(flen > 0 && flen <= n - 12);
}

TEST(memory_writer_frames_file) {
  uint8_t *buf = NULL;
  size_t len = 0;
  ath_error e = {0};
  pq_writer *w = pq_open_mem(&buf, &len, F, 2, NULL, &e);
  CHECK(w != NULL);
  batch *b = small_batch(F, 3);
  CHECK_INT(pq_append(w, b, &e), ATH_OK);
  CHECK_INT(pq_close(w, &e), ATH_OK);
  check_frame(buf, len);
  free(buf);
  w = pq_open_mem(&buf, &len, F, 2, NULL, &e); /* no rows at all */
  CHECK_INT(pq_close(w, &e), ATH_OK);
  check_frame(buf, len);
  free(buf);
  batch_free(b);
}

TEST(schema_mismatch_is_sticky) {
  uint8_t *buf = NULL;
  size_t len = 0;
  ath_error e = {0};
  field_def other[] = {{"s", COL_STRING, false}, {"j", COL_INT64, true}};
  pq_writer *w = pq_open_mem(&buf, &len, F, 2, NULL, &e);
  batch *bad = small_batch(other, 2), *good = small_batch(F, 2);
  CHECK_INT(pq_append(w, bad, &e), ATH_EUSAGE);
  CHECK(strstr(e.msg, "'j'") != NULL);
  ath_error e2 = {0};
  CHECK_INT(pq_append(w, good, &e2), ATH_EUSAGE); /* the first error sticks */
  CHECK_STR(e2.msg, e.msg);
  ath_error e3 = {0};
  CHECK_INT(pq_close(w, &e3), ATH_EUSAGE);
  CHECK(buf == NULL && len == 0);
  batch_free(bad);
  batch_free(good);
}

TEST(type_mismatch) {
  uint8_t *buf = NULL;
  size_t len = 0;
  ath_error e = {0};
  field_def dbl[] = {{"s", COL_STRING, false}, {"i", COL_DOUBLE, true}};
  pq_writer *w = pq_open_mem(&buf, &len, dbl, 2, NULL, &e);
  batch *b = small_batch(F, 2);
  CHECK_INT(pq_append(w, b, &e), ATH_EUSAGE);
  CHECK(strstr(e.msg, "double") != NULL);
  pq_abort(w);
  batch_free(b);
}

TEST(null_into_required) {
  uint8_t *buf = NULL;
  size_t len = 0;
  ath_error e = {0};
  field_def req[] = {{"s", COL_STRING, false}, {"i", COL_INT64, false}};
  pq_writer *w = pq_open_mem(&buf, &len, req, 2, NULL, &e);
  batch *b = small_batch(F, 3); /* row 1 of i is null */
  CHECK_INT(pq_append(w, b, &e), ATH_EUSAGE);
  CHECK(strstr(e.msg, "non-nullable column 'i'") != NULL);
  CHECK(strstr(e.msg, "row 1") != NULL);
  CHECK_INT(pq_close(w, NULL), ATH_EUSAGE);
  batch_free(b);
}

/* Values over INT32_MAX bytes cannot be built in a unit test: the same check runs against
 * a lowered limit. */
TEST(value_too_long) {
  uint8_t *buf = NULL;
  size_t len = 0;
  ath_error e = {0};
  pq_options o;
  pq_options_default(&o);
  o.max_value_bytes = 5;
  batch *b = small_batch(F, 2);
  pq_writer *w = pq_open_mem(&buf, &len, F, 2, &o, &e);
  CHECK_INT(pq_append(w, b, &e), ATH_OK); /* "hello" is exactly 5 bytes */
  col_append_str(&b->cols[0], "hello!", 6);
  col_append_i64(&b->cols[1], 9);
  batch_sync_rows(b);
  CHECK_INT(pq_append(w, b, &e), ATH_EUSAGE);
  CHECK(strstr(e.msg, "6 bytes exceeds the limit of 5") != NULL);
  CHECK_INT(pq_close(w, NULL), ATH_EUSAGE);
  o.max_value_bytes = PQ_MAX_VALUE_BYTES + 1;
  ath_error e2 = {0};
  CHECK(pq_open_mem(&buf, &len, F, 2, &o, &e2) == NULL);
  CHECK_INT(e2.code, ATH_EUSAGE);
  batch_free(b);
}

TEST(bad_setup) {
  uint8_t *buf = NULL;
  size_t len = 0;
  ath_error e = {0};
  CHECK(pq_open_mem(&buf, &len, F, 0, NULL, &e) == NULL);
  CHECK_INT(e.code, ATH_EUSAGE);
  field_def dup[] = {{"a", COL_INT64, false}, {"a", COL_STRING, true}};
  ath_error e2 = {0};
  CHECK(pq_open_mem(&buf, &len, dup, 2, NULL, &e2) == NULL);
  CHECK(strstr(e2.msg, "duplicate") != NULL);
  pq_options o;
  pq_options_default(&o);
  o.zstd_level = 99;
  ath_error e3 = {0};
  CHECK(pq_open_mem(&buf, &len, F, 2, &o, &e3) == NULL);
  CHECK_INT(e3.code, ATH_EUSAGE);
}

TEST(closed_writer_calls) {
  ath_error e = {0};
  batch *b = small_batch(F, 1);
  /* pq_close and pq_abort free the writer; callers drop the pointer, and a NULL writer
   * (what they hold after close, or after a failed open) is refused. */
  CHECK_INT(pq_append(NULL, b, &e), ATH_EUSAGE);
  ath_error e2 = {0};
  CHECK_INT(pq_close(NULL, &e2), ATH_EUSAGE);
  pq_abort(NULL);
  batch_free(b);
}

static bool exists(const char *p) {
  struct stat st;
  return lstat(p, &st) == 0;
}

TEST(file_writer_publishes_on_close) {
  char path[512], tmp[520];
  snprintf(path, sizeof path, "%s/ok.parquet", test_tmpdir());
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  ath_error e = {0};
  batch *b = small_batch(F, 4);
  pq_writer *w = pq_open_file(path, F, 2, NULL, &e);
  CHECK(w != NULL);
  CHECK_INT(pq_append(w, b, &e), ATH_OK);
  CHECK(exists(tmp) && !exists(path));
  CHECK_INT(pq_close(w, &e), ATH_OK);
  CHECK(!exists(tmp) && exists(path));
  CHECK_INT(pq_write_batch(path, b, NULL, &e), ATH_OK); /* replaces the file */
  CHECK(exists(path));
  batch_free(b);
}

TEST(file_writer_abort_and_errors_leave_nothing) {
  char path[512], tmp[520];
  snprintf(path, sizeof path, "%s/aborted.parquet", test_tmpdir());
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  ath_error e = {0};
  batch *b = small_batch(F, 4);
  pq_writer *w = pq_open_file(path, F, 2, NULL, &e);
  CHECK_INT(pq_append(w, b, &e), ATH_OK);
  pq_abort(w);
  CHECK(!exists(tmp) && !exists(path));
  /* A sticky error: close reports it and removes the temporary file. */
  w = pq_open_file(path, F, 2, NULL, &e);
  batch *bad = small_batch((field_def[]){{"x", COL_STRING, false}, {"i", COL_INT64, true}}, 1);
  CHECK_INT(pq_append(w, bad, &e), ATH_EUSAGE);
  CHECK_INT(pq_close(w, NULL), ATH_EUSAGE);
  CHECK(!exists(tmp) && !exists(path));
  /* A write that fails (the temporary name points at /dev/full): close fails, nothing under
   * the final name. */
  if (symlink("/dev/full", tmp) == 0) {
    ath_error e2 = {0};
    w = pq_open_file(path, F, 2, NULL, &e2);
    CHECK(w != NULL);
    CHECK_INT(pq_append(w, b, &e2), ATH_OK);
    CHECK_INT(pq_close(w, &e2), ATH_ERR);
    CHECK(strstr(e2.msg, "aborted.parquet.tmp") != NULL);
    CHECK(!exists(path) && !exists(tmp));
  }
  /* An unwritable place: open fails. */
  ath_error e3 = {0};
  CHECK(pq_open_file("/nonexistent-dir/x.parquet", F, 2, NULL, &e3) == NULL);
  CHECK_INT(e3.code, ATH_ERR);
  CHECK_INT(pq_write_batch("/nonexistent-dir/x.parquet", b, NULL, NULL), ATH_ERR);
  batch_free(b);
  batch_free(bad);
}

TEST(dictionary_indices_and_bound) {
  field_def f[] = {{"s", COL_STRING, true}, {"d", COL_DOUBLE, true}};
  batch *b = batch_new(f, 2);
  const char *words[] = {"b", "a", "", "b", NULL, "a", "c"};
  const double nums[] = {0.0, -0.0, 1.0, 0.0, 2.0, 1.0, -0.0};
  for (int r = 0; r < 7; r++) {
    if (words[r])
      col_append_str(&b->cols[0], words[r], strlen(words[r]));
    else
      col_append_null(&b->cols[0]);
    col_append_f64(&b->cols[1], nums[r]);
  }
  batch_sync_rows(b);
  pq_dict d = {0};
  uint32_t idx[7];
  CHECK(pq_dict_build(&d, &b->cols[0], 0, 7, 1 << 20, idx));
  CHECK_INT(d.n, 4); /* b, a, "", c in order of first appearance; the null is skipped */
  uint32_t want[] = {0, 1, 2, 0, 1, 3};
  for (int i = 0; i < 6; i++)
    CHECK_INT(idx[i], want[i]);
  pq_buf page = {0};
  pq_dict_plain(&d, &page); /* PLAIN byte arrays: 4-byte length + bytes */
  CHECK_BYTES(page, 1, 0, 0, 0, 'b', 1, 0, 0, 0, 'a', 0, 0, 0, 0, 1, 0, 0, 0, 'c');
  CHECK_INT(d.plain_bytes, page.len);
  /* Doubles are keyed by their bits: 0.0 and -0.0 are different entries. */
  CHECK(pq_dict_build(&d, &b->cols[1], 0, 7, 1 << 20, idx));
  CHECK_INT(d.n, 4);
  uint32_t want_d[] = {0, 1, 2, 0, 3, 2, 1};
  for (int i = 0; i < 7; i++)
    CHECK_INT(idx[i], want_d[i]);
  /* Past the byte bound the dictionary gives up (the chunk is then written PLAIN). */
  CHECK(!pq_dict_build(&d, &b->cols[1], 0, 7, 16, idx));
  /* Many entries: the table grows and keeps every index. */
  batch *many = batch_new(f, 2);
  for (int r = 0; r < 5000; r++) {
    char s[16];
    int n = snprintf(s, sizeof s, "k%d", r % 3000);
    col_append_str(&many->cols[0], s, (size_t)n);
    col_append_f64(&many->cols[1], r);
  }
  batch_sync_rows(many);
  uint32_t *ix = malloc(5000 * sizeof *ix);
  CHECK(pq_dict_build(&d, &many->cols[0], 0, 5000, 1 << 20, ix));
  CHECK_INT(d.n, 3000);
  CHECK_INT(ix[4999], 1999);
  free(ix);
  pq_buf_free(&page);
  pq_dict_free(&d);
  batch_free(b);
  batch_free(many);
}
