/* The pipeline's stages on a communicator: landing → bronze → silver → gold (SPEC §4, §6, §7).
 *
 * Each stage is a function from input tables to output tables. The separate stage commands
 * read their inputs from the lake (the previous layer's HDF5 file, each rank its row range);
 * `athlete run` hands the tables from stage to stage in memory. Both write every layer through
 * the same pipeline_write_table(), so their files are identical. */
#ifndef ATHLETE_PIPELINE_PIPELINE_H
#define ATHLETE_PIPELINE_PIPELINE_H

#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"
#include "lake/lake.h"
#include "parquet/parquet.h"
#include "transform/silver.h"

#define TABLE_BIO     "athlete_bio"
#define TABLE_RESULTS "athlete_event_results"
#define TABLE_GOLD    "avg_stats"
#define NTABLES       2

extern const char *const pipeline_tables[NTABLES]; /* bio, results */

/* What the pipeline knows of a landing table: its name, the columns its CSV must have (SPEC
 * §3; extra columns are kept) and the join key. */
typedef struct table_desc {
  const char *name;
  const char *const *required;
  int nrequired;
  const char *key;
} table_desc;

/* The descriptor of pipeline_tables[i]. */
extern const table_desc pipeline_table_descs[NTABLES];
/* The descriptor of the table called `name`, or NULL. */
const table_desc *table_desc_find(const char *name);

/* --progress: auto (a live bar when rank 0 has a terminal, else lines), bar, always (lines),
 * never. */
typedef enum progress_mode {
  PROGRESS_AUTO = 0,
  PROGRESS_ALWAYS,
  PROGRESS_NEVER,
  PROGRESS_BAR
} progress_mode;

typedef struct pipeline_opts {
  const char *lake;   /* lake root */
  const char *source; /* folder or http(s)/file URL holding the two CSV files */
  bool parquet;       /* --formats */
  bool hdf5;
  bool hdf5_buffered; /* --hdf5-io buffered */
  pq_options pq;
  double max_reject_fraction;
  progress_mode progress;
  bool quiet;
  const char *metrics_path;
  silver_options silver;
  size_t round_bytes;   /* shuffle round size per rank */
  int64_t timestamp_us; /* the run's start (or SOURCE_DATE_EPOCH), same on every rank */
  unsigned tables;      /* landing-to-bronze --tables: bit i = pipeline_tables[i] */
} pipeline_opts;

/* One line of the summary: a stage's work on one table. */
typedef struct stage_line {
  char stage[16];
  char table[64];
  int64_t rows_in, rows_out, rejects, dropped;
  int64_t bytes_in;
  double seconds;
} stage_line;

#define MAX_STAGE_LINES 16
#define MAX_TIMINGS     48

typedef struct pipeline_report {
  stage_line lines[MAX_STAGE_LINES];
  int nlines;
  char timing_names[MAX_TIMINGS][48]; /* fine-grained steps: "bronze.read.athlete_bio", ... */
  double timing_seconds[MAX_TIMINGS];
  int ntimings;
  int64_t results_without_bio;
  int64_t joined_rows;
  double started; /* ath_now() at start */
} pipeline_report;

/* A file a stage read, for the manifests of the tables made from it. */
typedef struct pipeline_input {
  char table[64]; /* the table it is an input of */
  char path[4096];
  int64_t size, mtime;
} pipeline_input;

#define MAX_INPUTS 8

typedef struct pipeline_ctx {
  MPI_Comm comm;
  int rank, size;
  const pipeline_opts *o;
  pipeline_report rep;
  const char *command;
  ath_error mpi_err; /* the first failure of a reporting collective (pipeline_sum, ...) */
  pipeline_input inputs[MAX_INPUTS];
  int ninputs;
} pipeline_ctx;

/* Notes that `path` is an input of `table` (its size and mtime go into the manifests of
 * <layer>/<table>, rejects/silver_<table> and gold). Returns its size in bytes, -1 when it
 * cannot be stat'ed. */
int64_t pipeline_note_input(pipeline_ctx *c, const char *table, const char *path);

/* Tables handed between stages in memory: this rank's rows of each table. */
typedef struct layer_tables {
  batch *t[NTABLES];
} layer_tables;
void layer_tables_free(layer_tables *l);

void pipeline_opts_default(pipeline_opts *o);
void pipeline_ctx_init(pipeline_ctx *c, MPI_Comm comm, const pipeline_opts *o, const char *command);

/* Stages. Each is collective, returns the same status on every rank, and commits its tables.
 * `in` may be NULL, in which case the stage reads its input layer from the lake. On success
 * *out (when out is not NULL) receives the stage's output tables. */
int stage_landing_to_bronze(pipeline_ctx *c, layer_tables *out, ath_error *err);
int stage_bronze_to_silver(pipeline_ctx *c, layer_tables *in, layer_tables *out, ath_error *err);
int stage_silver_to_gold(pipeline_ctx *c, layer_tables *in, batch **gold, ath_error *err);
/* All three stages in one job, tables kept in memory between them; *gold as for
 * stage_silver_to_gold. */
int pipeline_run(pipeline_ctx *c, batch **gold, ath_error *err);

/* Collective: writes this rank's rows `local` as table <layer>/<table> in every requested
 * format and commits it. With `single_writer`, only rank 0's rows are written (one Parquet part
 * and an HDF5 file written by rank 0 alone), so the files do not depend on the rank count.
 * `stats` (NULL for none; rank 0's is used) is the producing stage's counts, for the manifest. */
int pipeline_write_table(pipeline_ctx *c, const char *layer, const char *table, const batch *local,
                         bool single_writer, const lake_stage_stats *stats, ath_error *err);
/* Collective: reads a table's files in folder `dir`: its HDF5 file <table>.h5 when there is
 * one, else its Parquet parts in order; each rank gets its row range [r*N/n, (r+1)*N/n).
 * `used` (n bytes) gets the file or folder read. */
int table_read_files(MPI_Comm comm, const char *dir, const char *table, batch **out, char *used,
                     size_t n, ath_error *err);
/* Collective: reads <layer>/<table> (which must be committed) from its HDF5 file, or from its
 * Parquet parts when it was written without HDF5 (--formats parquet), each rank its row
 * range. */
int pipeline_read_table(pipeline_ctx *c, const char *layer, const char *table, batch **out,
                        ath_error *err);

/* Landing: resolves the source into local file paths (downloading a URL source once, on rank
 * 0, into <lake>/landing/). paths[i] receives the CSV path of tables[i]. Collective. */
int landing_resolve(pipeline_ctx *c, const char *const *tables, int ntables, char (*paths)[4096],
                    ath_error *err);

/* Collective: the sum of v over the ranks (counts for reports). An MPI failure is kept in
 * c->mpi_err, which report_finish turns into the command's failure. */
int64_t pipeline_sum(pipeline_ctx *c, int64_t v);

/* Reporting (rank 0 prints; every rank must call the collective ones). */
void report_timing(pipeline_ctx *c, const char *name, double seconds);
stage_line *report_line(pipeline_ctx *c, const char *stage, const char *table);
void report_progress(pipeline_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Collective: prints the summary table (and the first rows of gold when given) on rank 0 and
 * writes --metrics. Returns `status`, or a failure of its own (or of c->mpi_err) when status
 * was ATH_OK. */
int report_finish(pipeline_ctx *c, int status, const batch *gold, ath_error *err);

#endif
