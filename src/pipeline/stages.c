/* The three stages: landing → bronze, bronze → silver, silver → gold. */
#include "pipeline/pipeline.h"
#include "core/agree.h"

#include "csv/csv_reader.h"
#include "lake/lake.h"
#include "pipeline/progress.h"
#include "shuffle/shuffle.h"
#include "transform/gold.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Exit code 3 when more than --max-reject-fraction of a table's records were rejected. */
static int check_rejects(pipeline_ctx *c, const char *file, int64_t good, int64_t bad,
                         ath_error *err) {
  int64_t total = good + bad;
  if (total == 0 || (double)bad <= c->o->max_reject_fraction * (double)total) return ATH_OK;
  return ath_fail(err, ATH_EREJECTS,
                  "%s: %lld of %lld records (%.2f%%) rejected, above --max-reject-fraction %g; "
                  "see %s/rejects/",
                  file, (long long)bad, (long long)total, 100.0 * (double)bad / (double)total,
                  c->o->max_reject_fraction, c->o->lake);
}

/* Reads one landing CSV into bronze rows, commits its rejects and (unless too many records
 * were rejected) the bronze table. */
static int bronze_table(pipeline_ctx *c, int ti, const char *path, batch **rows, ath_error *err) {
  const table_desc *d = &pipeline_table_descs[ti];
  const char *table = d->name;
  const char *slash = strrchr(path, '/');
  const char *display = slash ? slash + 1 : path;
  double t0 = ath_now();
  batch *rejects = NULL;
  csv_stats st = {0};
  int64_t size = pipeline_note_input(c, table, path);
  char label[160];
  snprintf(label, sizeof label, "bronze: read %s", display);
  csv_read_opts ro = {.display_name = path,
                      .required = d->required,
                      .nrequired = d->nrequired,
                      .progress = progress_step(c, label, size > 0 ? size : 0, c->size)};
  int rc = csv_read_table(c->comm, path, &ro, rows, &rejects, &st, err);
  if (rc != ATH_OK) return rc;
  double t1 = ath_now();
  char name[64];
  snprintf(name, sizeof name, "bronze.read.%s", table);
  report_timing(c, name, t1 - t0);
  int64_t good = pipeline_sum(c, st.records), bad = pipeline_sum(c, st.rejects);
  int64_t bytes = pipeline_sum(c, st.bytes);
  report_progress(c, "bronze: read %s: %lld rows, %lld rejected, %.1f MB in %.2f s (%.0f MB/s)",
                  display, (long long)good, (long long)bad, (double)bytes / 1e6, t1 - t0,
                  (double)bytes / 1e6 / (t1 - t0 > 1e-9 ? t1 - t0 : 1e-9));
  rc = pipeline_write_table(c, "rejects", table, rejects, false, NULL, err);
  batch_free(rejects);
  if (rc == ATH_OK) rc = check_rejects(c, display, good, bad, err);
  lake_stage_stats ls = {"bronze", good + bad, good, bad, 0, -1, -1};
  if (rc == ATH_OK) rc = pipeline_write_table(c, "bronze", table, *rows, false, &ls, err);
  stage_line *l = report_line(c, "bronze", table);
  l->rows_in = good + bad;
  l->rows_out = good;
  l->rejects = bad;
  l->bytes_in = bytes;
  l->seconds = ath_now() - t0;
  if (rc == ATH_OK)
    report_progress(c, "bronze: wrote %s/bronze/%s (%.2f s)", c->o->lake, table, ath_now() - t1);
  return rc;
}

int stage_landing_to_bronze(pipeline_ctx *c, layer_tables *out, ath_error *err) {
  char paths[NTABLES][4096];
  const char *names[NTABLES] = {NULL};
  int idx[NTABLES] = {0}, n = 0;
  for (int i = 0; i < NTABLES; i++)
    if (c->o->tables & (1u << i)) idx[n] = i, names[n++] = pipeline_tables[i];
  int rc = landing_resolve(c, names, n, paths, err);
  layer_tables got = {{NULL}};
  for (int k = 0; rc == ATH_OK && k < n; k++)
    rc = bronze_table(c, idx[k], paths[k], &got.t[idx[k]], err);
  if (rc == ATH_OK && out)
    *out = got;
  else
    layer_tables_free(&got);
  return rc;
}

/* Types, cleans and deduplicates one table. Consumes *bronze. */
static int silver_table(pipeline_ctx *c, int ti, batch **bronze, batch **silver, ath_error *err) {
  const char *table = pipeline_tables[ti];
  double t0 = ath_now();
  batch *rejects = csv_rejects_new();
  batch *typed = NULL, *dedup = NULL;
  int64_t dropped = 0, rows_in = pipeline_sum(c, (*bronze)->nrows);
  char label[160];
  snprintf(label, sizeof label, "silver: type and clean %s", table);
  progress_step(c, label, 0, 1);
  int rc = silver_transform(bronze, table, &c->o->silver, &typed, rejects, err);
  rc = ath_agree(c->comm, rc, err);
  double t1 = ath_now();
  char name[64];
  snprintf(name, sizeof name, "silver.transform.%s", table);
  report_timing(c, name, t1 - t0);
  snprintf(label, sizeof label, "silver: deduplicate %s", table);
  progress_step(c, label, 0, 1);
  if (rc == ATH_OK) rc = silver_dedupe(c->comm, typed, c->o->round_bytes, &dropped, err);
  if (rc == ATH_OK)
    dedup = typed;
  else
    batch_free(typed);
  snprintf(name, sizeof name, "silver.dedupe.%s", table);
  report_timing(c, name, ath_now() - t1);
  int64_t nrej = pipeline_sum(c, rejects->nrows);
  char rej_table[128];
  snprintf(rej_table, sizeof rej_table, "silver_%s", table);
  if (rc == ATH_OK) rc = pipeline_write_table(c, "rejects", rej_table, rejects, false, NULL, err);
  batch_free(rejects);
  int64_t rows_out = 0, dupes = 0;
  if (rc == ATH_OK) {
    rows_out = pipeline_sum(c, dedup->nrows);
    dupes = pipeline_sum(c, dropped);
  }
  lake_stage_stats ls = {"silver", rows_in, rows_out, nrej, dupes, -1, -1};
  if (rc == ATH_OK) rc = pipeline_write_table(c, "silver", table, dedup, false, &ls, err);
  stage_line *l = report_line(c, "silver", table);
  l->rows_in = rows_in;
  l->rejects = nrej;
  if (rc == ATH_OK) {
    l->rows_out = rows_out;
    l->dropped = dupes;
    report_progress(c, "silver: %s: %lld rows in, %lld rejected, %lld duplicates dropped, %lld out",
                    table, (long long)rows_in, (long long)nrej, (long long)l->dropped,
                    (long long)l->rows_out);
  }
  l->seconds = ath_now() - t0;
  if (rc == ATH_OK)
    *silver = dedup;
  else
    batch_free(dedup);
  return rc;
}

int stage_bronze_to_silver(pipeline_ctx *c, layer_tables *in, layer_tables *out, ath_error *err) {
  layer_tables read = {{NULL}}, got = {{NULL}};
  int rc = ATH_OK;
  if (!in) {
    for (int i = 0; rc == ATH_OK && i < NTABLES; i++)
      rc = pipeline_read_table(c, "bronze", pipeline_tables[i], &read.t[i], err);
    in = &read;
  }
  for (int i = 0; rc == ATH_OK && i < NTABLES; i++)
    rc = silver_table(c, i, &in->t[i], &got.t[i], err);
  layer_tables_free(in);
  if (rc == ATH_OK && out)
    *out = got;
  else
    layer_tables_free(&got);
  return rc;
}

int stage_silver_to_gold(pipeline_ctx *c, layer_tables *in, batch **gold, ath_error *err) {
  layer_tables read = {{NULL}};
  int rc = ATH_OK;
  if (!in) {
    for (int i = 0; rc == ATH_OK && i < NTABLES; i++)
      rc = pipeline_read_table(c, "silver", pipeline_tables[i], &read.t[i], err);
    in = &read;
  }
  double t0 = ath_now();
  batch *g = NULL;
  gold_stats gs = {0};
  int64_t rows_in = 0;
  progress_step(c, "gold: join and aggregate", 0, 1);
  if (rc == ATH_OK) {
    rows_in = pipeline_sum(c, in->t[1]->nrows);
    rc = gold_compute(c->comm, in->t[1], in->t[0], c->o->timestamp_us, c->o->round_bytes, &g, &gs,
                      err);
  }
  layer_tables_free(in);
  report_timing(c, "gold.compute", ath_now() - t0);
  lake_stage_stats ls = {"gold", rows_in, gs.groups, 0, 0, gs.joined_rows, gs.results_without_bio};
  if (rc == ATH_OK) rc = pipeline_write_table(c, "gold", TABLE_GOLD, g, true, &ls, err);
  stage_line *l = report_line(c, "gold", TABLE_GOLD);
  l->rows_in = rows_in;
  l->rows_out = gs.groups;
  l->seconds = ath_now() - t0;
  c->rep.joined_rows = gs.joined_rows;
  c->rep.results_without_bio = gs.results_without_bio;
  if (rc == ATH_OK)
    report_progress(c, "gold: %lld joined rows, %lld results without a bio row, %lld groups",
                    (long long)gs.joined_rows, (long long)gs.results_without_bio,
                    (long long)gs.groups);
  if (rc == ATH_OK && gold)
    *gold = g;
  else
    batch_free(g);
  return rc;
}

/* The columns gold_compute reads: all that `run` keeps of silver once silver is written. */
static const char *const gold_inputs[NTABLES][5] = {
    {"athlete_id", "sex", "country_noc", "height", "weight"},
    {"athlete_id", "sport", "medal"},
};

/* `run` takes one table at a time from landing through silver, so a rank holds at most one
 * table's bronze, and keeps of silver only the columns gold needs: peak memory is about one
 * table's share, not the whole input's. The files are those the stage commands write. */
int pipeline_run(pipeline_ctx *c, batch **gold, ath_error *err) {
  char paths[NTABLES][4096];
  layer_tables silver = {{NULL}};
  int rc = landing_resolve(c, pipeline_tables, NTABLES, paths, err);
  for (int i = 0; rc == ATH_OK && i < NTABLES; i++) {
    batch *bronze = NULL;
    rc = bronze_table(c, i, paths[i], &bronze, err);
    if (rc == ATH_OK) rc = silver_table(c, i, &bronze, &silver.t[i], err);
    batch_free(bronze);
    if (rc == ATH_OK) batch_keep_columns(silver.t[i], gold_inputs[i], i == 0 ? 5 : 3);
  }
  if (rc == ATH_OK) return stage_silver_to_gold(c, &silver, gold, err);
  layer_tables_free(&silver);
  return rc;
}
