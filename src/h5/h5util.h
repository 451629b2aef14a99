/* Internal helpers shared by the HDF5 table writer and reader: error capture, rank agreement,
 * property lists, attributes and the piecewise independent I/O. Not part of the public API. */
#ifndef ATHLETE_H5_H5UTIL_H
#define ATHLETE_H5_H5UTIL_H

/* Debian's HDF5 1.10 defaults to the 1.8 API (H5_USE_18_API_DEFAULT); this module names every
 * versioned call explicitly (H5Dopen2, H5Oget_info_by_name2, ...), so the default mapping does
 * not matter. */
#include <hdf5.h>
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "h5/h5table.h"

/* Where an operation happens, for error messages: "<path>: <object>: <step> (rank N): ...". */
typedef struct h5where {
  const char *path;
  int rank;
  ath_error *err;
  size_t piece;        /* largest bytes per read or write call (h5_io.piece_bytes) */
  int64_t int32_below; /* h5_io.int32_offsets_below, resolved (writes only) */
  bool direct;         /* writes: !h5_io.buffered, and the rest of h5_io's direct settings */
  int64_t direct_chunk, direct_min, *direct_bytes;
} h5where;

/* The piece size of io (NULL or 0: H5_PIECE_BYTES_DEFAULT). */
size_t h5u_piece(const h5_io *io);

/* Records an ATH_ERR naming the path, the object (e.g. "/name/offsets", or NULL for the file
 * itself), the failed step and
 * the rank, followed by the most specific message on HDF5's error stack (then cleared).
 * Returns ATH_ERR. */
int h5u_fail(const h5where *w, const char *object, const char *step);

/* File access list for MPI-IO over `comm` (caller closes), or H5I_INVALID_HID. */
hid_t h5u_fapl_mpio(MPI_Comm comm);
/* Transfer list for independent MPI-IO (caller closes), or H5I_INVALID_HID. Each rank's
 * share of a dataset is one contiguous range, so collective buffering would only add copies and
 * synchronisation: raw data moves independently, straight between the caller's buffer and the
 * file. */
hid_t h5u_dxpl_independent(void);

/* Creates the group `name` with a UTF-8 link name (caller closes), or H5I_INVALID_HID. */
hid_t h5u_create_group(hid_t loc, const char *name);

/* Creates a 1-D contiguous dataset of `n` elements with early allocation and no fill
 * (caller closes), or H5I_INVALID_HID. */
hid_t h5u_create_dataset(hid_t loc, const char *name, hid_t type, int64_t n);
/* Number of elements of the 1-D dataset `dset`, or -1 when it is not 1-D. */
int64_t h5u_dataset_len(hid_t dset);

/* Scalar attributes: a UTF-8 variable-length string, or one value of a native type. Return
 * 0 on success, -1 on failure (the HDF5 stack holds why). */
int h5u_set_str_attr(hid_t loc, const char *key, const char *value);
int h5u_set_attr(hid_t loc, const char *key, hid_t type, const void *value);
/* Reads a string attribute (variable or fixed length) into buf (NUL-terminated, truncated to
 * size - 1); returns 0 or -1. */
int h5u_get_str_attr(hid_t loc, const char *key, char *buf, size_t size);
/* Reads a scalar numeric attribute converted to `type`; returns 0 or -1. */
int h5u_get_attr(hid_t loc, const char *key, hid_t type, void *value);

/* Independent (no MPI calls of ours, no collective transfer): writes (or reads) `count`
 * elements of `elem` bytes between `buf` and elements [start, start + count) of the 1-D dataset
 * `dset`, in pieces of at most `piece` bytes (so MPI-IO's int counts never overflow); count
 * 0 moves nothing. When writing, `add` is added to every (int64) element on the way out,
 * through a copy of at most 1 MiB per piece (used for global string offsets); pass 0 otherwise.
 * Returns 0, or -1 after a failed HDF5 call (or when dset < 0). */
int h5u_io(bool write, hid_t dset, hid_t memtype, size_t elem, int64_t start, int64_t count,
           void *buf, int64_t add, hid_t dxpl, size_t piece);

#endif
