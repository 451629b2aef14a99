/* Stream tables: append-only tables of batch files and a commit log (SPEC §10).
 *
 *   <lake>/<layer>/<table>/
 *     <topic>+<partition>+<first>+<last>.parquet   a batch file: the rows of one partition's
 *                                                  offsets [first, last], named as Kafka
 *                                                  Connect's HDFS sink names them
 *     _rejects/<20-digit sequence>.parquet         the messages a log entry rejected
 *     _log/<20-digit sequence>.json                the commit log, one entry per batch
 *     _manifest.json, _SUCCESS                     the table as of the last entry
 *
 * Every file is written under a temporary name, fsynced and moved into place without
 * replacing anything (link + unlink: a name that exists already is a conflict, never
 * overwritten), then its folder is fsynced. A log entry lists the batch files and, per
 * partition, the range of offsets the batch consumed (rejected and duplicate messages
 * included, so the next one starts after them). The log is the truth: readers read the files
 * its entries list, in order; a writer that starts removes, for the partitions it takes over,
 * the batch files no entry lists (left by a crash or a zombie), and a writer whose entry would
 * cover offsets another writer's entry already covers abandons its batch.
 *
 * Entry format (one file per line, so a damaged entry is easy to see):
 *   {"seq": 3, "rows": 120, "rejects": 2, "rejects_file": "_rejects/000...03.parquet",
 *    "offsets": [
 *     {"topic": "t", "partition": 0, "first": 10, "last": 99},
 *    ...],
 *    "files": [
 *     {"file": "t+0+10+99.parquet", "rows": 88},
 *    ...]}
 * An entry that cannot be parsed is treated as never written when it is the last one (a
 * crash between the rename and the fsync of its folder can leave it empty on some file
 * systems): it is removed with the files it would have listed. Anywhere else it is an
 * error. */
#ifndef ATHLETE_LAKE_STREAM_H
#define ATHLETE_LAKE_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

typedef struct stream_range {
  char topic[256];
  int32_t partition;
  int64_t first, last; /* offsets consumed, inclusive */
} stream_range;

typedef struct stream_file {
  char name[320];
  int64_t rows;
} stream_file;

typedef struct stream_log {
  char dir[4096];     /* the table's folder */
  int64_t seq;        /* the last entry (0: none) */
  int64_t rows;       /* rows of all listed files */
  stream_file *files; /* every file of every entry, in log order */
  int nfiles;
  size_t cap_files;
  stream_range *ranges; /* per (topic, partition): the offsets consumed so far (first = -1) */
  int nranges;
  size_t cap_ranges;
  int64_t repaired; /* entries dropped as unreadable last entries (see above) */
} stream_log;

/* True when <lake>/<layer>/<table> is a stream table (it has a _log folder). */
bool stream_is_table(const char *dir);

/* Reads (or re-reads) the log of the stream table in `dir`, creating the folders when `create`.
 * A damaged last entry is removed (log->repaired counts it). */
int stream_load(stream_log *log, const char *dir, bool create, ath_error *err);
void stream_log_free(stream_log *log);

/* The offset after the last one the log records for (topic, partition), or -1 when none. */
int64_t stream_next_offset(const stream_log *log, const char *topic, int32_t partition);

/* Removes the batch files of (topic, partition) that no entry lists. Returns how many. */
int stream_remove_orphans(const stream_log *log, const char *topic, int32_t partition);

/* The name of a batch file. */
void stream_file_name(char *out, size_t n, const char *topic, int32_t partition, int64_t first,
                      int64_t last);

/* Writes `bytes` (n) to <dir>/<name> durably without replacing anything (temporary name,
 * fsync, link into place, fsync of the folder). ATH_ERR names the file; an existing file of
 * that name is a conflict (*exists set). */
int stream_put_file(const char *dir, const char *name, const void *bytes, size_t n, bool *exists,
                    ath_error *err);

/* Commits one entry: the ranges consumed, the batch files already in place (names and rows)
 * and the rejects file (NULL if none). Re-reads the log first: when another writer's entry
 * already covers any of these offsets, returns ATH_ERR with *conflict set, writing nothing
 * (the caller removes its files). Then writes the entry, and _manifest.json and _SUCCESS for
 * `schema`. On success the log holds the new entry. */
int stream_commit(stream_log *log, const stream_range *ranges, int nranges,
                  const stream_file *files, int nfiles, const char *rejects_file, int64_t nrejects,
                  const batch *schema, bool *conflict, ath_error *err);

#endif
