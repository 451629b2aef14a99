#include "pipeline/pipeline.h"
#include "core/agree.h"

#include "h5/h5table.h"
#include "lake/lake.h"
#include "lake/stream.h"
#include "parquet/parquet.h"
#include "pipeline/progress.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const pipeline_tables[NTABLES] = {TABLE_BIO, TABLE_RESULTS};

static const char *const bio_required[] = {"athlete_id",  "name",         "sex",     "born",
                                           "height",      "weight",       "country", "country_noc",
                                           "description", "special_notes"};
static const char *const results_required[] = {"edition", "edition_id", "country_noc", "sport",
                                               "event",   "result_id",  "athlete",     "athlete_id",
                                               "pos",     "medal",      "isTeamSport"};
#define NELEMS(a) (int)(sizeof(a) / sizeof *(a))

const table_desc pipeline_table_descs[NTABLES] = {
    {TABLE_BIO, bio_required, NELEMS(bio_required), "athlete_id"},
    {TABLE_RESULTS, results_required, NELEMS(results_required), "athlete_id"},
};

const table_desc *table_desc_find(const char *name) {
  for (int i = 0; i < NTABLES; i++)
    if (strcmp(pipeline_table_descs[i].name, name) == 0) return &pipeline_table_descs[i];
  return NULL;
}

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
  o->tables = (1u << NTABLES) - 1;
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

/* The Parquet part as an HDF5 side job (no MPI inside), timed. */
typedef struct parquet_job {
  pipeline_ctx *c;
  const lake_txn *t;
  const batch *local;
  int64_t total;
  int wrote;
  double seconds;
} parquet_job;

static int run_parquet_job(void *arg, ath_error *err) {
  parquet_job *j = arg;
  double t0 = ath_now();
  int rc = write_parquet_part(j->c, j->t, j->local, j->total, &j->wrote, err);
  j->seconds = ath_now() - t0;
  return rc;
}

int64_t pipeline_note_input(pipeline_ctx *c, const char *table, const char *path) {
  for (int i = 0; i < c->ninputs; i++)
    if (strcmp(c->inputs[i].table, table) == 0 && strcmp(c->inputs[i].path, path) == 0)
      return c->inputs[i].size;
  struct stat sb;
  bool ok = stat(path, &sb) == 0;
  int64_t size = ok ? (int64_t)sb.st_size : -1;
  if (c->ninputs == MAX_INPUTS) return size;
  pipeline_input *in = &c->inputs[c->ninputs++];
  snprintf(in->table, sizeof in->table, "%s", table);
  snprintf(in->path, sizeof in->path, "%s", path);
  in->size = size;
  in->mtime = ok ? (int64_t)sb.st_mtime : -1;
  return size;
}

/* The inputs of a table being written: its own, a silver reject table's base table's, and for
 * gold every input noted. Returns how many went into out. */
static int inputs_of(const pipeline_ctx *c, const char *table, lake_input *out) {
  const char *base = strncmp(table, "silver_", 7) == 0 ? table + 7 : table;
  bool all = strcmp(table, TABLE_GOLD) == 0;
  int n = 0;
  for (int i = 0; i < c->ninputs; i++)
    if (all || strcmp(c->inputs[i].table, base) == 0)
      out[n++] = (lake_input){c->inputs[i].path, c->inputs[i].size, c->inputs[i].mtime};
  return n;
}

int pipeline_write_table(pipeline_ctx *c, const char *layer, const char *table, const batch *local,
                         bool single_writer, const lake_stage_stats *stats, ath_error *err) {
  double t0 = ath_now();
  char label[160];
  snprintf(label, sizeof label, "%s: write %s/%s", layer, layer, table);
  progress_step(c, label, 0, 1);
  lake_txn t;
  int rc = lake_begin(c->comm, c->o->lake, layer, table, &t, err);
  if (rc != ATH_OK) return rc;
  /* With a single writer the other ranks contribute no rows (and write nothing). */
  batch *none = single_writer && c->rank != 0 ? batch_new_like(local) : NULL;
  const batch *mine = none ? none : local;
  int64_t total = pipeline_sum(c, mine->nrows);

  ath_error local_err = {0};
  parquet_job pj = {.c = c, .t = &t, .local = mine, .total = total};
  /* With both formats the Parquet part is written inside the collective HDF5 write, on a
   * thread beside this rank's HDF5 data writes (see h5_write_table_with); the HDF5 timing is
   * what the write took beyond the Parquet part. */
  bool together = c->o->parquet && c->o->hdf5 && !single_writer;
  if (c->o->parquet && !together) rc = run_parquet_job(&pj, &local_err);
  if (c->o->hdf5) {
    char path[LAKE_PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s.h5", t.tmp_dir, table);
    const char *keys[] = {"layer", "table"}, *vals[] = {layer, table};
    h5_side_job side = {.run = run_parquet_job, .arg = &pj, .err = &local_err};
    h5_io io = {.buffered = c->o->hdf5_buffered};
    /* Every rank must take part in a collective write, even after a local Parquet failure. */
    int hrc = ATH_OK;
    if (together) {
      hrc = h5_write_table_with(c->comm, path, mine, keys, vals, 2, &side, &io, &local_err);
      rc = side.status;
    } else if (!single_writer) {
      hrc = h5_write_table_with(c->comm, path, mine, keys, vals, 2, NULL, &io, &local_err);
    } else if (c->rank == 0) {
      hrc = h5_write_table_with(MPI_COMM_SELF, path, mine, keys, vals, 2, NULL, &io, &local_err);
    }
    if (rc == ATH_OK) rc = hrc;
  }
  char name[64];
  snprintf(name, sizeof name, "%s.parquet.%s", layer, table);
  report_timing(c, name, pj.seconds);
  snprintf(name, sizeof name, "%s.hdf5.%s", layer, table);
  report_timing(c, name, c->o->hdf5 ? ath_now() - t0 - pj.seconds : 0.0);

  char formats[32];
  snprintf(formats, sizeof formats, "%s%s%s", c->o->parquet ? "parquet" : "",
           c->o->parquet && c->o->hdf5 ? "," : "", c->o->hdf5 ? "hdf5" : "");
  lake_input in[MAX_INPUTS];
  const char *names[MAX_TIMINGS];
  lake_manifest_info info = {.stats = stats,
                             .inputs = in,
                             .ninputs = inputs_of(c, table, in),
                             .timing_names = names,
                             .timing_seconds = c->rep.timing_seconds,
                             .ntimings = c->rep.ntimings,
                             .formats = formats,
                             .compression = pq_codec_name(c->o->pq.codec)};
  for (int i = 0; i < c->rep.ntimings; i++)
    names[i] = c->rep.timing_names[i];
  rc = lake_commit(c->comm, &t, rc, &local_err,
                   single_writer ? (c->rank == 0 ? total : 0) : mine->nrows, pj.wrote, mine, &info,
                   err);
  batch_free(none);
  return rc;
}

/* The table's Parquet parts (part-*.parquet, in name order = rank order), into *names (n of
 * them; free with free_names). */
static int list_parts(const char *dir, char ***names, int *n, ath_error *err) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return ath_fail(err, ATH_ERR, "%s: cannot open: %s", dir, strerror(errno));
  size_t cap = 0;
  for (struct dirent *e = readdir(d); e; e = readdir(d)) {
    size_t len = strlen(e->d_name);
    if (strncmp(e->d_name, "part-", 5) != 0 || len < 13 || strcmp(e->d_name + len - 8, ".parquet"))
      continue;
    grow_array((void **)names, &cap, (size_t)*n + 1, sizeof **names);
    (*names)[(*n)++] = xstrdup(e->d_name);
  }
  closedir(d);
  for (int i = 1; i < *n; i++) /* insertion sort: a handful of names */
    for (int j = i; j > 0 && strcmp((*names)[j - 1], (*names)[j]) > 0; j--) {
      char *t = (*names)[j];
      (*names)[j] = (*names)[j - 1];
      (*names)[j - 1] = t;
    }
  if (*n == 0) return ath_fail(err, ATH_ERR, "%s: neither an HDF5 file nor Parquet parts", dir);
  return ATH_OK;
}

static void free_names(char **names, int n) {
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

/* Collective: reads the Parquet files `names` (in order) in `dir`, rank r of n its rows
 * [r*N/n, (r+1)*N/n) of them all. */
static int read_files(MPI_Comm comm, const char *dir, char **names, int n, batch **out,
                      ath_error *err) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int rc = ATH_OK;
  pq_reader **r = xcalloc((size_t)n + 1, sizeof *r);
  int64_t total = 0;
  char path[LAKE_PATH_MAX + 900];
  for (int i = 0; rc == ATH_OK && i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    rc = pq_reader_open(path, &r[i], err);
    if (rc == ATH_OK) total += pq_reader_rows(r[i]);
  }
  int64_t lo = total * rank / size, hi = total * (rank + 1) / size, first = 0;
  if (rc == ATH_OK) *out = batch_new(pq_reader_fields(r[0]), pq_reader_ncols(r[0]));
  for (int i = 0; rc == ATH_OK && i < n; i++) {
    int64_t rows = pq_reader_rows(r[i]), a = lo > first ? lo - first : 0;
    int64_t b = hi < first + rows ? hi - first : rows;
    if (a < b) rc = pq_read_rows(r[i], a, b - a, *out, err);
    first += rows;
  }
  for (int i = 0; i < n; i++)
    pq_reader_close(r[i]);
  free(r);
  if (rc != ATH_OK) {
    batch_free(*out);
    *out = NULL;
  }
  return rc;
}

static int read_parts(MPI_Comm comm, const char *dir, batch **out, ath_error *err) {
  char **names = NULL;
  int n = 0;
  int rc = list_parts(dir, &names, &n, err);
  if (rc == ATH_OK) rc = read_files(comm, dir, names, n, out, err);
  free_names(names, n);
  return rc;
}

/* Collective: reads a stream table (lake/stream.h): the files its commit log lists, as of the
 * entry rank 0 saw last, without the lineage columns (names starting with '_'). */
static int read_stream(MPI_Comm comm, const char *dir, const char *table, batch **out, char *used,
                       size_t usedn, ath_error *err) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  stream_log log = {0};
  int64_t seq = -1;
  int rc = rank == 0 ? stream_load(&log, dir, false, -1, NULL, NULL, err) : ATH_OK;
  if (rank == 0 && rc == ATH_OK) seq = log.seq;
  rc = ath_agree(comm, rc, err);
  if (rc == ATH_OK)
    rc = ath_agree(comm, ATH_MPI(MPI_Bcast(&seq, 1, MPI_INT64_T, 0, comm), err), err);
  if (rc == ATH_OK && rank != 0) rc = stream_load(&log, dir, false, seq, NULL, NULL, err);
  rc = ath_agree(comm, rc, err);
  snprintf(used, usedn, "%s/_log/%020lld.json", dir, (long long)seq);
  if (rc == ATH_OK && log.nfiles == 0) {
    /* No rows yet: the table's bronze columns. */
    const table_desc *d = table_desc_find(table);
    field_def f[64];
    int nf = 0;
    for (int i = 0; d && i < d->nrequired && nf < 64; i++)
      f[nf++] = (field_def){d->required[i], COL_STRING, true};
    *out = batch_new(f, nf);
  } else if (rc == ATH_OK) {
    char **names = xcalloc((size_t)log.nfiles, sizeof *names);
    for (int i = 0; i < log.nfiles; i++)
      names[i] = log.files[i].name;
    rc = ath_agree(comm, read_files(comm, dir, names, log.nfiles, out, err), err);
    free(names);
  }
  if (rc == ATH_OK) {
    const char *keep[64];
    int nk = 0;
    for (int i = 0; i < (*out)->ncols && nk < 64; i++)
      if ((*out)->cols[i].name[0] != '_') keep[nk++] = (*out)->cols[i].name;
    char *copy[64];
    for (int i = 0; i < nk; i++)
      copy[i] = xstrdup(keep[i]);
    batch_keep_columns(*out, (const char *const *)copy, nk);
    for (int i = 0; i < nk; i++)
      free(copy[i]);
  }
  stream_log_free(&log);
  return rc;
}

int table_read_files(MPI_Comm comm, const char *dir, const char *table, batch **out, char *used,
                     size_t n, ath_error *err) {
  *out = NULL;
  snprintf(used, n, "%s/%s.h5", dir, table);
  int has_h5 = access(used, R_OK) == 0; /* every rank decides alike */
  int rc = ATH_MPI(MPI_Allreduce(MPI_IN_PLACE, &has_h5, 1, MPI_INT, MPI_MIN, comm), err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) return rc;
  if (has_h5) return h5_read_table(comm, used, out, err);
  int is_stream = stream_is_table(dir);
  rc = ATH_MPI(MPI_Allreduce(MPI_IN_PLACE, &is_stream, 1, MPI_INT, MPI_MAX, comm), err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) return rc;
  if (is_stream) return read_stream(comm, dir, table, out, used, n, err);
  snprintf(used, n, "%s", dir);
  return ath_agree(comm, read_parts(comm, dir, out, err), err);
}

int pipeline_read_table(pipeline_ctx *c, const char *layer, const char *table, batch **out,
                        ath_error *err) {
  *out = NULL;
  int rc = ath_agree(c->comm, lake_require(c->o->lake, layer, table, err), err);
  if (rc != ATH_OK) return rc;
  char dir[LAKE_PATH_MAX + 300], used[LAKE_PATH_MAX + 400];
  lake_table_dir(c->o->lake, layer, table, dir, sizeof dir);
  double t0 = ath_now();
  char label[160];
  snprintf(label, sizeof label, "%s: read %s/%s", c->command, layer, table);
  progress_step(c, label, 0, 1);
  rc = table_read_files(c->comm, dir, table, out, used, sizeof used, err);
  pipeline_note_input(c, table, used);
  char name[64];
  snprintf(name, sizeof name, "%s.read.%s", layer, table);
  report_timing(c, name, ath_now() - t0);
  return rc;
}
