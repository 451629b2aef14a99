#include "cli/show.h"

#include "h5/h5table.h"
#include "lake/lake.h"
#include "pipeline/pipeline.h"

#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Prints one value of column c, row i. */
static void print_cell(const column *c, int64_t i) {
  if (col_is_null(c, i)) {
    fputs("NULL", stdout);
    return;
  }
  size_t len;
  switch (c->type) {
  case COL_STRING: {
    const uint8_t *p = col_str(c, i, &len);
    fwrite(p, 1, len, stdout);
    break;
  }
  case COL_INT64:
    printf("%" PRId64, col_i64(c, i));
    break;
  case COL_DOUBLE:
    printf("%.17g", col_f64(c, i));
    break;
  case COL_BOOL:
    fputs(col_bool(c, i) ? "true" : "false", stdout);
    break;
  case COL_TIMESTAMP: {
    int64_t us = col_i64(c, i);
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s.%06lldZ", buf, (long long)(us % 1000000));
    break;
  }
  }
}

int show_table(const char *lake, const char *name, int64_t limit, ath_error *err) {
  char layer[64], table[256];
  const char *slash = strchr(name, '/');
  if (!slash || slash == name || !slash[1] || (size_t)(slash - name) >= sizeof layer)
    return ath_fail(err, ATH_EUSAGE, "'%s': name a table as LAYER/TABLE, e.g. gold/avg_stats",
                    name);
  snprintf(layer, sizeof layer, "%.*s", (int)(slash - name), name);
  snprintf(table, sizeof table, "%s", slash + 1);
  int rc = lake_require(lake, layer, table, err);
  if (rc != ATH_OK) return rc;
  char dir[LAKE_PATH_MAX + 300], used[LAKE_PATH_MAX + 400];
  lake_table_dir(lake, layer, table, dir, sizeof dir);
  batch *b = NULL;
  rc = table_read_files(MPI_COMM_SELF, dir, table, &b, used, sizeof used, err);
  if (rc != ATH_OK) return rc;
  printf("%s/%s: %lld rows\n", layer, table, (long long)b->nrows);
  for (int k = 0; k < b->ncols; k++)
    printf("  %-24s %-10s %s\n", b->cols[k].name, col_type_name(b->cols[k].type),
           b->cols[k].nullable ? "nullable" : "not null");
  for (int k = 0; k < b->ncols; k++)
    printf("%s%s", k ? "\t" : "\n", b->cols[k].name);
  putchar('\n');
  for (int64_t i = 0; i < b->nrows && i < limit; i++) {
    for (int k = 0; k < b->ncols; k++) {
      if (k) putchar('\t');
      print_cell(&b->cols[k], i);
    }
    putchar('\n');
  }
  batch_free(b);
  return ATH_OK;
}
