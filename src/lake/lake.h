/* The lake: where tables live and how a stage publishes one (SPEC §4, §7).
 *
 * A table is the folder <lake>/<layer>/<table>/ holding part-NNNNN.parquet, <table>.h5,
 * _manifest.json and _SUCCESS. A stage never writes into that folder: it writes into a
 * temporary sibling <lake>/<layer>/.<table>.tmp-<id>/, and only when every rank succeeded does
 * rank 0 write _manifest.json and _SUCCESS there (each fsynced) and swap the folder into place
 * (an atomic renameat2(RENAME_EXCHANGE) where the file system has it, else two renames), then
 * remove the previous version. A failed or killed run leaves the previous version intact; the
 * next run removes stale temporary folders of the same table. Readers trust only folders with
 * _SUCCESS. */
#ifndef ATHLETE_LAKE_LAKE_H
#define ATHLETE_LAKE_LAKE_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "core/batch.h"
#include "core/status.h"

#define LAKE_PATH_MAX 4096

/* One input file of a table, recorded in its manifest. */
typedef struct lake_input {
  const char *path;
  int64_t size;
  int64_t mtime; /* seconds since the epoch */
} lake_input;

/* The counts of the stage that produced a table (`"stage"` in its manifest, read by `athlete
 * report`). A count below 0 is not written. */
typedef struct lake_stage_stats {
  const char *stage; /* "bronze", "silver", "gold" */
  int64_t rows_in, rows_out, rejects, duplicates;
  int64_t joined_rows, results_without_bio; /* gold only, else -1 */
} lake_stage_stats;

/* What a manifest records besides the schema and partitions. */
typedef struct lake_manifest_info {
  const lake_stage_stats *stats; /* NULL: none (rejects tables) */
  const lake_input *inputs;
  int ninputs;
  const char *const *timing_names; /* parallel arrays: step name -> seconds */
  const double *timing_seconds;
  int ntimings;
  const char *formats; /* "parquet,hdf5" */
  const char *compression;
} lake_manifest_info;

/* A table being written. */
typedef struct lake_txn {
  char final_dir[LAKE_PATH_MAX];
  char tmp_dir[LAKE_PATH_MAX];
  char table[256];
  char layer[64];
} lake_txn;

/* <lake>/<layer>/<table> into out. */
void lake_table_dir(const char *lake, const char *layer, const char *table, char *out, size_t n);

/* Collective: rank 0 creates the layer folder and a fresh temporary folder for the table
 * (removing stale ones left by killed runs) and broadcasts its name. Same status everywhere. */
int lake_begin(MPI_Comm comm, const char *lake, const char *layer, const char *table, lake_txn *t,
               ath_error *err);

/* Path of a file inside the temporary folder. */
void lake_file(const lake_txn *t, const char *name, char *out, size_t n);
/* Path of the Parquet part written by rank/partition `part`. */
void lake_part_file(const lake_txn *t, int part, char *out, size_t n);

/* Collective commit. `local_status` is this rank's outcome of writing its files; `part_rows`
 * its row count (the manifest lists the rows of every partition, gathered here); `schema` the
 * table's schema. If any rank failed, every rank returns that failure (the first failing rank's
 * message is broadcast) and the temporary folder is removed: the previous version stays.
 * Otherwise rank 0 writes _manifest.json and _SUCCESS and swaps the folder into place.
 * `write_part` tells whether this rank wrote a Parquet part (ranks without rows don't). */
int lake_commit(MPI_Comm comm, lake_txn *t, int local_status, const ath_error *local_err,
                int64_t part_rows, int wrote_part, const batch *schema,
                const lake_manifest_info *info, ath_error *err);

/* Writes a table's schema as the manifests hold it: a JSON array of {name, type, nullable}. */
void lake_write_schema_json(FILE *f, const batch *schema);

/* Returns ATH_OK when <lake>/<layer>/<table>/_SUCCESS exists, else ATH_ERR naming it. */
int lake_require(const char *lake, const char *layer, const char *table, ath_error *err);

/* Ranks agree on a status with ath_agree (core/agree.h). */

/* rm -rf (best effort; returns ATH_ERR with a message on failure). */
int lake_remove_tree(const char *path, ath_error *err);

#endif
