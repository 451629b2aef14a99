/* h5_read_info and h5_read_table: read the layout described in h5table.h, with any number of
 * ranks. */
#include "h5/h5table.h"
#include "core/agree.h"
#include "h5/h5util.h"

#include <stdlib.h>
#include <string.h>

void h5_free_fields(field_def *fields, int nfields) {
  if (!fields) return;
  for (int i = 0; i < nfields; i++)
    free((char *)fields[i].name);
  free(fields);
}

/* Reads the type, nullable and index attributes of the column group `name` into fields[index]
 * (name copied). Returns ATH_OK or ATH_ERR. */
static int read_field(hid_t file, const char *name, field_def *fields, int nfields,
                      const h5where *w) {
  char object[512], type[32];
  snprintf(object, sizeof object, "/%s", name);
  hid_t g = H5Gopen2(file, name, H5P_DEFAULT);
  if (g < 0) return h5u_fail(w, object, "open group");
  int nullable = 0, index = -1, t = -1;
  if (h5u_get_str_attr(g, "type", type, sizeof type) == 0) t = col_type_parse(type);
  int ok = t >= 0 && h5u_get_attr(g, "nullable", H5T_NATIVE_INT, &nullable) == 0 &&
           h5u_get_attr(g, "index", H5T_NATIVE_INT, &index) == 0;
  H5Gclose(g);
  H5Eclear2(H5E_DEFAULT);
  if (!ok || index < 0 || index >= nfields || fields[index].name)
    return ath_fail(w->err, ATH_ERR, "%s: %s: missing or bad type/nullable/index attributes",
                    w->path, object);
  fields[index] = (field_def){xstrdup(name), (col_type)t, nullable != 0};
  return ATH_OK;
}

/* True when the root link `name` is a group (a column). */
static bool is_group(hid_t file, const char *name) {
  H5O_info_t info;
  return H5Oget_info_by_name2(file, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
         info.type == H5O_TYPE_GROUP;
}

/* Reads the schema and row count of an open table file. On success *fields (heap, free with
 * h5_free_fields) holds the columns in schema order. Returns ATH_OK or ATH_ERR. */
static int read_schema(hid_t file, field_def **fields, int *nfields, int64_t *nrows,
                       const h5where *w) {
  char format[64], name[1024];
  H5G_info_t info;
  *fields = NULL;
  *nfields = 0;
  if (h5u_get_str_attr(file, "format", format, sizeof format) < 0 ||
      strcmp(format, H5TABLE_FORMAT) != 0 ||
      h5u_get_attr(file, "rows", H5T_NATIVE_INT64, nrows) < 0 || *nrows < 0) {
    H5Eclear2(H5E_DEFAULT);
    return ath_fail(w->err, ATH_ERR, "%s: not an athlete table (format \"%s\", want \"%s\")",
                    w->path, format, H5TABLE_FORMAT);
  }
  if (H5Gget_info(file, &info) < 0) return h5u_fail(w, "/", "list columns");
  int ncols = 0, rc = ATH_OK;
  for (hsize_t i = 0; i < info.nlinks; i++) {
    if (H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                           H5P_DEFAULT) < 0)
      return h5u_fail(w, "/", "list columns");
    ncols += strcmp(name, "_partitions") != 0 && is_group(file, name);
  }
  field_def *f = xcalloc((size_t)(ncols ? ncols : 1), sizeof *f);
  for (hsize_t i = 0; i < info.nlinks && rc == ATH_OK; i++) {
    H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
    if (strcmp(name, "_partitions") != 0 && is_group(file, name))
      rc = read_field(file, name, f, ncols, w);
  }
  if (rc != ATH_OK) {
    h5_free_fields(f, ncols);
    return rc;
  }
  *fields = f;
  *nfields = ncols;
  return ATH_OK;
}

int h5_read_info(const char *path, field_def **fields, int *nfields, int64_t *nrows,
                 ath_error *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  h5where w = {.path = path, .rank = 0, .err = err};
  int mpi_up = 0;
  MPI_Initialized(&mpi_up);
  if (mpi_up) MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  *fields = NULL;
  *nfields = 0;
  *nrows = 0;
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return h5u_fail(&w, NULL, "open file");
  int rc = read_schema(file, fields, nfields, nrows, &w);
  H5Fclose(file);
  return rc;
}

/* Opens /<col>/<name>, checks it has `want` elements and reads this rank's `count`
 * elements at `start` into buf. Returns ATH_OK or ATH_ERR (this rank's view). */
static int read_dataset(hid_t file, const char *col, const char *name, hid_t mtype, int64_t want,
                        int64_t start, int64_t count, void *buf, hid_t dxpl, const h5where *w) {
  char object[512];
  snprintf(object, sizeof object, "/%s/%s", col, name);
  hid_t dset = H5Dopen2(file, object, H5P_DEFAULT);
  int64_t len = dset >= 0 ? h5u_dataset_len(dset) : -1;
  int rc = ATH_OK;
  if (dset < 0)
    rc = h5u_fail(w, object, "open dataset");
  else if (want >= 0 && len != want)
    rc = ath_fail(w->err, ATH_ERR, "%s: %s: %lld elements, expected %lld", w->path, object,
                  (long long)len, (long long)want);
  else if (start + count > len)
    rc = ath_fail(w->err, ATH_ERR, "%s: %s: elements [%lld, %lld) past its end %lld (rank %d)",
                  w->path, object, (long long)start, (long long)(start + count), (long long)len,
                  w->rank);
  if (rc == ATH_OK &&
      h5u_io(false, dset, mtype, H5Tget_size(mtype), start, count, buf, 0, dxpl, w->piece) < 0)
    rc = h5u_fail(w, object, "read");
  if (dset >= 0) H5Dclose(dset);
  return rc;
}

/* Makes this rank's offsets start at 0 and checks they never decrease; ATH_OK or ATH_ERR. */
static int rebase_offsets(column *c, int64_t n, int64_t lo, const h5where *w) {
  int64_t base = c->offsets[0];
  for (int64_t i = 0; i <= n; i++) {
    if (c->offsets[i] < base || (i > 0 && c->offsets[i] < c->offsets[i - 1] + base))
      return ath_fail(w->err, ATH_ERR, "%s: /%s/offsets: decreasing at row %lld (rank %d)", w->path,
                      c->name, (long long)(lo + i), w->rank);
    c->offsets[i] -= base;
  }
  return ATH_OK;
}

/* Collective: reads rows [lo, lo + n) of string column c (empty, reserved for n rows) out of
 * a table of `total` rows. */
static int read_strings(MPI_Comm comm, hid_t file, column *c, int64_t lo, int64_t n, int64_t total,
                        hid_t dxpl, const h5where *w) {
  int rc = read_dataset(file, c->name, "offsets", H5T_NATIVE_INT64, total + 1, lo, n + 1,
                        c->offsets, dxpl, w);
  int64_t base = c->offsets[0];
  if (rc == ATH_OK) rc = rebase_offsets(c, n, lo, w);
  if ((rc = ath_agree(comm, rc, w->err)) != ATH_OK) return rc;
  int64_t nb = c->offsets[n];
  col_reserve(c, 0, (size_t)nb);
  rc = read_dataset(file, c->name, "bytes", H5T_NATIVE_UINT8, -1, base, nb, c->bytes, dxpl, w);
  c->nbytes = (size_t)nb;
  return rc;
}

/* Collective: reads rows [lo, lo + n) of column c (empty) into it. */
static int read_column(MPI_Comm comm, hid_t file, column *c, int64_t lo, int64_t n, int64_t total,
                       hid_t dxpl, const h5where *w) {
  col_reserve(c, (size_t)n, 0);
  int rc;
  if (c->type == COL_STRING) {
    rc = read_strings(comm, file, c, lo, n, total, dxpl, w);
  } else {
    hid_t mtype = c->type == COL_DOUBLE ? H5T_NATIVE_DOUBLE
                  : c->type == COL_BOOL ? H5T_NATIVE_UINT8
                                        : H5T_NATIVE_INT64;
    rc = read_dataset(file, c->name, "values", mtype, total, lo, n, c->values, dxpl, w);
  }
  if ((rc = ath_agree(comm, rc, w->err)) != ATH_OK) return rc;
  if (c->nullable)
    rc = read_dataset(file, c->name, "valid", H5T_NATIVE_UINT8, total, lo, n, c->valid, dxpl, w);
  else if (n > 0)
    memset(c->valid, 1, (size_t)n);
  c->n = n;
  c->null_count = 0;
  for (int64_t i = 0; i < n; i++) {
    c->valid[i] = c->valid[i] != 0;
    c->null_count += !c->valid[i];
  }
  return ath_agree(comm, rc, w->err);
}

/* Collective: opens the file and reads the schema on every rank; the agreed status. */
static int open_table(MPI_Comm comm, hid_t *file, field_def **fields, int *nfields, int64_t *nrows,
                      const h5where *w) {
  hid_t fapl = h5u_fapl_mpio(comm);
  int rc = ATH_OK;
  if (fapl < 0)
    rc = h5u_fail(w, NULL, "MPI-IO property lists");
  else if ((*file = H5Fopen(w->path, H5F_ACC_RDONLY, fapl)) < 0)
    rc = h5u_fail(w, NULL, "open file");
  if (fapl >= 0) H5Pclose(fapl);
  if (rc == ATH_OK) rc = read_schema(*file, fields, nfields, nrows, w);
  return ath_agree(comm, rc, w->err);
}

int h5_read_table(MPI_Comm comm, const char *path, batch **out, ath_error *err) {
  return h5_read_table_with(comm, path, NULL, out, err);
}

int h5_read_table_with(MPI_Comm comm, const char *path, const h5_io *io, batch **out,
                       ath_error *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  ath_error mine = {0};
  h5where w = {.path = path, .err = &mine, .piece = h5u_piece(io)};
  int size;
  MPI_Comm_rank(comm, &w.rank);
  MPI_Comm_size(comm, &size);
  *out = NULL;
  hid_t file = H5I_INVALID_HID, dxpl = H5I_INVALID_HID;
  field_def *fields = NULL;
  int nfields = 0;
  int64_t total = 0;
  batch *b = NULL;
  int rc = open_table(comm, &file, &fields, &nfields, &total, &w);
  if (rc != ATH_OK) goto out;
  if ((dxpl = h5u_dxpl_independent()) < 0) rc = h5u_fail(&w, NULL, "MPI-IO property lists");
  if ((rc = ath_agree(comm, rc, &mine)) != ATH_OK) goto out;
  int64_t lo = w.rank * total / size, hi = (w.rank + 1) * total / size;
  b = batch_new(fields, nfields);
  for (int i = 0; i < nfields && rc == ATH_OK; i++)
    rc = read_column(comm, file, &b->cols[i], lo, hi - lo, total, dxpl, &w);
  b->nrows = hi - lo;
out:
  if (dxpl >= 0) H5Pclose(dxpl);
  if (file >= 0) H5Fclose(file);
  h5_free_fields(fields, nfields);
  if (rc != ATH_OK) {
    batch_free(b);
    if (err) ath_fail(err, rc, "%s", mine.msg);
    return rc;
  }
  *out = b;
  return ATH_OK;
}
