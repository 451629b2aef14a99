/* Unit tests of stream tables' commit log (lake/stream.h): two writers on one table, as two
 * ingest members would be. A writer's claim makes the other one's batch on that partition a
 * conflict (the zombie case), overlapping ranges are a conflict, a file name that exists is
 * never replaced, orphans of a claimed partition go, a half-written last entry is dropped and
 * a damaged earlier one is an error. */
#include "test.h"

#include "lake/stream.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *table_dir(void) {
  char dir[] = "/tmp/athlete-stream-XXXXXX";
  static char tdir[64];
  if (!mkdtemp(dir)) abort();
  snprintf(tdir, sizeof tdir, "%s/t", dir);
  return tdir;
}

static stream_entry entry(const char *writer, stream_range *claim, stream_range *range,
                          stream_file *file) {
  stream_entry e = {0};
  snprintf(e.writer, sizeof e.writer, "%s", writer);
  if (claim) e.claims = claim, e.nclaims = 1;
  if (range) e.ranges = range, e.nranges = 1;
  if (file) e.files = file, e.nfiles = 1, e.rows = file->rows;
  return e;
}

static bool claims_p0(void *arg, const stream_entry *other) {
  (void)arg;
  for (int i = 0; i < other->nclaims; i++)
    if (other->claims[i].partition == 0) return true;
  return false;
}

static void put(stream_log *log, const char *name) {
  bool exists = false;
  ath_error err = {0};
  CHECK_INT(stream_put_file(log, name, "x", 1, &exists, &err), ATH_OK);
}

TEST(two_writers_claims_ranges_orphans) {
  const char *dir = table_dir();
  stream_log a = {0}, b = {0};
  ath_error err = {0};
  CHECK_INT(stream_load(&a, dir, true, -1, NULL, NULL, &err), ATH_OK);
  CHECK_INT(stream_load(&b, dir, true, -1, NULL, NULL, &err), ATH_OK);
  bool conflict = false;
  stream_range c0 = {"t", 0, -1, -1};
  stream_entry e = entry("A", &c0, NULL, NULL);
  CHECK_INT(stream_commit(&a, &e, NULL, claims_p0, NULL, &conflict, &err), ATH_OK);
  CHECK_INT(e.seq, 1);
  /* A lands offsets 0..9 of partition 0. */
  put(&a, "t+0+0+9.parquet");
  stream_range r1 = {"t", 0, 0, 9};
  stream_file f1 = {"t+0+0+9.parquet", 10};
  e = entry("A", NULL, &r1, &f1);
  CHECK_INT(stream_commit(&a, &e, NULL, claims_p0, NULL, &conflict, &err), ATH_OK);
  CHECK_INT(stream_next_offset(&a, "t", 0), 10);
  CHECK_INT(stream_next_offset(&a, "t", 1), -1);
  /* A reader that loaded the log before follows it with stream_refresh. */
  stream_log peek = {0};
  CHECK_INT(stream_load(&peek, dir, false, 1, NULL, NULL, &err), ATH_OK);
  CHECK_INT(stream_next_offset(&peek, "t", 0), -1);
  CHECK_INT(stream_refresh(&peek, &err), ATH_OK);
  CHECK_INT(peek.seq, 2);
  CHECK_INT(stream_next_offset(&peek, "t", 0), 10);
  /* The same name again is never replaced. */
  bool exists = false;
  CHECK_INT(stream_put_file(&a, "t+0+0+9.parquet", "y", 1, &exists, &err), ATH_ERR);
  CHECK(exists);
  /* B takes partition 0 over (A froze): its claim comes first, A's stale log is behind. */
  stream_entry cb = entry("B", &c0, NULL, NULL);
  CHECK_INT(stream_commit(&b, &cb, NULL, NULL, NULL, &conflict, &err), ATH_OK);
  CHECK_INT(cb.seq, 3);
  CHECK_INT(stream_next_offset(&b, "t", 0), 10);
  /* A zombie's file, written before B removes orphans, and A's commit after B's claim. */
  put(&a, "t+0+10+19.parquet");
  put(&a, "t+1+0+4.parquet");
  CHECK_INT(stream_remove_orphans(&b, "t", 0), 1);
  stream_range r2 = {"t", 0, 10, 19};
  stream_file f2 = {"t+0+10+19.parquet", 10};
  e = entry("A", NULL, &r2, &f2);
  CHECK_INT(stream_commit(&a, &e, NULL, claims_p0, NULL, &conflict, &err), ATH_ERR);
  CHECK(conflict);
  /* B lands 10..14; a writer whose range overlaps it conflicts even without a claim. */
  put(&b, "t+0+10+14.parquet");
  stream_range r3 = {"t", 0, 10, 14};
  stream_file f3 = {"t+0+10+14.parquet", 5};
  e = entry("B", NULL, &r3, &f3);
  CHECK_INT(stream_commit(&b, &e, NULL, NULL, NULL, &conflict, &err), ATH_OK);
  stream_range r4 = {"t", 0, 12, 20};
  e = entry("C", NULL, &r4, NULL);
  stream_log c = {0};
  CHECK_INT(stream_load(&c, dir, false, 3, NULL, NULL, &err), ATH_OK); /* C has read to 3 */
  CHECK_INT(stream_commit(&c, &e, NULL, NULL, NULL, &conflict, &err), ATH_ERR);
  CHECK(conflict);
  /* A fresh reader sees 15 rows in two files; partition 1's file is an orphan of nobody's
   * claim until someone claims it. */
  stream_log r = {0};
  CHECK_INT(stream_load(&r, dir, false, -1, NULL, NULL, &err), ATH_OK);
  CHECK_INT(r.rows, 15);
  CHECK_INT(r.nfiles, 2);
  CHECK_STR(r.files[1].name, "t+0+10+14.parquet");
  CHECK_INT(stream_remove_orphans(&r, "t", 1), 1);
  CHECK_INT(stream_refresh(&peek, &err), ATH_OK);
  CHECK_INT(peek.seq, r.seq);
  CHECK_INT(stream_next_offset(&peek, "t", 0), 15);
  stream_log_free(&a);
  stream_log_free(&b);
  stream_log_free(&c);
  stream_log_free(&r);
  stream_log_free(&peek);
}

TEST(damaged_entries) {
  const char *dir = table_dir();
  stream_log a = {0};
  ath_error err = {0};
  bool conflict = false;
  CHECK_INT(stream_load(&a, dir, true, -1, NULL, NULL, &err), ATH_OK);
  stream_range c0 = {"t", 0, -1, -1};
  for (int i = 0; i < 3; i++) {
    stream_entry e = entry("A", &c0, NULL, NULL);
    CHECK_INT(stream_commit(&a, &e, NULL, NULL, NULL, &conflict, &err), ATH_OK);
  }
  char p[128];
  snprintf(p, sizeof p, "%s/_log/%020d.json", dir, 3);
  CHECK(truncate(p, 20) == 0);
  stream_log r = {0};
  CHECK_INT(stream_load(&r, dir, false, -1, NULL, NULL, &err), ATH_OK);
  CHECK_INT(r.seq, 2);
  CHECK_INT(r.repaired, 1);
  CHECK(access(p, F_OK) != 0);
  snprintf(p, sizeof p, "%s/_log/%020d.json", dir, 1);
  CHECK(truncate(p, 5) == 0);
  CHECK_INT(stream_load(&r, dir, false, -1, NULL, NULL, &err), ATH_ERR);
  CHECK(strstr(err.msg, "damaged commit log entry (not the last one)") != NULL);
  stream_log_free(&a);
  stream_log_free(&r);
}
