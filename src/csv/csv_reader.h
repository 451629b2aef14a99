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
#include "core/status.h"

/* Reject schema shared by every layer: source_file STRING, line INT64, byte_offset INT64,
 * reason STRING, raw STRING (first 4 KiB of the record). */
extern const field_def CSV_REJECT_FIELDS[5];
/* A new, empty reject batch; free with batch_free. */
batch *csv_rejects_new(void);

typedef struct csv_stats {
  int64_t records; /* good records on this rank */
  int64_t rejects; /* rejected records on this rank */
  int64_t bytes;   /* bytes this rank owned */
  int64_t lines;   /* physical lines in the file (same on every rank) */
} csv_stats;

/* Collective over comm. Reads `path` partitioned by byte offset. *rows gets this rank's records
 * as a batch with one nullable STRING column per header column (header order); *rejects gets
 * this rank's rejected records. `display_name` is the file name used in messages and rejects
 * (NULL: `path`). Errors — missing/unreadable file, empty file (no header row), missing
 * required column, I/O — return the SAME status on every rank, with err->msg naming the file
 * (and line/column) on every rank; *rows and *rejects are then NULL. A header-only file is
 * not an error (0 rows). The caller frees both batches with batch_free. */
int csv_read_table(MPI_Comm comm, const char *path, const char *display_name,
                   const char *const *required, int nrequired, batch **rows, batch **rejects,
                   csv_stats *st, ath_error *err);

#endif
