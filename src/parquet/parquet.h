/* A small, complete Parquet writer (format spec: apache/parquet-format, parquet.thrift and
 * Encodings.md).
 *
 * Files hold one flat schema of STRING, INT64, DOUBLE, BOOL and TIMESTAMP columns, required or
 * optional. Each row group is buffered in memory (bounded by row_group_rows and
 * row_group_bytes; a batch holding a whole row group is written straight from the batch),
 * then written column by column. Per column chunk the writer measures the cardinality: it
 * hashes the chunk's values into a dictionary, and when that dictionary stays within
 * dict_max_bytes and its page plus the bit-packed indices come to at most 90% of the PLAIN
 * size, the chunk is a PLAIN dictionary page plus RLE_DICTIONARY data pages; otherwise PLAIN
 * data pages (booleans are always PLAIN). Data pages are v1, about page_bytes each, with RLE
 * definition levels for optional columns, compressed with zstd (default), snappy or nothing.
 * Each chunk records null_count and min_value/max_value (strings compared as unsigned bytes;
 * NaN left out; min/max left out when longer than 4 KiB) and encoding_stats; the footer
 * declares TYPE_ORDER column orders and created_by.
 *
 * Logical types: STRING = BYTE_ARRAY + STRING (converted UTF8); TIMESTAMP = INT64 +
 * TIMESTAMP(isAdjustedToUTC=true, MICROS) (converted TIMESTAMP_MICROS).
 *
 * Errors are returned (never printed); a writer's first error is sticky. */
#ifndef ATHLETE_PARQUET_PARQUET_H
#define ATHLETE_PARQUET_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

typedef enum pq_codec { PQ_CODEC_NONE = 0, PQ_CODEC_SNAPPY = 1, PQ_CODEC_ZSTD = 2 } pq_codec;

/* "zstd"|"snappy"|"none" -> codec; returns ATH_OK or ATH_EUSAGE with a message. */
int pq_codec_parse(const char *name, pq_codec *out, ath_error *err);
/* "zstd", "snappy", "none" (static strings). */
const char *pq_codec_name(pq_codec c);

/* The largest value (string length) a Parquet page can hold: page sizes are int32. */
#define PQ_MAX_VALUE_BYTES ((size_t)INT32_MAX - 4096)

typedef struct pq_options {
  pq_codec codec;         /* default ZSTD */
  int zstd_level;         /* default 1 (zstd's fastest standard level) */
  int64_t row_group_rows; /* default 1 Mi rows */
  size_t row_group_bytes; /* default 128 MiB (uncompressed estimate) */
  size_t page_bytes;      /* default 1 MiB (uncompressed estimate) */
  size_t dict_max_bytes;  /* default 1 MiB: PLAIN size of a dictionary before falling back */
  const char *created_by; /* default "athlete version <ATHLETE_VERSION>" */
  size_t max_value_bytes; /* longest string accepted; 0 (and the default) mean
                             PQ_MAX_VALUE_BYTES, its upper bound. Lower it only to test
                             that check. (An addition to the agreed API.) */
} pq_options;

/* Fills `o` with the defaults above. */
void pq_options_default(pq_options *o);

typedef struct pq_writer pq_writer;

/* Opens a writer for `path`: bytes go to "<path>.tmp" and are renamed to `path` by pq_close
 * (after fsync), so a failed write never leaves a half-written file under the final name.
 * `fields` (names included) is copied. `opt` may be NULL for the defaults. Returns NULL with
 * `err` filled on error. */
pq_writer *pq_open_file(const char *path, const field_def *fields, int nfields,
                        const pq_options *opt, ath_error *err);
/* A writer into a growable memory buffer (for tests); pq_close leaves the bytes in
 * *out_buf and *out_len (caller frees with free()); on error they are NULL and 0. */
pq_writer *pq_open_mem(uint8_t **out_buf, size_t *out_len, const field_def *fields, int nfields,
                       const pq_options *opt, ath_error *err);
/* Appends all rows of `b` (its schema must match the writer's: names, types; a null in a
 * non-nullable field is an error). Sticky error: after a failure further calls do nothing and
 * return the first error. Memory stays bounded by one row group. A NULL writer is a usage
 * error. */
int pq_append(pq_writer *w, const batch *b, ath_error *err);
/* Flushes, writes the footer, syncs, renames; frees w in every case. Returns the first error
 * (then no file exists under the final name). */
int pq_close(pq_writer *w, ath_error *err);
/* Discards everything (removes the temporary file); frees w. NULL is a no-op. */
void pq_abort(pq_writer *w);
/* Convenience used by every layer: one file holding exactly batch `b`. */
int pq_write_batch(const char *path, const batch *b, const pq_options *opt, ath_error *err);

/* ---- reading (pq_reader.c) ---------------------------------------------------------------
 * Reads what the writer writes, and files of other writers with the same encodings: flat
 * schemas of strings (BYTE_ARRAY), INT64 (and TIMESTAMP in millis, micros or nanos, read as
 * micros), INT32, DOUBLE, FLOAT and BOOLEAN columns, required or optional; v1 data pages with
 * PLAIN or dictionary-encoded values, RLE/bit-packed definition levels; uncompressed, snappy
 * and zstd pages. A corrupt or unsupported file is an error naming the file (and the row group
 * and column), never a crash. Not thread-safe per reader. */
typedef struct pq_reader pq_reader;

/* Opens `path` and reads its footer. On failure *out is NULL. */
int pq_reader_open(const char *path, pq_reader **out, ath_error *err);
void pq_reader_close(pq_reader *r);
int64_t pq_reader_rows(const pq_reader *r);
/* The schema as batch fields (valid while r is open): pass it to batch_new. */
int pq_reader_ncols(const pq_reader *r);
const field_def *pq_reader_fields(const pq_reader *r);
/* Row groups, and the rows of group g. */
int pq_reader_groups(const pq_reader *r);
int64_t pq_reader_group_rows(const pq_reader *r, int g);
/* Appends rows [start, start + count) of the file to `out` (a batch of the reader's schema). */
int pq_read_rows(pq_reader *r, int64_t start, int64_t count, batch *out, ath_error *err);

#endif
