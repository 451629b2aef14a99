/* Progress lines, the end-of-run summary and --metrics (SPEC §8). Rank 0 speaks. */
#include "pipeline/pipeline.h"

#include "core/agree.h"
#include "core/json.h"
#include "pipeline/progress.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void report_timing(pipeline_ctx *c, const char *name, double seconds) {
  pipeline_report *r = &c->rep;
  for (int i = 0; i < r->ntimings; i++)
    if (strcmp(r->timing_names[i], name) == 0) {
      r->timing_seconds[i] += seconds;
      return;
    }
  if (r->ntimings == MAX_TIMINGS) return;
  snprintf(r->timing_names[r->ntimings], sizeof r->timing_names[0], "%s", name);
  r->timing_seconds[r->ntimings++] = seconds;
}

stage_line *report_line(pipeline_ctx *c, const char *stage, const char *table) {
  pipeline_report *r = &c->rep;
  if (r->nlines == MAX_STAGE_LINES) return &r->lines[MAX_STAGE_LINES - 1];
  stage_line *l = &r->lines[r->nlines++];
  memset(l, 0, sizeof *l);
  snprintf(l->stage, sizeof l->stage, "%s", stage);
  snprintf(l->table, sizeof l->table, "%s", table);
  return l;
}

static bool progress_on(const pipeline_ctx *c) {
  return c->rank == 0 && !c->o->quiet && c->o->progress != PROGRESS_NEVER;
}

static void print_line(void *line) {
  fputs(line, stderr);
}

void report_progress(pipeline_ctx *c, const char *fmt, ...) {
  if (!progress_on(c)) return;
  char line[1024];
  int k = snprintf(line, sizeof line, "athlete [%7.2fs] ", ath_now() - c->rep.started);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + k, sizeof line - (size_t)k - 1, fmt, ap);
  va_end(ap);
  strcat(line, "\n");
  progress_print_above(print_line, line);
}

/* Formats row i of column k of the gold batch into buf. */
static void cell(const column *col, int64_t i, char *buf, size_t n) {
  if (col_is_null(col, i)) {
    snprintf(buf, n, "NULL");
    return;
  }
  size_t len;
  switch (col->type) {
  case COL_STRING: {
    const uint8_t *p = col_str(col, i, &len);
    snprintf(buf, n, "%.*s", (int)(len < n - 1 ? len : n - 1), (const char *)p);
    break;
  }
  case COL_INT64:
  case COL_TIMESTAMP:
    snprintf(buf, n, "%" PRId64, col_i64(col, i));
    break;
  case COL_DOUBLE:
    snprintf(buf, n, "%.2f", col_f64(col, i));
    break;
  case COL_BOOL:
    snprintf(buf, n, "%s", col_bool(col, i) ? "true" : "false");
    break;
  }
}

static void print_gold_head(const batch *g, int64_t nrows) {
  int show = g->ncols > 7 ? 7 : g->ncols; /* the timestamp column is the same on every row */
  fprintf(stderr, "\nfirst rows of gold/%s (%lld rows):\n", TABLE_GOLD, (long long)nrows);
  for (int k = 0; k < show; k++)
    fprintf(stderr, "%-*s", k == 0 ? 22 : 13, g->cols[k].name);
  fputc('\n', stderr);
  for (int64_t i = 0; i < g->nrows && i < 10; i++) {
    for (int k = 0; k < show; k++) {
      char buf[64];
      cell(&g->cols[k], i, buf, k == 0 ? 21 : 12);
      fprintf(stderr, "%-*s", k == 0 ? 22 : 13, buf);
    }
    fputc('\n', stderr);
  }
}

static void print_summary(const pipeline_ctx *c, int status, int64_t rss) {
  const pipeline_report *r = &c->rep;
  fprintf(stderr,
          "\nathlete %s: %s on %d rank%s in %.2f s (peak RSS of the largest rank %.1f MB)\n",
          c->command, status == ATH_OK ? "done" : "FAILED", c->size, c->size == 1 ? "" : "s",
          ath_now() - r->started, (double)rss / 1e6);
  fprintf(stderr, "%-8s %-24s %12s %12s %10s %10s %9s\n", "stage", "table", "rows in", "rows out",
          "rejected", "dupes", "seconds");
  for (int i = 0; i < r->nlines; i++) {
    const stage_line *l = &r->lines[i];
    fprintf(stderr, "%-8s %-24s %12lld %12lld %10lld %10lld %9.2f\n", l->stage, l->table,
            (long long)l->rows_in, (long long)l->rows_out, (long long)l->rejects,
            (long long)l->dropped, l->seconds);
  }
  if (r->joined_rows || r->results_without_bio)
    fprintf(stderr, "gold: %lld joined rows; %lld result rows have no bio row (not an error)\n",
            (long long)r->joined_rows, (long long)r->results_without_bio);
}

static int write_metrics(const pipeline_ctx *c, int status, int64_t rss, const double *tmax,
                         ath_error *err) {
  const pipeline_report *r = &c->rep;
  FILE *f = fopen(c->o->metrics_path, "w");
  if (!f)
    return ath_fail(err, ATH_ERR, "cannot write --metrics %s: %s", c->o->metrics_path,
                    strerror(errno));
  fprintf(f, "{\n  \"command\": \"%s\",\n  \"version\": \"%s\",\n  \"ranks\": %d,\n", c->command,
          ATHLETE_VERSION, c->size);
  fprintf(f, "  \"status\": %d,\n  \"wall_seconds\": %.6f,\n  \"peak_rss_bytes_max_rank\": %lld,\n",
          status, ath_now() - r->started, (long long)rss);
  fprintf(f, "  \"joined_rows\": %lld,\n  \"results_without_bio\": %lld,\n  \"stages\": [",
          (long long)r->joined_rows, (long long)r->results_without_bio);
  for (int i = 0; i < r->nlines; i++) {
    const stage_line *l = &r->lines[i];
    fprintf(f,
            "%s\n    {\"stage\": \"%s\", \"table\": \"%s\", \"rows_in\": %lld, \"rows_out\": %lld, "
            "\"rejects\": %lld, \"duplicates\": %lld, \"bytes_in\": %lld, \"seconds\": %.6f}",
            i ? "," : "", l->stage, l->table, (long long)l->rows_in, (long long)l->rows_out,
            (long long)l->rejects, (long long)l->dropped, (long long)l->bytes_in, l->seconds);
  }
  fputs("\n  ],\n  \"steps_max_rank_seconds\": {", f);
  for (int i = 0; i < r->ntimings; i++) {
    fputs(i ? ",\n    " : "\n    ", f);
    json_write_cstr(f, r->timing_names[i]);
    fprintf(f, ": %.6f", tmax[i]);
  }
  fputs("\n  }\n}\n", f);
  if (fclose(f) != 0)
    return ath_fail(err, ATH_ERR, "cannot write --metrics %s: %s", c->o->metrics_path,
                    strerror(errno));
  return ATH_OK;
}

int64_t pipeline_sum(pipeline_ctx *c, int64_t v) {
  int64_t s = 0;
  ATH_MPI(MPI_Allreduce(&v, &s, 1, MPI_INT64_T, MPI_SUM, c->comm), &c->mpi_err);
  return s;
}

int report_finish(pipeline_ctx *c, int status, const batch *gold, ath_error *err) {
  progress_close();
  int64_t rss = ath_peak_rss_bytes(), rss_max = 0;
  ath_error *me = &c->mpi_err;
  ATH_MPI(MPI_Allreduce(&rss, &rss_max, 1, MPI_INT64_T, MPI_MAX, c->comm), me);
  /* Every rank records the same steps in the same order, so they reduce element-wise. */
  int n = c->rep.ntimings, nmin = 0;
  ATH_MPI(MPI_Allreduce(&n, &nmin, 1, MPI_INT, MPI_MIN, c->comm), me);
  double tmax[MAX_TIMINGS] = {0};
  ATH_MPI(MPI_Allreduce(c->rep.timing_seconds, tmax, nmin, MPI_DOUBLE, MPI_MAX, c->comm), me);
  int mrc = ath_agree(c->comm, me->code, me); /* on every rank, whatever the status */
  if (status == ATH_OK && mrc != ATH_OK) {
    *err = *me;
    status = mrc;
  }
  if (c->rank != 0) return status;
  if (!c->o->quiet) {
    print_summary(c, status, rss_max);
    if (status == ATH_OK && gold && gold->ncols > 0) {
      print_gold_head(gold, gold->nrows);
    }
  }
  if (c->o->metrics_path) {
    ath_error merr = {0};
    if (write_metrics(c, status, rss_max, tmax, &merr) != ATH_OK) {
      fprintf(stderr, "athlete: %s\n", merr.msg);
      if (status == ATH_OK) {
        *err = merr;
        status = ATH_ERR;
      }
    }
  }
  return status;
}
