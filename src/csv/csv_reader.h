/* Reads one CSV file under MPI, partitioned by byte offset (SPEC §3, §4 bronze, §6).
 *
 * Rank r of N owns bytes [r*S/N, (r+1)*S/N) of the file (after the header). Each rank computes
 * its bytes' tokeniser state map (csv_core.h), an MPI_Exscan composing the maps gives every
 * rank its true start state, and each rank parses through libcsv exactly the records whose
 * first byte it owns, reading past its end only for the record that crosses it. The records
 * are exactly those of a sequential read, for any bytes and any N.
 *
 * Semantics: RFC 4180, comma, '"' quotes with "" escapes; a quote inside an unquoted field is
 * literal; spaces around fields are data; CR, LF and CRLF end records (a lone CR ends a record
 * as in libcsv, but line numbers count LF only); a UTF-8 BOM before the header and blank lines
 * are skipped; the last record may lack a newline. An empty field, quoted ("") or not, is null
 * (as DuckDB's read_csv). Broken records (wrong field count, unterminated quoted field,
 * invalid UTF-8) go to the rejects batch instead. */
#ifndef ATHLETE_CSV_READER_H
#define ATHLETE_CSV_READER_H

#include <mpi.h>

#include "core/batch.h"
#include "core/counter.h"
#include "core/status.h"
#include "csv/csv_core.h"

/* Rejects use CSV_REJECT_FIELDS (csv_core.h). */

typedef struct csv_stats {
  int64_t records; /* good records on this rank */
  int64_t rejects; /* rejected records on this rank */
  int64_t bytes;   /* bytes this rank owned */
  int64_t lines;   /* physical lines in the file (same on every rank) */
} csv_stats;

/* Receives a rank's rows while it reads, window by window, instead of holding them all: `rows`
 * holds the records parsed since the last call (header columns, as below) and `pos` their
 * offsets and lines; the reader clears both when the call returns. A status other than ATH_OK
 * stops this rank's reading; the ranks agree on it before csv_read_table returns. */
typedef struct csv_sink {
  int (*rows)(void *ctx, const batch *rows, const csv_positions *pos, ath_error *err);
  void *ctx;
} csv_sink;

#define CSV_READ_WINDOW_DEFAULT ((size_t)8 << 20)

typedef struct csv_read_opts {
  const char *display_name;    /* file name used in messages and rejects (NULL: the path) */
  const char *const *required; /* columns the header must have */
  int nrequired;
  size_t window;          /* bytes a rank reads at a time (0: CSV_READ_WINDOW_DEFAULT) */
  const csv_sink *sink;   /* NULL: *rows gets every record of this rank */
  live_counter *progress; /* NULL, or gets the bytes and records of this rank's slice parsed */
} csv_read_opts;

/* Collective over comm. Reads `path` partitioned by byte offset. *rows gets this rank's records
 * as a batch with one nullable STRING column per header column (header order) — or, with a
 * sink, an empty batch of that schema after every record went to the sink; *rejects gets this
 * rank's rejected records. Errors — missing/unreadable file, empty file (no header row),
 * missing required column, I/O, a sink's failure — return the SAME status on every rank, with
 * err->msg naming the file (and line/column) on every rank; *rows and *rejects are then NULL.
 * A header-only file is not an error (0 rows). The caller frees both batches with batch_free. */
int csv_read_table(MPI_Comm comm, const char *path, const csv_read_opts *o, batch **rows,
                   batch **rejects, csv_stats *st, ath_error *err);

#endif
