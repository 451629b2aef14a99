#define _GNU_SOURCE /* renameat2 */
#include "lake/lake.h"
#include "core/agree.h"

#include "core/fsutil.h"
#include "core/json.h"
#include "lake/stream.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void lake_table_dir(const char *lake, const char *layer, const char *table, char *out, size_t n) {
  snprintf(out, n, "%s/%s/%s", lake, layer, table);
}

void lake_file(const lake_txn *t, const char *name, char *out, size_t n) {
  snprintf(out, n, "%s/%s", t->tmp_dir, name);
}

void lake_part_file(const lake_txn *t, int part, char *out, size_t n) {
  snprintf(out, n, "%s/part-%05d.parquet", t->tmp_dir, part);
}

int lake_remove_tree(const char *path, ath_error *err) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? ATH_OK : ath_fail(err, ATH_ERR, "%s: %s", path, strerror(errno));
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) != 0)
      return ath_fail(err, ATH_ERR, "cannot remove %s: %s", path, strerror(errno));
    return ATH_OK;
  }
  DIR *d = opendir(path);
  if (!d) return ath_fail(err, ATH_ERR, "cannot open directory %s: %s", path, strerror(errno));
  int rc = ATH_OK;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char child[LAKE_PATH_MAX];
    snprintf(child, sizeof child, "%s/%s", path, e->d_name);
    if (lake_remove_tree(child, err) != ATH_OK) rc = ATH_ERR;
  }
  closedir(d);
  if (rmdir(path) != 0) rc = ath_fail(err, ATH_ERR, "cannot remove %s: %s", path, strerror(errno));
  return rc;
}

/* True when the writer that named a temporary folder ".<table>.tmp-<host>-<pid>-<time>" is
 * gone (see fs_writer_gone). */
static bool writer_gone(const char *path, const char *suffix) {
  char host[256];
  long pid = 0;
  if (sscanf(suffix, "%255[^-]-%ld-", host, &pid) != 2) host[0] = '\0';
  return fs_writer_gone(path, host, pid);
}

/* Removes <layer_dir>/.<table>.tmp-* left behind by killed runs, but never the folder of a
 * writer that still runs. */
static void remove_stale(const char *layer_dir, const char *table) {
  DIR *d = opendir(layer_dir);
  if (!d) return;
  char prefix[300];
  snprintf(prefix, sizeof prefix, ".%s.tmp-", table);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
    char p[LAKE_PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", layer_dir, e->d_name);
    if (writer_gone(p, e->d_name + strlen(prefix))) lake_remove_tree(p, NULL);
  }
  closedir(d);
}

int lake_begin(MPI_Comm comm, const char *lake, const char *layer, const char *table, lake_txn *t,
               ath_error *err) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  memset(t, 0, sizeof *t);
  snprintf(t->table, sizeof t->table, "%s", table);
  snprintf(t->layer, sizeof t->layer, "%s", layer);
  lake_table_dir(lake, layer, table, t->final_dir, sizeof t->final_dir);
  int rc = ATH_OK;
  if (rank == 0) {
    char layer_dir[LAKE_PATH_MAX];
    snprintf(layer_dir, sizeof layer_dir, "%s/%s", lake, layer);
    rc = fs_mkdirs(layer_dir, err);
    if (rc == ATH_OK && stream_is_table(t->final_dir))
      rc = ath_fail(err, ATH_ERR,
                    "%s is a stream table (written by ingest) and is never replaced by a batch "
                    "stage: land the other tables alone with --tables, or use another --lake",
                    t->final_dir);
    if (rc == ATH_OK) {
      remove_stale(layer_dir, table);
      char host[128];
      fs_host_name(host, sizeof host);
      snprintf(t->tmp_dir, sizeof t->tmp_dir, "%s/.%s.tmp-%s-%ld-%ld", layer_dir, table, host,
               (long)getpid(), (long)time(NULL));
      if (mkdir(t->tmp_dir, 0777) != 0)
        rc = ath_fail(err, ATH_ERR, "cannot create %s: %s", t->tmp_dir, strerror(errno));
    }
  }
  rc = ath_agree(comm, rc, err);
  if (rc != ATH_OK) return rc;
  rc = ATH_MPI(MPI_Bcast(t->tmp_dir, sizeof t->tmp_dir, MPI_CHAR, 0, comm), err);
  return ath_agree(comm, rc, err);
}

void lake_write_schema_json(FILE *f, const batch *schema) {
  fputs("[", f);
  for (int i = 0; i < schema->ncols; i++) {
    const column *c = &schema->cols[i];
    fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
    json_write_cstr(f, c->name);
    fprintf(f, ", \"type\": \"%s\", \"nullable\": %s}", col_type_name(c->type),
            c->nullable ? "true" : "false");
  }
  fputs("\n  ]", f);
}

static void write_stats_json(FILE *f, const lake_stage_stats *s) {
  const char *names[] = {"rows_in",    "rows_out",    "rejects",
                         "duplicates", "joined_rows", "results_without_bio"};
  const int64_t v[] = {s->rows_in,    s->rows_out,    s->rejects,
                       s->duplicates, s->joined_rows, s->results_without_bio};
  fputs(",\n  \"stage\": {\"name\": ", f);
  json_write_cstr(f, s->stage);
  for (int i = 0; i < (int)(sizeof v / sizeof *v); i++)
    if (v[i] >= 0) fprintf(f, ", \"%s\": %lld", names[i], (long long)v[i]);
  fputs("}", f);
}

static void write_manifest_json(FILE *f, const lake_txn *t, const int64_t *rows, const int *parts,
                                const int64_t *rss, int nranks, const batch *schema,
                                const lake_manifest_info *info) {
  int64_t total = 0;
  for (int r = 0; r < nranks; r++)
    total += rows[r];
  fprintf(f, "{\n  \"format\": \"athlete-table-1\",\n  \"version\": \"%s\",\n", ATHLETE_VERSION);
  fputs("  \"layer\": ", f);
  json_write_cstr(f, t->layer);
  fputs(",\n  \"table\": ", f);
  json_write_cstr(f, t->table);
  fprintf(f, ",\n  \"rows\": %lld,\n  \"formats\": ", (long long)total);
  json_write_cstr(f, info ? info->formats : NULL);
  fputs(",\n  \"compression\": ", f);
  json_write_cstr(f, info ? info->compression : NULL);
  fputs(",\n  \"schema\": ", f);
  lake_write_schema_json(f, schema);
  fputs(",\n  \"partitions\": [", f);
  int first = 1;
  for (int r = 0; r < nranks; r++) {
    if (!parts[r]) continue;
    fprintf(f, "%s\n    {\"file\": \"part-%05d.parquet\", \"rank\": %d, \"rows\": %lld}",
            first ? "" : ",", r, r, (long long)rows[r]);
    first = 0;
  }
  fputs("\n  ],\n  \"hdf5_partitions\": [", f);
  for (int r = 0; r < nranks; r++)
    fprintf(f, "%s%lld", r ? ", " : "", (long long)rows[r]);
  fputs("],\n  \"inputs\": [", f);
  for (int i = 0; info && i < info->ninputs; i++) {
    fputs(i ? ",\n    {\"path\": " : "\n    {\"path\": ", f);
    json_write_cstr(f, info->inputs[i].path);
    fprintf(f, ", \"size\": %lld, \"mtime\": %lld}", (long long)info->inputs[i].size,
            (long long)info->inputs[i].mtime);
  }
  fputs("\n  ]", f);
  if (info && info->stats) write_stats_json(f, info->stats);
  fputs(",\n  \"peak_rss_bytes\": [", f);
  for (int r = 0; r < nranks; r++)
    fprintf(f, "%s%lld", r ? ", " : "", (long long)rss[r]);
  fputs("],\n  \"timings_s\": {", f);
  for (int i = 0; info && i < info->ntimings; i++) {
    fputs(i ? ", " : "", f);
    json_write_cstr(f, info->timing_names[i]);
    fprintf(f, ": %.6f", info->timing_seconds[i]);
  }
  fputs("}\n}\n", f);
}

/* Writes a small file and fsyncs it. */
static int write_synced(const char *path, const lake_txn *t, const int64_t *rows, const int *parts,
                        const int64_t *rss, int nranks, const batch *schema,
                        const lake_manifest_info *info, ath_error *err) {
  FILE *f = fopen(path, "w");
  if (!f) return ath_fail(err, ATH_ERR, "cannot create %s: %s", path, strerror(errno));
  if (schema) write_manifest_json(f, t, rows, parts, rss, nranks, schema, info);
  int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
  if (fclose(f) != 0 || bad)
    return ath_fail(err, ATH_ERR, "cannot write %s: %s", path, strerror(errno));
  return ATH_OK;
}

/* Swaps tmp_dir into final_dir's place and removes the old version. */
static int publish(lake_txn *t, ath_error *err) {
  struct stat st;
  if (stat(t->final_dir, &st) != 0) {
    if (rename(t->tmp_dir, t->final_dir) != 0)
      return ath_fail(err, ATH_ERR, "cannot rename %s to %s: %s", t->tmp_dir, t->final_dir,
                      strerror(errno));
  } else if (renameat2(AT_FDCWD, t->tmp_dir, AT_FDCWD, t->final_dir, RENAME_EXCHANGE) != 0) {
    /* No atomic exchange here: move the old version aside, then the new one in. */
    char old[LAKE_PATH_MAX + 8];
    snprintf(old, sizeof old, "%s.old", t->tmp_dir);
    if (rename(t->final_dir, old) != 0 || rename(t->tmp_dir, t->final_dir) != 0)
      return ath_fail(err, ATH_ERR, "cannot replace %s: %s", t->final_dir, strerror(errno));
    lake_remove_tree(old, NULL);
  } else {
    lake_remove_tree(t->tmp_dir, NULL); /* now holds the previous version */
  }
  return fs_sync_parent(t->final_dir, err);
}

int lake_commit(MPI_Comm comm, lake_txn *t, int local_status, const ath_error *local_err,
                int64_t part_rows, int wrote_part, const batch *schema,
                const lake_manifest_info *info, ath_error *err) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (local_status != ATH_OK && local_err && err != local_err) *err = *local_err;
  int rc = ath_agree(comm, local_status, err);
  int64_t *rows = rank == 0 ? xcalloc((size_t)size, sizeof *rows) : NULL;
  int64_t *rss = rank == 0 ? xcalloc((size_t)size, sizeof *rss) : NULL;
  int *parts = rank == 0 ? xcalloc((size_t)size, sizeof *parts) : NULL;
  int64_t my_rss = ath_peak_rss_bytes();
  int grc = ATH_MPI(MPI_Gather(&part_rows, 1, MPI_INT64_T, rows, 1, MPI_INT64_T, 0, comm), err);
  if (grc == ATH_OK)
    grc = ATH_MPI(MPI_Gather(&wrote_part, 1, MPI_INT, parts, 1, MPI_INT, 0, comm), err);
  if (grc == ATH_OK)
    grc = ATH_MPI(MPI_Gather(&my_rss, 1, MPI_INT64_T, rss, 1, MPI_INT64_T, 0, comm), err);
  if (rc == ATH_OK) rc = ath_agree(comm, grc, err); /* all gathered before rank 0 publishes */
  if (rank == 0) {
    if (rc == ATH_OK) {
      char p[LAKE_PATH_MAX + 32];
      lake_file(t, "_manifest.json", p, sizeof p);
      rc = write_synced(p, t, rows, parts, rss, size, schema, info, err);
      if (rc == ATH_OK) {
        lake_file(t, "_SUCCESS", p, sizeof p);
        rc = write_synced(p, t, NULL, NULL, NULL, 0, NULL, NULL, err);
      }
      if (rc == ATH_OK) rc = fs_sync_dir(t->tmp_dir, err);
      if (rc == ATH_OK) rc = publish(t, err);
    }
    if (rc != ATH_OK) lake_remove_tree(t->tmp_dir, NULL);
  }
  free(rows);
  free(rss);
  free(parts);
  return ath_agree(comm, rc, err);
}

int lake_require(const char *lake, const char *layer, const char *table, ath_error *err) {
  char p[LAKE_PATH_MAX];
  snprintf(p, sizeof p, "%s/%s/%s/_SUCCESS", lake, layer, table);
  if (access(p, F_OK) == 0) return ATH_OK;
  return ath_fail(err, ATH_ERR,
                  "%s/%s/%s is not a committed table (no _SUCCESS): run the stage that writes it "
                  "first",
                  lake, layer, table);
}
