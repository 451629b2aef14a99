#include "cli/show.h"

#include "core/json.h"
#include "h5/h5table.h"
#include "kafka/json_row.h"
#include "lake/lake.h"
#include "pipeline/pipeline.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
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

static void csv_field(const uint8_t *p, size_t n) {
  bool quote = false;
  for (size_t i = 0; i < n && !quote; i++)
    quote = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
  if (!quote) {
    fwrite(p, 1, n, stdout);
    return;
  }
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '"') putchar('"');
    putchar(p[i]);
  }
  putchar('"');
}

/* One cell for csv or json (the text of a number, a timestamp as ISO text). */
static void print_value(const column *c, int64_t i, bool json, char **buf, size_t *cap) {
  char t[64];
  size_t len = 0;
  if (col_is_null(c, i)) {
    if (json) fputs("null", stdout);
    return;
  }
  switch (c->type) {
  case COL_STRING: {
    const uint8_t *p = col_str(c, i, &len);
    if (!json) {
      csv_field(p, len);
      return;
    }
    size_t n = 0;
    json_append_string(buf, &n, cap, (const char *)p, len);
    fwrite(*buf, 1, n, stdout);
    return;
  }
  case COL_INT64:
    printf("%" PRId64, col_i64(c, i));
    return;
  case COL_DOUBLE:
    if (json && !isfinite(col_f64(c, i))) {
      fputs("null", stdout);
      return;
    }
    json_number_text(col_f64(c, i), t, sizeof t);
    fputs(t, stdout);
    return;
  case COL_BOOL:
    fputs(col_bool(c, i) ? "true" : "false", stdout);
    return;
  case COL_TIMESTAMP:
    json_timestamp_text(col_i64(c, i), t, sizeof t);
    printf(json ? "\"%s\"" : "%s", t);
    return;
  }
}

static void print_csv(const batch *b, int64_t limit) {
  for (int k = 0; k < b->ncols; k++) {
    if (k) putchar(',');
    csv_field((const uint8_t *)b->cols[k].name, strlen(b->cols[k].name));
  }
  fputs("\r\n", stdout);
  for (int64_t i = 0; i < b->nrows && i < limit; i++) {
    for (int k = 0; k < b->ncols; k++) {
      if (k) putchar(',');
      print_value(&b->cols[k], i, false, NULL, NULL);
    }
    fputs("\r\n", stdout);
  }
}

static void print_json(const batch *b, int64_t limit) {
  char *buf = NULL;
  size_t cap = 0;
  putchar('[');
  for (int64_t i = 0; i < b->nrows && i < limit; i++) {
    fputs(i ? ",\n{" : "\n{", stdout);
    for (int k = 0; k < b->ncols; k++) {
      size_t n = 0;
      json_append_string(&buf, &n, &cap, b->cols[k].name, strlen(b->cols[k].name));
      printf("%s%.*s:", k ? "," : "", (int)n, buf);
      print_value(&b->cols[k], i, true, &buf, &cap);
    }
    putchar('}');
  }
  fputs("\n]\n", stdout);
  free(buf);
}

int show_table(const char *lake, const char *name, int64_t limit, const char *format,
               ath_error *err) {
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
  if (strcmp(format, "table") != 0) {
    (strcmp(format, "csv") == 0 ? print_csv : print_json)(b, limit);
    batch_free(b);
    return ATH_OK;
  }
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
