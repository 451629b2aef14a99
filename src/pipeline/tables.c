#include "pipeline/pipeline.h"

#include "h5/h5table.h"
#include "lake/lake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const pipeline_tables[NTABLES] = {TABLE_BIO, TABLE_RESULTS};

void layer_tables_free(layer_tables *l) {
  for (int i = 0; i < NTABLES; i++) {
    batch_free(l->t[i]);
    l->t[i] = NULL;
  }
}

void pipeline_opts_default(pipeline_opts *o) {
  memset(o, 0, sizeof *o);
  o->lake = "lake";
  o->parquet = true;
  o->hdf5 = true;
  pq_options_default(&o->pq);
  o->max_reject_fraction = 0.05;
  o->progress = PROGRESS_AUTO;
  silver_options_default(&o->silver);
  o->round_bytes = (size_t)64 << 20;
  const char *sde = getenv("SOURCE_DATE_EPOCH");
  if (sde && *sde) {
    o->timestamp_us = strtoll(sde, NULL, 10) * 1000000;
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->timestamp_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
  }
}

void pipeline_ctx_init(pipeline_ctx *c, MPI_Comm comm, const pipeline_opts *o,
                       const char *command) {
  memset(c, 0, sizeof *c);
  c->comm = comm;
  MPI_Comm_rank(comm, &c->rank);
  MPI_Comm_size(comm, &c->size);
  c->o = o;
  c->command = command;
  c->rep.started = ath_now();
}

/* Writes this rank's Parquet part (if it has rows, or if it is rank 0 and nobody has any). */
static int write_parquet_part(pipeline_ctx *c, const lake_txn *t, const batch *local, int64_t total,
                              int *wrote, ath_error *err) {
  *wrote = local->nrows > 0 || (total == 0 && c->rank == 0);
  if (!*wrote) return ATH_OK;
  char path[LAKE_PATH_MAX + 32];
  lake_part_file(t, c->rank, path, sizeof path);
  return pq_write_batch(path, local, &c->o->pq, err);
}

int pipeline_write_table(pipeline_ctx *c, const char *layer, const char *table, const batch *local,
                         bool single_writer, ath_error *err) {
  double t0 = ath_now();
  lake_txn t;
  int rc = lake_begin(c->comm, c->o->lake, layer, table, &t, err);
  if (rc != ATH_OK) return rc;
  /* With a single writer the other ranks contribute no rows (and write nothing). */
  batch *none = single_writer && c->rank != 0 ? batch_new_like(local) : NULL;
  const batch *mine = none ? none : local;
  int64_t total = 0;
  MPI_Allreduce(&mine->nrows, &total, 1, MPI_INT64_T, MPI_SUM, c->comm);

  ath_error local_err = {0};
  int wrote = 0;
  if (c->o->parquet) rc = write_parquet_part(c, &t, mine, total, &wrote, &local_err);
  double t1 = ath_now();
  if (c->o->hdf5) {
    char path[LAKE_PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s.h5", t.tmp_dir, table);
    const char *keys[] = {"layer", "table"}, *vals[] = {layer, table};
    /* Every rank must take part in a collective write, even after a local Parquet failure. */
    int hrc = ATH_OK;
    if (!single_writer)
      hrc = h5_write_table(c->comm, path, mine, keys, vals, 2, &local_err);
    else if (c->rank == 0)
      hrc = h5_write_table(MPI_COMM_SELF, path, mine, keys, vals, 2, &local_err);
    if (rc == ATH_OK) rc = hrc;
  }
  double t2 = ath_now();
  char name[64];
  snprintf(name, sizeof name, "%s.parquet.%s", layer, table);
  report_timing(c, name, t1 - t0);
  snprintf(name, sizeof name, "%s.hdf5.%s", layer, table);
  report_timing(c, name, t2 - t1);

  char formats[32];
  snprintf(formats, sizeof formats, "%s%s%s", c->o->parquet ? "parquet" : "",
           c->o->parquet && c->o->hdf5 ? "," : "", c->o->hdf5 ? "hdf5" : "");
  lake_manifest_info info = {.formats = formats, .compression = pq_codec_name(c->o->pq.codec)};
  rc = lake_commit(c->comm, &t, rc, &local_err,
                   single_writer ? (c->rank == 0 ? total : 0) : mine->nrows, wrote, mine, &info,
                   err);
  batch_free(none);
  return rc;
}

int pipeline_read_table(pipeline_ctx *c, const char *layer, const char *table, batch **out,
                        ath_error *err) {
  *out = NULL;
  int rc = lake_require(c->o->lake, layer, table, err);
  char path[LAKE_PATH_MAX + 300];
  lake_table_dir(c->o->lake, layer, table, path, sizeof path);
  size_t n = strlen(path);
  snprintf(path + n, sizeof path - n, "/%s.h5", table);
  if (rc == ATH_OK && access(path, R_OK) != 0)
    rc = ath_fail(err, ATH_ERR,
                  "%s: missing: %s/%s was written without the hdf5 format, which the stage "
                  "commands read (rerun the previous stage with --formats including hdf5)",
                  path, layer, table);
  rc = lake_agree(c->comm, rc, err);
  if (rc != ATH_OK) return rc;
  double t0 = ath_now();
  rc = h5_read_table(c->comm, path, out, err);
  char name[64];
  snprintf(name, sizeof name, "%s.read.%s", layer, table);
  report_timing(c, name, ath_now() - t0);
  return rc;
}
