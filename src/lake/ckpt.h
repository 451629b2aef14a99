/* Checkpoints of a consumer's state, kept in a folder of the lake (SPEC §10 stream-stats).
 *
 *   <dir>/<20-digit seq>.delta   what one committed batch changed
 *   <dir>/<20-digit seq>.full    the whole state as of that batch (a compaction)
 *
 * A checkpoint holds the input's next offset per partition as of its batch and an opaque
 * payload (the caller's format). The file: "ATHCKPT1", seq (u64), full (u8), the number of
 * partitions (u32) and each (partition i32, next offset i64), the payload's length (u64) and
 * bytes, then a 64-bit checksum of everything before it (ckpt.c); integers little-endian. Each file
 * is written durably under a temporary name and moved into place without replacing anything
 * (fsutil.h), so two writers can never overwrite each other's checkpoint: the second one finds
 * the name taken. */
#ifndef ATHLETE_LAKE_CKPT_H
#define ATHLETE_LAKE_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct ckpt_pos {
  int32_t partition;
  int64_t next; /* the offset after the last one the checkpoint's state holds */
} ckpt_pos;

typedef struct ckpt_name {
  uint64_t seq;
  bool full;
} ckpt_name;

typedef struct ckpt {
  ckpt_name name;
  ckpt_pos *pos;
  int npos;
  uint8_t *data;
  size_t len;
} ckpt;

/* The checkpoints in dir (which need not exist), by seq, a delta before the full of its seq.
 * Other files are ignored. The caller frees *out. */
int ckpt_list(const char *dir, ckpt_name **out, int *n, ath_error *err);
/* Writes k durably (creating dir); *exists when a checkpoint of that name exists already
 * (nothing is written then, and ATH_ERR is returned). */
int ckpt_write(const char *dir, const ckpt *k, bool *exists, ath_error *err);
/* Reads a checkpoint: ATH_ERR naming the file when it is damaged (bad magic, truncated, wrong
 * checksum, another name inside). */
int ckpt_read(const char *dir, ckpt_name name, ckpt *out, ath_error *err);
void ckpt_free(ckpt *k);
/* Removes a checkpoint (absent is fine) and fsyncs the folder. */
int ckpt_remove(const char *dir, ckpt_name name, ath_error *err);

#endif
