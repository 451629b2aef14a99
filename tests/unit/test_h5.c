/* Unit tests of the HDF5 table module on MPI_COMM_SELF (MPI as a singleton, no mpirun):
 * round trips through many small collective rounds, and the errors for bad column names,
 * missing files, foreign files and damaged tables. The multi-rank cases are in
 * tests/integration/h5_roundtrip.sh. */
#include "test.h"

#include "core/batch.h"
#include "h5/h5table.h"
#include "h5/h5util.h" /* plain HDF5 calls to damage files on purpose */

#include <dirent.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A small table: a nullable string, a non-null int64, a nullable double, a bool. */
static batch *small_batch(int64_t rows) {
  const field_def f[] = {{"name", COL_STRING, true},
                         {"id", COL_INT64, false},
                         {"h", COL_DOUBLE, true},
                         {"b", COL_BOOL, false}};
  batch *b = batch_new(f, 4);
  for (int64_t i = 0; i < rows; i++) {
    char s[32];
    int n = snprintf(s, sizeof s, "row-%lld-%s", (long long)i, i % 3 ? "x" : "");
    if (i % 4 == 1)
      col_append_null(&b->cols[0]);
    else
      col_append_str(&b->cols[0], s, (size_t)n);
    col_append_i64(&b->cols[1], i * 1000003);
    if (i % 5 == 2)
      col_append_null(&b->cols[2]);
    else
      col_append_f64(&b->cols[2], (double)i / 7);
    col_append_bool(&b->cols[3], i & 1);
  }
  batch_sync_rows(b);
  return b;
}

static const char *tmp_path(const char *name) {
  static char buf[8][512];
  static int k;
  char *p = buf[k++ % 8];
  snprintf(p, 512, "%s/%s", test_tmpdir(), name);
  return p;
}

static void check_same(const batch *a, const batch *b) {
  CHECK_INT(b->nrows, a->nrows);
  CHECK_INT(b->ncols, a->ncols);
  for (int k = 0; k < a->ncols && k < b->ncols; k++) {
    const column *x = &a->cols[k], *y = &b->cols[k];
    CHECK_STR(y->name, x->name);
    CHECK_INT(y->null_count, x->null_count);
    CHECK_MEM(y->valid, (size_t)y->n, x->valid, (size_t)x->n);
    if (x->type == COL_STRING) {
      CHECK_MEM(y->offsets, (size_t)(y->n + 1) * 8, x->offsets, (size_t)(x->n + 1) * 8);
      CHECK_MEM(y->bytes, y->nbytes, x->bytes, x->nbytes);
    } else {
      size_t w = col_type_width(x->type);
      CHECK_MEM(y->values, (size_t)y->n * w, x->values, (size_t)x->n * w);
    }
  }
}

/* Writes b to path on MPI_COMM_SELF; returns the status. */
static int write_self(const char *path, const batch *b, ath_error *err) {
  return h5_write_table(MPI_COMM_SELF, path, b, NULL, NULL, 0, err);
}

TEST(h5_roundtrip_in_small_pieces) {
  test_mpi_init();
  h5_io io = {.piece_bytes = 3}; /* 1 element per round for 8-byte values */
  batch *b = small_batch(37), *got = NULL;
  ath_error err = {0};
  const char *path = tmp_path("pieces.h5");
  CHECK_INT(h5_write_table_with(MPI_COMM_SELF, path, b, NULL, NULL, 0, NULL, &io, &err), ATH_OK);
  CHECK_INT(h5_read_table_with(MPI_COMM_SELF, path, &io, &got, &err), ATH_OK);
  if (got) check_same(b, got);
  batch_free(got);
  batch_free(b);
  CHECK_STR(err.msg, "");
}

/* The file type of /name/offsets: its size in bytes, or -1. */
static int offsets_width(const char *path) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = f >= 0 ? H5Dopen2(f, "/name/offsets", H5P_DEFAULT) : -1;
  hid_t t = d >= 0 ? H5Dget_type(d) : -1;
  int w = t >= 0 ? (int)H5Tget_size(t) : -1;
  if (t >= 0) H5Tclose(t);
  if (d >= 0) H5Dclose(d);
  if (f >= 0) H5Fclose(f);
  return w;
}

/* String offsets are int32 in the file where the column's bytes fit (SPEC §5), int64 above the
 * limit (lowered here to 100 bytes); both read back the same, also in small pieces. */
TEST(h5_offsets_int32_where_they_fit) {
  test_mpi_init();
  batch *small = small_batch(5), *big = small_batch(200), *got = NULL;
  ath_error err = {0};
  const char *path = tmp_path("narrow.h5");
  for (int pieces = 0; pieces < 2; pieces++) {
    h5_io io = {.piece_bytes = pieces ? 5 : 0, .int32_offsets_below = 100};
    for (int k = 0; k < 2; k++) {
      batch *b = k ? big : small; /* 5 rows: under 100 bytes; 200 rows: over */
      CHECK_INT(h5_write_table_with(MPI_COMM_SELF, path, b, NULL, NULL, 0, NULL, &io, &err),
                ATH_OK);
      CHECK_INT(offsets_width(path), k ? 8 : 4);
      CHECK_INT(h5_read_table_with(MPI_COMM_SELF, path, &io, &got, &err), ATH_OK);
      if (got) check_same(b, got);
      batch_free(got);
      got = NULL;
    }
  }
  CHECK_INT(write_self(path, big, &err), ATH_OK); /* the default limit: 2^31 */
  CHECK_INT(offsets_width(path), 4);
  batch_free(small);
  batch_free(big);
  CHECK_STR(err.msg, "");
}

/* A side job that counts its runs and fails when told to. */
typedef struct side_count {
  int runs;
  bool fail;
} side_count;

static int count_side(void *arg, ath_error *err) {
  side_count *c = arg;
  c->runs++;
  return c->fail ? ath_fail(err, ATH_ERR, "side job failed") : ATH_OK;
}

/* The side job runs exactly once whatever happens; its status is its own, the file's is the
 * file's. */
TEST(h5_side_job_runs_once) {
  test_mpi_init();
  batch *b = small_batch(11), *got = NULL;
  const char *path = tmp_path("side.h5");
  for (int fail = 0; fail < 2; fail++) {
    side_count cnt = {.fail = fail};
    ath_error serr = {0}, err = {0};
    h5_side_job side = {.run = count_side, .arg = &cnt, .err = &serr};
    CHECK_INT(h5_write_table_with(MPI_COMM_SELF, path, b, NULL, NULL, 0, &side, NULL, &err),
              ATH_OK);
    CHECK_INT(cnt.runs, 1);
    CHECK_INT(side.status, fail ? ATH_ERR : ATH_OK);
    CHECK_STR(serr.msg, fail ? "side job failed" : "");
    CHECK_INT(h5_read_table(MPI_COMM_SELF, path, &got, &err), ATH_OK);
    if (got) check_same(b, got);
    batch_free(got);
    got = NULL;
  }
  /* A file that cannot be written (bad column name) still runs the side job once. */
  field_def f = {"a/b", COL_INT64, false};
  batch *bad = batch_new(&f, 1);
  side_count cnt = {0};
  ath_error serr = {0}, err = {0};
  h5_side_job side = {.run = count_side, .arg = &cnt, .err = &serr};
  CHECK_INT(h5_write_table_with(MPI_COMM_SELF, path, bad, NULL, NULL, 0, &side, NULL, &err),
            ATH_ERR);
  CHECK_INT(cnt.runs, 1);
  CHECK_INT(side.status, ATH_OK);
  batch_free(bad);
  batch_free(b);
}

TEST(h5_read_info_schema) {
  test_mpi_init();
  batch *b = small_batch(5);
  ath_error err = {0};
  const char *path = tmp_path("info.h5");
  CHECK_INT(write_self(path, b, &err), ATH_OK);
  field_def *f = NULL;
  int nf = 0;
  int64_t rows = 0;
  CHECK_INT(h5_read_info(path, &f, &nf, &rows, &err), ATH_OK);
  CHECK_INT(nf, 4);
  CHECK_INT(rows, 5);
  if (nf == 4) {
    CHECK_STR(f[0].name, "name");
    CHECK_INT(f[0].type, COL_STRING);
    CHECK(f[0].nullable);
    CHECK_STR(f[3].name, "b");
    CHECK_INT(f[3].type, COL_BOOL);
    CHECK(!f[3].nullable);
  }
  h5_free_fields(f, nf);
  batch_free(b);
}

TEST(h5_bad_column_names) {
  test_mpi_init();
  const char *bad[] = {"a/b", "_partitions", "", ".hidden"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    field_def f = {bad[i], COL_INT64, false};
    batch *b = batch_new(&f, 1);
    ath_error err = {0};
    CHECK_INT(write_self(tmp_path("names.h5"), b, &err), ATH_ERR);
    CHECK(strstr(err.msg, "cannot be stored in HDF5") != NULL);
    batch_free(b);
  }
}

TEST(h5_missing_file) {
  test_mpi_init();
  const char *path = tmp_path("nothing-here.h5");
  batch *got = NULL;
  ath_error err = {0};
  CHECK_INT(h5_read_table(MPI_COMM_SELF, path, &got, &err), ATH_ERR);
  CHECK(got == NULL);
  CHECK(strstr(err.msg, path) != NULL);
  field_def *f = NULL;
  int nf = 7;
  int64_t rows = 7;
  ath_error_clear(&err);
  CHECK_INT(h5_read_info(path, &f, &nf, &rows, &err), ATH_ERR);
  CHECK(f == NULL && nf == 0);
  CHECK(strstr(err.msg, "open file failed") != NULL);
}

/* Writes a 9-row table, then lets `damage` modify the file with plain HDF5 calls. */
static const char *damaged(const char *name, void (*damage)(hid_t file)) {
  batch *b = small_batch(9);
  ath_error err = {0};
  const char *path = tmp_path(name);
  CHECK_INT(write_self(path, b, &err), ATH_OK);
  batch_free(b);
  hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  CHECK(file >= 0);
  damage(file);
  H5Fclose(file);
  return path;
}

static void foreign_format(hid_t file) {
  CHECK(H5Adelete(file, "format") >= 0);
}

static void decreasing_offsets(hid_t file) {
  hid_t d = H5Dopen2(file, "/name/offsets", H5P_DEFAULT);
  int64_t v[10] = {0, 50, 3, 60, 70, 80, 90, 100, 110, 120};
  CHECK(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
  H5Dclose(d);
}

static void short_values(hid_t file) {
  CHECK(H5Ldelete(file, "/id/values", H5P_DEFAULT) >= 0);
  hid_t g = H5Gopen2(file, "id", H5P_DEFAULT);
  hid_t d = h5u_create_dataset(g, "values", H5T_STD_I64LE, 4);
  CHECK(d >= 0);
  H5Dclose(d);
  H5Gclose(g);
}

TEST(h5_not_a_table) {
  test_mpi_init();
  const char *path = damaged("foreign.h5", foreign_format);
  field_def *f = NULL;
  int nf = 0;
  int64_t rows = 0;
  ath_error err = {0};
  CHECK_INT(h5_read_info(path, &f, &nf, &rows, &err), ATH_ERR);
  CHECK(strstr(err.msg, "not an athlete table") != NULL);
}

TEST(h5_damaged_offsets) {
  test_mpi_init();
  const char *path = damaged("offsets.h5", decreasing_offsets);
  batch *got = NULL;
  ath_error err = {0};
  CHECK_INT(h5_read_table(MPI_COMM_SELF, path, &got, &err), ATH_ERR);
  CHECK(got == NULL);
  CHECK(strstr(err.msg, "/name/offsets: decreasing at row 2") != NULL);
}

TEST(h5_wrong_dataset_length) {
  test_mpi_init();
  const char *path = damaged("short.h5", short_values);
  batch *got = NULL;
  ath_error err = {0};
  CHECK_INT(h5_read_table(MPI_COMM_SELF, path, &got, &err), ATH_ERR);
  CHECK(strstr(err.msg, "/id/values: 4 elements, expected 9") != NULL);
  batch_free(got);
}

/* The pid of this process's only child running this program (the helper; MPI's singleton
 * start leaves an orted child too), -1 when there is none, -2 when there are several. */
static pid_t only_child(void) {
  char self[64] = "", want[80];
  FILE *me = fopen("/proc/self/stat", "r");
  if (me && fscanf(me, "%*d %63s", self) != 1) self[0] = '\0';
  if (me) fclose(me);
  snprintf(want, sizeof want, "%s ", self); /* "(comm) " */
  pid_t found = -1;
  DIR *d = opendir("/proc");
  for (struct dirent *e; d && (e = readdir(d));) {
    char path[300], stat[512] = "";
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *f = e->d_name[0] >= '1' && e->d_name[0] <= '9' ? fopen(path, "r") : NULL;
    if (!f) continue;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *p = strrchr(stat, ')'); /* "pid (comm) state ppid ..." */
    int ppid = 0;
    char state = 0;
    const char *comm = strchr(stat, '(');
    if (p && comm && strncmp(comm, want, strlen(want)) == 0 &&
        sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid())
      found = found < 0 ? (pid_t)atoi(e->d_name) : (pid_t)-2;
  }
  if (d) closedir(d);
  return found;
}

/* Kills pid and waits (up to 5 s) until it is a zombie: its pipes are closed then. */
static void kill_and_wait(pid_t pid) {
  kill(pid, SIGKILL);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  for (int i = 0; i < 500; i++) {
    char stat[512] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
    if (f) fclose(f);
    stat[n] = '\0';
    const char *p = strrchr(stat, ')');
    if (!p || p[2] == 'Z') return;
    usleep(10000);
  }
}

/* Writes and reads back b at path; checks the helper made it (or not). */
static void write_check(const char *path, const batch *b, bool by_helper) {
  long before = h5_helper_files();
  ath_error err = {0};
  batch *got = NULL;
  CHECK_INT(write_self(path, b, &err), ATH_OK);
  CHECK_STR(err.msg, "");
  CHECK_INT(h5_helper_files(), before + by_helper);
  CHECK_INT(h5_read_table(MPI_COMM_SELF, path, &got, &err), ATH_OK);
  if (got) check_same(b, got);
  batch_free(got);
}

/* The creation helper: it creates the files; after a failed creation it leaves and the files are
 * created by forking, with the same outcome; a new one can be started; a helper killed between
 * files is noticed at the next file (no SIGPIPE, no error), which is then created by forking. */
TEST(h5_helper_and_its_loss) {
  test_mpi_init();
  batch *b = small_batch(23);
  ath_error err = {0};
  CHECK_INT(h5_helper_start(), 0);
  write_check(tmp_path("helper1.h5"), b, true);
  CHECK_INT(write_self(tmp_path("no/such/dir/t.h5"), b, &err), ATH_ERR);
  CHECK(strstr(err.msg, "no/such/dir/t.h5: create file failed (rank 0)") != NULL);
  CHECK_INT(only_child(), -1); /* it left, and was reaped */
  write_check(tmp_path("helper2.h5"), b, false);
  CHECK_INT(h5_helper_start(), 0);
  write_check(tmp_path("helper3.h5"), b, true);
  pid_t helper = only_child();
  CHECK(helper > 0);
  if (helper > 0) kill_and_wait(helper);
  write_check(tmp_path("helper4.h5"), b, false);
  CHECK_INT(only_child(), -1);
  batch_free(b);
}
