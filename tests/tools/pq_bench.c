/* Parquet encode throughput per codec on one core, for scripts/bench.sh: writes a bronze-like
 * table (short low-cardinality strings, long text, ids, doubles, nulls) with each codec and
 * prints a Markdown table of uncompressed input MB/s and output size. */
#include "core/batch.h"
#include "core/status.h"
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static batch *make_table(int64_t rows) {
  static const char *const words[] = {"the",   "athlete", "won",      "gold",  "in",     "Paris",
                                      "relay", "metres",  "Olympics", "swim",  "record", "team",
                                      "coach", "final",   "heat",     "world", "born",   "club"};
  static const char *const sports[] = {"Athletics", "Swimming", "Rowing", "Fencing",
                                       "Judo",      "Cycling",  "Boxing", "Sailing"};
  field_def f[] = {{"athlete_id", COL_INT64, true},   {"name", COL_STRING, true},
                   {"sport", COL_STRING, true},       {"height", COL_DOUBLE, true},
                   {"description", COL_STRING, true}, {"isTeamSport", COL_BOOL, true}};
  batch *b = batch_new(f, 6);
  char text[2048];
  for (int64_t i = 0; i < rows; i++) {
    col_append_i64(&b->cols[0], (int64_t)(next() % 10000000));
    int n = snprintf(text, sizeof text, "Name%llu Surname%llu",
                     (unsigned long long)(next() % 50000), (unsigned long long)(next() % 90000));
    col_append_str(&b->cols[1], text, (size_t)n);
    const char *s = sports[next() % 8];
    col_append_str(&b->cols[2], s, strlen(s));
    if (next() % 5 == 0)
      col_append_null(&b->cols[3]);
    else
      col_append_f64(&b->cols[3], 150.0 + (double)(next() % 600) / 10.0);
    if (next() % 3 == 0) {
      col_append_null(&b->cols[4]);
    } else {
      size_t len = 0;
      int nw = 20 + (int)(next() % 60);
      for (int w = 0; w < nw; w++) {
        const char *x = words[next() % 18];
        size_t l = strlen(x);
        memcpy(text + len, x, l);
        text[len + l] = ' ';
        len += l + 1;
      }
      col_append_str(&b->cols[4], text, len);
    }
    col_append_bool(&b->cols[5], next() & 1);
  }
  batch_sync_rows(b);
  return b;
}

int main(void) {
  batch *b = make_table(400000);
  double mb = (double)batch_data_bytes(b) / 1e6;
  char path[] = "/tmp/pq_bench_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  close(fd);
  printf("| codec | input MB | seconds | MB/s per core | file MB |\n| --- | --- | --- | --- | --- "
         "|\n");
  const pq_codec codecs[] = {PQ_CODEC_NONE, PQ_CODEC_SNAPPY, PQ_CODEC_ZSTD};
  for (int c = 0; c < 3; c++) {
    pq_options o;
    pq_options_default(&o);
    o.codec = codecs[c];
    ath_error err = {0};
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
      double t0 = ath_now();
      if (pq_write_batch(path, b, &o, &err) != ATH_OK) {
        fprintf(stderr, "pq_bench: %s\n", err.msg);
        return 1;
      }
      double t = ath_now() - t0;
      if (t < best) best = t;
    }
    struct stat st;
    stat(path, &st);
    printf("| %s | %.1f | %.3f | %.0f | %.1f |\n", pq_codec_name(codecs[c]), mb, best, mb / best,
           (double)st.st_size / 1e6);
  }
  unlink(path);
  batch_free(b);
  return 0;
}
