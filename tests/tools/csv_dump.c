/* csv_dump FILE [REQUIRED_COLUMN...]: reads FILE with csv_read_table on every rank and prints,
 * on rank 0, a canonical text form that does not depend on the rank count:
 *   header<TAB>name<TAB>name...
 *   row<TAB>field<TAB>field...                      (all ranks' rows, sorted bytewise)
 *   reject<TAB>line<TAB>offset<TAB>reason<TAB>raw   (sorted bytewise)
 *   total<TAB>records<TAB>rejects<TAB>lines
 * A field is \N when null; otherwise backslash, tab, LF and CR are written \\ \t \n \r.
 * On error it prints "error<TAB>message" on every rank's stderr and exits with the status. */
#include "csv/csv_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text {
  char *p;
  size_t len, cap;
} text;

static void put(text *t, const void *s, size_t n) {
  grow_array((void **)&t->p, &t->cap, t->len + n + 1, 1);
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = '\0';
}

static void put_s(text *t, const char *s) {
  put(t, s, strlen(s));
}

/* Writes one value escaped as described above. */
static void put_escaped(text *t, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *e = s[i] == '\\'   ? "\\\\"
                    : s[i] == '\t' ? "\\t"
                    : s[i] == '\n' ? "\\n"
                    : s[i] == '\r' ? "\\r"
                                   : NULL;
    if (e)
      put_s(t, e);
    else
      put(t, s + i, 1);
  }
}

static void put_cell(text *t, const column *c, int64_t i) {
  put_s(t, "\t");
  if (col_is_null(c, i)) {
    put_s(t, "\\N");
  } else if (c->type == COL_STRING) {
    size_t n;
    const uint8_t *s = col_str(c, i, &n);
    put_escaped(t, s, n);
  } else {
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)col_i64(c, i));
    put_s(t, num);
  }
}

/* One line per row of b, each starting with `tag`. */
static void put_rows(text *t, const batch *b, const char *tag, int skip_first_col) {
  for (int64_t i = 0; i < b->nrows; i++) {
    put_s(t, tag);
    for (int j = skip_first_col; j < b->ncols; j++)
      put_cell(t, &b->cols[j], i);
    put_s(t, "\n");
  }
}

static int cmp_lines(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Gathers every rank's lines on rank 0 and prints them sorted. */
static void print_sorted(const text *t, int rank, int nranks) {
  int len = (int)t->len, *lens = NULL, *displs = NULL;
  char *all = NULL;
  if (rank == 0) lens = calloc((size_t)nranks, sizeof *lens);
  MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
  size_t total = 0;
  if (rank == 0) {
    displs = calloc((size_t)nranks, sizeof *displs);
    for (int r = 0; r < nranks; r++)
      displs[r] = (int)total, total += (size_t)lens[r];
    all = malloc(total + 1);
  }
  MPI_Gatherv(t->p ? t->p : "", len, MPI_CHAR, all, lens, displs, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    all[total] = '\0';
    size_t n = 0, cap = 0;
    char **lines = NULL;
    for (char *s = strtok(all, "\n"); s; s = strtok(NULL, "\n")) {
      grow_array((void **)&lines, &cap, n + 1, sizeof *lines);
      lines[n++] = s;
    }
    if (n) qsort(lines, n, sizeof *lines, cmp_lines);
    for (size_t i = 0; i < n; i++)
      puts(lines[i]);
    free(lines);
  }
  free(all);
  free(lens);
  free(displs);
}

/* The sink of CSV_DUMP_SINK=1: appends every row to *ctx, checking that the positions come
 * in file order. */
static int collect(void *ctx, const batch *rows, const csv_positions *pos, ath_error *err) {
  batch **all = ctx;
  if (!*all) *all = batch_new_like(rows);
  if (pos->n != (size_t)rows->nrows) return ath_fail(err, ATH_ERR, "positions != rows");
  for (size_t i = 1; i < pos->n; i++)
    if (pos->offset[i] <= pos->offset[i - 1] || pos->line[i] <= pos->line[i - 1])
      return ath_fail(err, ATH_ERR, "positions out of order");
  for (int64_t i = 0; i < rows->nrows; i++)
    batch_append_row(*all, rows, i);
  return ATH_OK;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, nranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
  if (argc < 2) {
    if (rank == 0) fprintf(stderr, "usage: csv_dump FILE [REQUIRED_COLUMN...]\n");
    MPI_Finalize();
    return 2;
  }
  const char *path = argv[1], *slash = strrchr(path, '/');
  batch *rows = NULL, *rejects = NULL;
  csv_stats st;
  ath_error err = {0};
  /* ATHLETE_READ_WINDOW (bytes): the tests use a few bytes to put window ends everywhere.
   * CSV_DUMP_SINK=1: the rows come through a sink, window by window. */
  const char *w = getenv("ATHLETE_READ_WINDOW"), *sink_env = getenv("CSV_DUMP_SINK");
  batch *got = NULL;
  csv_sink sink = {collect, &got};
  csv_read_opts o = {.display_name = slash ? slash + 1 : path,
                     .required = (const char *const *)argv + 2,
                     .nrequired = argc - 2,
                     .window = w ? (size_t)strtoull(w, NULL, 10) : 0,
                     .sink = sink_env && *sink_env == '1' ? &sink : NULL};
  int rc = csv_read_table(MPI_COMM_WORLD, path, &o, &rows, &rejects, &st, &err);
  if (rc == ATH_OK && o.sink) {
    if (rows->nrows != 0) rc = ath_fail(&err, ATH_ERR, "rows left behind by the sink");
    if (got) {
      batch_free(rows);
      rows = got;
    }
  }
  if (rc != ATH_OK) {
    fprintf(stderr, "error\t%s\n", err.msg);
    MPI_Finalize();
    return rc;
  }
  if (rank == 0) {
    printf("header");
    for (int j = 0; j < rows->ncols; j++)
      printf("\t%s", rows->cols[j].name);
    printf("\n");
  }
  fflush(stdout);
  text t = {0};
  put_rows(&t, rows, "row", 0);
  put_rows(&t, rejects, "reject", 1);
  print_sorted(&t, rank, nranks);
  int64_t mine[2] = {st.records, st.rejects}, sum[2];
  MPI_Reduce(mine, sum, 2, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0)
    printf("total\t%lld\t%lld\t%lld\n", (long long)sum[0], (long long)sum[1], (long long)st.lines);
  free(t.p);
  batch_free(rows);
  batch_free(rejects);
  MPI_Finalize();
  return 0;
}
