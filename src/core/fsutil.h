/* Durable files: the one place that knows "temporary name, fsync, move into place, fsync the
 * folder" (SPEC §7, §10), for the lake's tables, the Parquet writer, landing downloads and the
 * generator. */
#ifndef ATHLETE_CORE_FSUTIL_H
#define ATHLETE_CORE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* mkdir -p. */
int fs_mkdirs(const char *path, ath_error *err);
/* fsyncs a folder / the folder holding `path` (so a rename in it is durable). */
int fs_sync_dir(const char *dir, ath_error *err);
int fs_sync_parent(const char *path, ath_error *err);
/* Moves the finished, already fsynced file `tmp` to `final` and fsyncs the folder. With
 * `replace`, an existing `final` is replaced atomically (rename); without, an existing `final`
 * is never touched: the move fails with *exists set (link, then unlink of tmp; the temporary
 * file is removed either way). */
int fs_publish(const char *tmp, const char *final, bool replace, bool *exists, ath_error *err);
/* Writes p[0..n) to `path` durably: a hidden temporary ".<name>.tmp-<host>-<pid>" beside it
 * (fs_writer_gone can tell when its writer is gone), write, fsync, close, fs_publish. */
int fs_write_file(const char *path, const void *p, size_t n, bool replace, bool *exists,
                  ath_error *err);

/* This host's name with '-', '.' and '/' made '_' (for file names that carry it). */
void fs_host_name(char *out, size_t n);
/* True when the process that wrote `path`, named in it by `host` and `pid`, is gone: a
 * process of this host that no longer runs, or (other hosts, or no name: no way to ask) a file
 * untouched for a day. */
bool fs_writer_gone(const char *path, const char *host, long pid);

#endif
