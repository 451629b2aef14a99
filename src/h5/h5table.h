/* Parallel HDF5 tables: one file per table, written by all ranks together through MPI-IO.
 *
 * Variable-length strings cannot be written in parallel, so the layout is Arrow-style, one
 * group per column (SPEC §5):
 *
 *   /                      attributes: format = "athlete-table-1" (string), rows (int64),
 *                          plus the caller's string attributes (e.g. table, layer)
 *   /_partitions           int64[nranks]: rows written by each rank, in rank order
 *   /<column>/             attributes: type  ("string", "int64", "double", "bool", "timestamp")
 *                                      nullable (int, 0/1)
 *                                      index (int, position in the schema; groups are stored
 *                                             in name order, so sort by it)
 *   /<column>/offsets      string columns: int64[rows + 1], offsets[0] == 0; row i is
 *   /<column>/bytes                         bytes[offsets[i] .. offsets[i+1]) (uint8, UTF-8)
 *   /<column>/values       other columns: int64 | float64 | uint8 (bool, 0/1) |
 *                                         int64 (timestamp: microseconds since 1970, UTC)
 *   /<column>/valid        uint8[rows], 1 = present, 0 = null; present for every nullable
 *                          column (also when it holds no null), absent otherwise
 *
 * A null row still has its slot: 0 in values, an empty range in bytes. Rows are in rank order
 * (all of rank 0's rows, then rank 1's, ...). Datasets are contiguous, unfiltered, allocated
 * early and never filled. Rank 0 creates the file, its groups, attributes and datasets with
 * serial HDF5 (in a child process: see h5write.c) and shares where each dataset begins; then
 * each rank writes its hyperslab (one contiguous range per dataset) with independent MPI-IO.
 * No HDF5 collective is involved, so an I/O error on one rank can never leave the others in a
 * collective: it is that rank's failure, agreed afterwards. String offsets are global (each
 * rank adds the exclusive scan of the byte counts before it). A table of zero
 * rows has zero-length datasets and is still a valid file.
 *
 * Determinism: no object modification times and no metadata aggregation blocks, so the same
 * rows from the same number of writing ranks give the same bytes. /_partitions records the
 * writer's rank count: for a file identical across rank counts (gold), gather the rows onto
 * one rank and call h5_write_table there with MPI_COMM_SELF.
 *
 * Reading it from Python (h5py) is ten lines: see tests/integration/h5_reader.py. */
#ifndef ATHLETE_H5_H5TABLE_H
#define ATHLETE_H5_H5TABLE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

#define H5TABLE_FORMAT "athlete-table-1"

/* Collective over `comm`: every rank passes its own rows (same schema on every rank, possibly 0
 * rows); the file holds all rows in rank order. Creates/truncates `path` (the caller handles
 * temporary folders and renames). `attrs` are extra string attributes for the root group
 * (e.g. "table" -> "athlete_bio", "layer" -> "bronze"), nattrs may be 0; "format" and "rows"
 * are taken.
 * Every rank returns the same status (agree with an MPI_Allreduce), err filled on every rank.
 * Fails (ATH_ERR, nothing written) when the ranks' schemas differ, a column name cannot be an
 * HDF5 group name ("", "_partitions", containing '/' or starting with '.'), or a column that
 * is not nullable holds nulls. */
int h5_write_table(MPI_Comm comm, const char *path, const batch *local,
                   const char *const *attr_keys, const char *const *attr_values, int nattrs,
                   ath_error *err);

/* I/O settings of a read or write (NULL: the defaults). */
typedef struct h5_io {
  /* Largest number of bytes one rank moves in one read or write call (0: 1 GiB); larger
   * selections are split into pieces, so MPI-IO's int counts never overflow. Tests set a few
   * bytes to force many pieces on small data. */
  size_t piece_bytes;
  /* A string column's offsets are int32 in the file when its bytes (all ranks) are below this,
   * else int64 (0: 2^31, the int32 limit; SPEC §5). Tests set it low to write int64 ones. */
  int64_t int32_offsets_below;
  /* Writes: every byte through MPI-IO's buffered writes. Otherwise (the default) a rank writes
   * the 4 KiB-aligned middle of each of its shares of a dataset (where it is 1 MiB or more) with
   * direct I/O, where the file system accepts O_DIRECT. */
  bool buffered;
  /* Bytes per direct write, a multiple of 4096 (0: 4 MiB); a share's middle goes direct when it
   * is at least this or 1 MiB, whichever is less. Tests set 4096 to go direct on small data. */
  size_t direct_chunk;
  /* Where not NULL, the bytes this rank wrote with direct I/O are added to it. */
  int64_t *direct_bytes;
} h5_io;

#define H5_PIECE_BYTES_DEFAULT ((size_t)1 << 30)

/* Local work a rank does while the raw data is written (see h5_write_table_with): run(arg,
 * err) must not call MPI or HDF5 (it runs on another thread); its result goes to status. */
typedef struct h5_side_job {
  int (*run)(void *arg, ath_error *err);
  void *arg;
  ath_error *err;
  int status;
} h5_side_job;

/* h5_write_table that also runs `side` (if not NULL) exactly once on every rank, while the
 * file's datasets exist and the raw data is being written: on a thread of its own, alongside
 * this rank's raw-data writes (so side->run must be safe to run beside them: it may read the
 * batch, never change it). Where no thread can be started, odd ranks run it before writing
 * their raw data and even ranks after, so that it overlaps another rank's writes. The
 * returned status is the file's; the side job's is in side->status. `io` may be NULL. */
int h5_write_table_with(MPI_Comm comm, const char *path, const batch *local,
                        const char *const *attr_keys, const char *const *attr_values, int nattrs,
                        h5_side_job *side, const h5_io *io, ath_error *err);

/* Starts the helper process that creates HDF5 files for this process (rank 0 of a write creates
 * the file in a process of its own, so that a failed HDF5 metadata write cannot take it down).
 * Call it first thing, before MPI_Init and before the process holds much memory: without it,
 * each file is created by forking the caller, which costs page-table copies and copy-on-write
 * faults in proportion to the caller's size. Not thread-safe; idempotent. Returns 0, or -1
 * when no helper runs (ATHLETE_H5_HELPER=0 in the environment, or fork failed): files are then
 * created by forking, with the same result. */
int h5_helper_start(void);
/* Files the helper has created so far in this process (for tests). */
long h5_helper_files(void);

/* Collective: reads a table written by h5_write_table with any number of ranks; rank r of n
 * gets rows [r*N/n, (r+1)*N/n) as a new batch (caller frees with batch_free). On failure
 * *out is NULL on every rank. */
int h5_read_table(MPI_Comm comm, const char *path, batch **out, ath_error *err);
/* h5_read_table with I/O settings. */
int h5_read_table_with(MPI_Comm comm, const char *path, const h5_io *io, batch **out,
                       ath_error *err);

/* Non-collective: schema and total rows (names in *fields are heap copies: free with
 * h5_free_fields). On failure *fields is NULL and *nfields 0. */
int h5_read_info(const char *path, field_def **fields, int *nfields, int64_t *nrows,
                 ath_error *err);
void h5_free_fields(field_def *fields, int nfields);

#endif
