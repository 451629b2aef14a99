/* h5_write_table: the collective writer of the layout described in h5table.h. */
#include "h5/h5table.h"
#include "core/agree.h"
#include "h5/h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What every rank knows about every rank's share, from one MPI_Allgather. */
typedef struct layout {
  int rank, size, ncols;
  int64_t *rows;      /* [size]: rows per rank */
  int64_t *bytes;     /* [size * ncols]: string bytes per rank and column (0 for others) */
  uint64_t *schema;   /* [size]: hash of each rank's schema */
  int64_t total_rows; /* rows of the table */
  int64_t row_start;  /* this rank's first row */
} layout;

/* Hash (FNV-1a) of the column names, types and nullability, to compare schemas cheaply. */
static uint64_t schema_hash(const batch *b) {
  uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < b->ncols; i++) {
    const column *c = &b->cols[i];
    for (const char *p = c->name;; p++) {
      h = (h ^ (uint8_t)*p) * 1099511628211ull;
      if (!*p) break;
    }
    h = (h ^ (uint64_t)(c->type * 2 + c->nullable)) * 1099511628211ull;
  }
  return (h ^ (uint64_t)b->ncols) * 1099511628211ull;
}

/* Checks this rank's batch before anything is created; returns ATH_OK or ATH_ERR. */
static int check_local(const batch *b, const h5where *w) {
  for (int i = 0; i < b->ncols; i++) {
    const column *c = &b->cols[i];
    const char *n = c->name;
    if (!n[0] || n[0] == '.' || strchr(n, '/') || strcmp(n, "_partitions") == 0)
      return ath_fail(w->err, ATH_ERR, "%s: column name \"%s\" cannot be stored in HDF5 (rank %d)",
                      w->path, n, w->rank);
    if (c->n != b->nrows)
      return ath_fail(w->err, ATH_ERR, "%s: column %s has %lld rows, the batch %lld (rank %d)",
                      w->path, n, (long long)c->n, (long long)b->nrows, w->rank);
    if (!c->nullable && c->null_count > 0)
      return ath_fail(w->err, ATH_ERR,
                      "%s: column %s is not nullable but holds %lld nulls (rank %d)", w->path, n,
                      (long long)c->null_count, w->rank);
  }
  return ATH_OK;
}

/* Collective: fills `lay` from every rank's row and byte counts and schema hash; returns
 * ATH_ERR (same on every rank) when the schemas differ. Free with layout_free. */
static int gather_layout(MPI_Comm comm, const batch *b, layout *lay, const h5where *w) {
  int nc = b->ncols, width = 2 + nc, range[2] = {nc, -nc};
  MPI_Comm_rank(comm, &lay->rank);
  MPI_Comm_size(comm, &lay->size);
  int rc = ath_agree(
      comm, ATH_MPI(MPI_Allreduce(MPI_IN_PLACE, range, 2, MPI_INT, MPI_MAX, comm), w->err), w->err);
  if (rc != ATH_OK) return rc;
  if (range[0] != -range[1])
    return ath_fail(w->err, ATH_ERR, "%s: the ranks' schemas differ (%d to %d columns)", w->path,
                    -range[1], range[0]);
  lay->ncols = nc;
  int64_t *mine = xcalloc((size_t)width, sizeof *mine);
  int64_t *all = xcalloc((size_t)width * (size_t)lay->size, sizeof *all);
  uint64_t h = schema_hash(b);
  memcpy(&mine[0], &h, sizeof h);
  mine[1] = b->nrows;
  for (int i = 0; i < nc; i++)
    mine[2 + i] = b->cols[i].type == COL_STRING ? (int64_t)b->cols[i].nbytes : 0;
  rc = ath_agree(
      comm, ATH_MPI(MPI_Allgather(mine, width, MPI_INT64_T, all, width, MPI_INT64_T, comm), w->err),
      w->err);
  if (rc != ATH_OK) {
    free(mine);
    free(all);
    return rc;
  }
  lay->rows = xcalloc((size_t)lay->size, sizeof *lay->rows);
  lay->bytes = xcalloc((size_t)lay->size * (size_t)(nc ? nc : 1), sizeof *lay->bytes);
  lay->schema = xcalloc((size_t)lay->size, sizeof *lay->schema);
  int bad = -1;
  for (int r = 0; r < lay->size; r++) {
    const int64_t *row = &all[(size_t)r * (size_t)width];
    memcpy(&lay->schema[r], &row[0], sizeof h);
    if (lay->schema[r] != lay->schema[0] && bad < 0) bad = r;
    lay->rows[r] = row[1];
    if (r < lay->rank) lay->row_start += row[1];
    lay->total_rows += row[1];
    memcpy(&lay->bytes[(size_t)r * (size_t)nc], &row[2], (size_t)nc * sizeof *row);
  }
  free(mine);
  free(all);
  if (bad >= 0)
    return ath_fail(w->err, ATH_ERR, "%s: rank %d's schema differs from rank 0's", w->path, bad);
  return ATH_OK;
}

static void layout_free(layout *lay) {
  free(lay->rows);
  free(lay->bytes);
  free(lay->schema);
}

/* String bytes of column `col` before this rank (*start) and in all (*total). */
static void byte_range(const layout *lay, int col, int64_t *start, int64_t *total) {
  *start = *total = 0;
  for (int r = 0; r < lay->size; r++) {
    int64_t n = lay->bytes[(size_t)r * (size_t)lay->ncols + (size_t)col];
    if (r < lay->rank) *start += n;
    *total += n;
  }
}

/* One dataset created (collectively) and waiting for this rank's raw data: `count` elements
 * of mtype from buf at element `start`, `add` added to each (see h5u_io). */
typedef struct pending {
  hid_t dset, mtype;
  size_t elem;
  int64_t start, count, add;
  const void *buf;
  char object[256];
} pending;

/* Every dataset and group of the file, created first (collective metadata), written next
 * (independent raw data), closed last (collective again). */
typedef struct plan {
  pending *ds;
  int nds;
  size_t capds;
  hid_t *groups;
  int ngroups;
} plan;

/* Collective for the metadata only: creates /<group>/<name> with `total` elements of `ftype`
 * and queues this rank's write of `count` elements from buf at `start`. Returns this rank's
 * status (no agreement: the caller creates every dataset of a column on every rank whatever
 * happened, then agrees once). */
static int create_dataset(plan *pl, hid_t group, const char *gname, const char *name, hid_t ftype,
                          hid_t mtype, int64_t total, int64_t start, int64_t count, const void *buf,
                          int64_t add, const h5where *w) {
  grow_array((void **)&pl->ds, &pl->capds, (size_t)pl->nds + 1, sizeof *pl->ds);
  pending *d = &pl->ds[pl->nds];
  snprintf(d->object, sizeof d->object, "%s%s/%s", gname[0] ? "/" : "", gname, name);
  d->dset = h5u_create_dataset(group, name, ftype, total);
  if (d->dset < 0) return h5u_fail(w, d->object, "create dataset");
  d->mtype = mtype;
  d->elem = H5Tget_size(mtype);
  d->start = start;
  d->count = count;
  d->buf = buf;
  d->add = add;
  pl->nds++;
  return ATH_OK;
}

/* File and memory types of a fixed-width column's values. */
static void value_types(col_type t, hid_t *ftype, hid_t *mtype) {
  switch (t) {
  case COL_DOUBLE:
    *ftype = H5T_IEEE_F64LE, *mtype = H5T_NATIVE_DOUBLE;
    return;
  case COL_BOOL:
    *ftype = H5T_STD_U8LE, *mtype = H5T_NATIVE_UINT8;
    return;
  default:
    *ftype = H5T_STD_I64LE, *mtype = H5T_NATIVE_INT64;
  }
}

/* Collective: the datasets of one column (offsets + bytes, or values; valid if nullable). */
static int create_data(plan *pl, hid_t g, const column *c, int col, const layout *lay,
                       const h5where *w) {
  int64_t n = c->n, start = lay->row_start, total = lay->total_rows;
  int rc = ATH_OK, rc2;
  /* Every dataset is created on every rank even after a local failure (creation is collective
   * metadata); the first failure is the one reported. */
  if (c->type == COL_STRING) {
    int64_t bstart, btotal;
    byte_range(lay, col, &bstart, &btotal);
    /* The last rank also writes the closing offset (== btotal). */
    int64_t noff = n + (lay->rank == lay->size - 1);
    rc = create_dataset(pl, g, c->name, "offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, total + 1,
                        start, noff, c->offsets, bstart, w);
    rc2 = create_dataset(pl, g, c->name, "bytes", H5T_STD_U8LE, H5T_NATIVE_UINT8, btotal, bstart,
                         (int64_t)c->nbytes, c->bytes, 0, w);
  } else {
    hid_t ftype, mtype;
    value_types(c->type, &ftype, &mtype);
    rc2 = create_dataset(pl, g, c->name, "values", ftype, mtype, total, start, n, c->values, 0, w);
  }
  if (rc == ATH_OK) rc = rc2;
  if (c->nullable) {
    rc2 = create_dataset(pl, g, c->name, "valid", H5T_STD_U8LE, H5T_NATIVE_UINT8, total, start, n,
                         c->valid, 0, w);
    if (rc == ATH_OK) rc = rc2;
  }
  return rc;
}

/* Collective: the group of column `col` with its attributes and datasets. */
static int create_column(MPI_Comm comm, plan *pl, hid_t file, const column *c, int col,
                         const layout *lay, const h5where *w) {
  char object[512];
  snprintf(object, sizeof object, "/%s", c->name);
  hid_t g = h5u_create_group(file, c->name);
  int nullable = c->nullable, rc = ATH_OK;
  if (g < 0)
    rc = h5u_fail(w, object, "create group"); /* still agree below with the other ranks */
  else
    pl->groups[pl->ngroups++] = g;
  if (g >= 0 && (h5u_set_str_attr(g, "type", col_type_name(c->type)) < 0 ||
                 h5u_set_attr(g, "nullable", H5T_NATIVE_INT, &nullable) < 0 ||
                 h5u_set_attr(g, "index", H5T_NATIVE_INT, &col) < 0))
    rc = h5u_fail(w, object, "write attributes");
  if ((rc = ath_agree(comm, rc, w->err)) == ATH_OK) rc = create_data(pl, g, c, col, lay, w);
  return rc;
}

/* The root attributes (metadata: no MPI calls of ours). */
static int write_root(hid_t file, const char *const *keys, const char *const *values, int nattrs,
                      const layout *lay, const h5where *w) {
  if (h5u_set_str_attr(file, "format", H5TABLE_FORMAT) < 0 ||
      h5u_set_attr(file, "rows", H5T_NATIVE_INT64, &lay->total_rows) < 0)
    return h5u_fail(w, "/", "write attributes");
  for (int i = 0; i < nattrs; i++)
    if (h5u_set_str_attr(file, keys[i], values[i]) < 0) return h5u_fail(w, "/", keys[i]);
  return ATH_OK;
}

/* This rank's raw data of every dataset (independent MPI-IO, no collective call), with the
 * side job before it on odd ranks and after it on even ones: the kernel serialises writes to
 * one file, so while one rank copies its data into the file the other does its side job. */
static int write_raw(const plan *pl, int rank, hid_t dxpl, h5_side_job *side, const h5where *w) {
  int rc = ATH_OK;
  if (side && rank % 2 == 1) side->status = side->run(side->arg, side->err);
  for (int i = 0; i < pl->nds && rc == ATH_OK; i++) {
    const pending *d = &pl->ds[i];
    if (h5u_io(true, d->dset, d->mtype, d->elem, d->start, d->count, (void *)d->buf, d->add, dxpl) <
        0)
      rc = h5u_fail(w, d->object, "write");
  }
  if (side && rank % 2 == 0) side->status = side->run(side->arg, side->err);
  return rc;
}

/* Closes every dataset and group (the same objects in the same order on every rank). */
static int close_plan(plan *pl, const h5where *w, int rc) {
  for (int i = 0; i < pl->nds; i++)
    if (H5Dclose(pl->ds[i].dset) < 0 && rc == ATH_OK)
      rc = h5u_fail(w, pl->ds[i].object, "close dataset");
  for (int i = 0; i < pl->ngroups; i++)
    H5Gclose(pl->groups[i]);
  free(pl->ds);
  free(pl->groups);
  return rc;
}

/* Room for the file's metadata, held from before the file exists until just before it closes.
 *
 * Parallel HDF5 writes its metadata when the file closes, and each rank passes a barrier in the
 * metadata cache's sync point there. When a rank's metadata write fails (the disk is full), it
 * leaves that path before the barrier and waits in MPI_File_close's barrier instead, while the
 * others wait in the sync point: the job hangs. So rank 0 reserves, in a sidecar file, more than
 * the metadata can take; a disk too full for that fails here, before any HDF5 call. Data writes
 * that run out of space fail on their own rank (independent I/O, no collective), and before the
 * close every rank has agreed and rank 0 has released the reserve, so the metadata fits. */
#define H5_RESERVE_PATH_MAX 4400

static size_t metadata_reserve_bytes(const batch *b) {
  return ((size_t)256 << 10) + (size_t)(4 * b->ncols + 2) * ((size_t)8 << 10);
}

static int reserve_metadata(MPI_Comm comm, size_t bytes, char *path, size_t n, const h5where *w) {
  snprintf(path, n, "%s.metadata-reserve", w->path);
  int rc = ATH_OK;
  if (w->rank == 0) {
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    int e = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)bytes);
    if (fd >= 0 && close(fd) != 0 && e == 0) e = errno;
    if (e) {
      unlink(path);
      rc =
          ath_fail(w->err, ATH_ERR, "%s: no room for the file's metadata (%zu bytes): %s (rank %d)",
                   w->path, bytes, strerror(e), w->rank);
    }
  }
  return ath_agree(comm, rc, w->err);
}

/* Collective: releases the reserve (every rank has finished writing), then agrees. */
static int release_metadata(MPI_Comm comm, const char *path, int rc, const h5where *w) {
  if (w->rank == 0) unlink(path);
  return ath_agree(comm, rc, w->err);
}

/* Collective: creates the file and writes everything into it; the file is closed on return
 * (also on failure). Returns the agreed status. */
static int write_file(MPI_Comm comm, const batch *b, const layout *lay, const char *const *keys,
                      const char *const *values, int nattrs, h5_side_job *side, const h5where *w) {
  hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID, dxpl = H5I_INVALID_HID;
  hid_t fcpl = H5I_INVALID_HID;
  plan pl = {.groups = xcalloc((size_t)b->ncols + 1, sizeof(hid_t))};
  bool side_done = false;
  char reserve[H5_RESERVE_PATH_MAX];
  int rc = reserve_metadata(comm, metadata_reserve_bytes(b), reserve, sizeof reserve, w);
  if (rc != ATH_OK) {
    if (side) side->status = side->run(side->arg, side->err);
    free(pl.groups);
    return rc;
  }
  if ((fapl = h5u_fapl_mpio(comm)) < 0 || (dxpl = h5u_dxpl_independent()) < 0 ||
      (fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 || H5Pset_obj_track_times(fcpl, 0) < 0)
    rc = h5u_fail(w, NULL, "MPI-IO property lists");
  /* No metadata / small-data aggregation blocks: HDF5 1.10 writes their unused tails from
   * uninitialised memory (stale bytes of earlier tables), so files would differ run to run. */
  else if (H5Pset_coll_metadata_write(fapl, true) < 0 || H5Pset_meta_block_size(fapl, 0) < 0 ||
           H5Pset_small_data_block_size(fapl, 0) < 0)
    rc = h5u_fail(w, NULL, "file access properties");
  else if ((file = H5Fcreate(w->path, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
    rc = h5u_fail(w, NULL, "create file");
  if ((rc = ath_agree(comm, rc, w->err)) != ATH_OK) goto out;
  rc = write_root(file, keys, values, nattrs, lay, w);
  if ((rc = ath_agree(comm, rc, w->err)) != ATH_OK) goto out;
  rc = create_dataset(&pl, file, "", "_partitions", H5T_STD_I64LE, H5T_NATIVE_INT64, lay->size,
                      lay->rank, 1, &lay->rows[lay->rank], 0, w);
  if ((rc = ath_agree(comm, rc, w->err)) != ATH_OK) goto out;
  for (int i = 0; i < b->ncols; i++) {
    rc = create_column(comm, &pl, file, &b->cols[i], i, lay, w);
    if ((rc = ath_agree(comm, rc, w->err)) != ATH_OK) goto out;
  }
  rc = write_raw(&pl, lay->rank, dxpl, side, w);
  side_done = true;
out:
  if (side && !side_done) side->status = side->run(side->arg, side->err);
  rc = close_plan(&pl, w, rc);
  rc = release_metadata(comm, reserve, rc, w);
  if (file >= 0 && H5Fclose(file) < 0 && rc == ATH_OK) rc = h5u_fail(w, NULL, "close file");
  if (dxpl >= 0) H5Pclose(dxpl);
  if (fapl >= 0) H5Pclose(fapl);
  if (fcpl >= 0) H5Pclose(fcpl);
  return ath_agree(comm, rc, w->err);
}

int h5_write_table_with(MPI_Comm comm, const char *path, const batch *local,
                        const char *const *attr_keys, const char *const *attr_values, int nattrs,
                        h5_side_job *side, ath_error *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  ath_error mine = {0};
  h5where w = {.path = path, .err = &mine};
  MPI_Comm_rank(comm, &w.rank);
  layout lay = {0};
  int rc = ath_agree(comm, check_local(local, &w), &mine);
  if (rc == ATH_OK) rc = gather_layout(comm, local, &lay, &w);
  if (rc == ATH_OK)
    rc = write_file(comm, local, &lay, attr_keys, attr_values, nattrs, side, &w);
  else if (side)
    side->status = side->run(side->arg, side->err);
  layout_free(&lay);
  if (rc != ATH_OK && err) ath_fail(err, rc, "%s", mine.msg);
  return rc;
}

int h5_write_table(MPI_Comm comm, const char *path, const batch *local,
                   const char *const *attr_keys, const char *const *attr_values, int nattrs,
                   ath_error *err) {
  return h5_write_table_with(comm, path, local, attr_keys, attr_values, nattrs, NULL, err);
}
