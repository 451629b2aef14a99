/* Stream tables: append-only tables of batch files and a commit log (SPEC §10).
 *
 *   <lake>/<layer>/<table>/
 *     <topic>+<partition>+<first>+<last>.parquet   a batch file: the rows of one partition's
 *                                                  offsets [first, last], named as Kafka
 *                                                  Connect's HDFS sink names them
 *     _rejects/<topic>+<partition>+<first>+<last>.parquet   the messages of that range that
 *                                                  were rejected
 *     _log/<20-digit sequence>.json                the commit log, one entry per batch
 *     _manifest.json, _SUCCESS                     the table as of the last entry
 *
 * Every file is written under a hidden temporary name, fsynced and moved into place without
 * replacing anything (link + unlink: a name that exists already is a conflict, never
 * overwritten), then its folder is fsynced. A log entry names its writer and lists the
 * partitions it claims, the range of offsets per partition the batch consumed (rejected and
 * duplicate messages included, so the next batch starts after them), and its files. The log
 * is the truth: readers read the files its entries list, in order.
 *
 * Ownership. A writer that is assigned partitions first commits an entry claiming them, then
 * removes the files of those partitions that no entry lists (left by a crash or a zombie),
 * then reads from the offset after the last one the log records. A writer whose commit finds,
 * among the entries written since it last looked, a claim by another writer on one of its
 * partitions, or a range that overlaps its own, has lost those partitions: its batch is
 * abandoned (its files removed), never committed. So a zombie can neither overwrite a file
 * nor have an entry accepted after the new owner started, and no orphan is removed that an
 * entry will list later.
 *
 * Entry format (valid JSON; one item a line, so a damaged entry is easy to see):
 *   {"seq": 3, "writer": "host-1234-1700000000", "rows": 88, "rejects": 2,
 *    "claims": [
 *     {"topic": "t", "partition": 0}
 *    ],
 *    "offsets": [
 *     {"topic": "t", "partition": 0, "first": 10, "last": 99}
 *    ],
 *    "files": [
 *     {"file": "t+0+10+99.parquet", "rows": 88}
 *    ],
 *    "rejects_files": [
 *     {"file": "_rejects/t+0+10+99.parquet", "rows": 2}
 *    ]}
 * An entry that cannot be parsed is treated as never written when it is the last one (a crash
 * between its rename and the fsync of its folder can leave it empty on some file systems): it
 * is removed. Anywhere else it is an error. Topic names are Kafka's ([a-zA-Z0-9._-]), so no
 * name in an entry needs escaping. */
#ifndef ATHLETE_LAKE_STREAM_H
#define ATHLETE_LAKE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

#define STREAM_NAME_MAX 512

typedef struct stream_range {
  char topic[256];
  int32_t partition;
  int64_t first, last; /* offsets consumed, inclusive (claims: first = last = -1) */
} stream_range;

typedef struct stream_file {
  char name[STREAM_NAME_MAX]; /* relative to the table's folder */
  int64_t rows;
} stream_file;

/* One log entry. */
typedef struct stream_entry {
  int64_t seq;
  char writer[256];
  int64_t rows, rejects;
  stream_range *claims, *ranges;
  int nclaims, nranges;
  stream_file *files, *rejects_files;
  int nfiles, nrejects_files;
} stream_entry;

/* The log as read so far. */
typedef struct stream_log {
  char dir[4096];     /* the table's folder */
  int64_t seq;        /* the last entry read (0: none) */
  int64_t rows;       /* rows of all listed files */
  int64_t rejects;    /* rows of all listed rejects files */
  stream_file *files; /* every batch file of every entry, in log order */
  int nfiles;
  size_t cap_files;
  stream_file *rejects_files; /* every rejects file, in log order */
  int nrejects_files;
  size_t cap_rejects_files;
  stream_range *next; /* per (topic, partition): the last offset consumed (in `last`) */
  int nnext;
  size_t cap_next;
  int64_t repaired; /* unreadable last entries removed */
} stream_log;

/* Called for every entry read (stream_load, and entries other writers added before a
 * commit). `arg` is the caller's. */
typedef void (*stream_entry_fn)(void *arg, const stream_entry *e);

/* True when the folder `dir` is a stream table (it has a _log folder). */
bool stream_is_table(const char *dir);

/* Reads the log of the stream table in `dir` from the start, up to entry `upto` (-1: all),
 * creating the folders when `create`; `fn` (may be NULL) sees every entry. A damaged last
 * entry is removed (log->repaired counts it). */
int stream_load(stream_log *log, const char *dir, bool create, int64_t upto, stream_entry_fn fn,
                void *arg, ath_error *err);
void stream_log_free(stream_log *log);

/* Reads the entries written since `log` (from stream_load) was last read, by any writer, and
 * applies them: a cheap way to follow the table without committing. A writer that commits must
 * not refresh its own log this way (stream_commit checks the entries it reads for conflicts). */
int stream_refresh(stream_log *log, ath_error *err);

/* The offset after the last one the log records for (topic, partition), or -1 when none. */
int64_t stream_next_offset(const stream_log *log, const char *topic, int32_t partition);

/* The name of a batch file "<topic>+<partition>+<first>+<last>.parquet". */
void stream_file_name(char *out, size_t n, const char *topic, int32_t partition, int64_t first,
                      int64_t last);

/* Writes `bytes` (n) to <log dir>/<name> durably without replacing anything. An existing file
 * of that name is a conflict: ATH_ERR with *exists set. */
int stream_put_file(const stream_log *log, const char *name, const void *bytes, size_t n,
                    bool *exists, ath_error *err);

/* Removes the files of (topic, partition) in the table's folder and in _rejects/ that no entry
 * lists, and hidden temporary files whose writer is gone. Returns how many were removed. */
int stream_remove_orphans(const stream_log *log, const char *topic, int32_t partition);

/* Commits entry `e` (its seq is set here; its writer names the caller). First reads the
 * entries other writers added since the log was last read, passing each to `fn`; when `fn`
 * says one conflicts (returns true through *conflict) or one's range overlaps e's, nothing is
 * written: ATH_ERR with *conflict set. Then writes the entry as the next sequence number
 * (retrying after any entry that won the race), and _manifest.json and _SUCCESS, describing
 * `schema`. On success the log includes e. */
int stream_commit(stream_log *log, stream_entry *e, const batch *schema,
                  bool (*fn)(void *arg, const stream_entry *other), void *arg, bool *conflict,
                  ath_error *err);

#endif
