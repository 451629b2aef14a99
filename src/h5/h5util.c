#include "h5/h5util.h"

#include <stdlib.h>
#include <string.h>

size_t h5u_piece(const h5_io *io) {
  return io && io->piece_bytes ? io->piece_bytes : H5_PIECE_BYTES_DEFAULT;
}

/* H5Ewalk2 callback: keeps the first (most specific) description that says something. */
static herr_t keep_first_desc(unsigned n, const H5E_error2_t *e, void *data) {
  char *out = data;
  if (!out[0] && e->desc && e->desc[0]) snprintf(out, 512, "%s", e->desc);
  (void)n;
  return 0;
}

int h5u_fail(const h5where *w, const char *object, const char *step) {
  char detail[512] = "";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first_desc, detail);
  H5Eclear2(H5E_DEFAULT);
  return ath_fail(w->err, ATH_ERR, "%s: %s%s%s failed (rank %d)%s%s", w->path, object ? object : "",
                  object ? ": " : "", step, w->rank, detail[0] ? ": " : "", detail);
}

hid_t h5u_fapl_mpio(MPI_Comm comm) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return H5I_INVALID_HID;
  if (H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
    H5Pclose(fapl);
    return H5I_INVALID_HID;
  }
  return fapl;
}

hid_t h5u_dxpl_independent(void) {
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (dxpl < 0) return H5I_INVALID_HID;
  if (H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_INDEPENDENT) < 0) {
    H5Pclose(dxpl);
    return H5I_INVALID_HID;
  }
  return dxpl;
}

hid_t h5u_create_group(hid_t loc, const char *name) {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), gcpl = H5Pcreate(H5P_GROUP_CREATE);
  hid_t g = H5I_INVALID_HID;
  /* No modification times in object headers: same data, same bytes (SPEC §4 determinism). */
  if (lcpl >= 0 && gcpl >= 0 && H5Pset_char_encoding(lcpl, H5T_CSET_UTF8) >= 0 &&
      H5Pset_obj_track_times(gcpl, 0) >= 0)
    g = H5Gcreate2(loc, name, lcpl, gcpl, H5P_DEFAULT);
  if (lcpl >= 0) H5Pclose(lcpl);
  if (gcpl >= 0) H5Pclose(gcpl);
  return g;
}

hid_t h5u_create_dataset(hid_t loc, const char *name, hid_t type, int64_t n) {
  hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  hsize_t dims = (hsize_t)n;
  if ((space = H5Screate_simple(1, &dims, NULL)) < 0) goto out;
  if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0) goto out;
  if (H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 ||
      H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
      H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 || H5Pset_obj_track_times(dcpl, 0) < 0)
    goto out;
  dset = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
out:
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  return dset;
}

int64_t h5u_dataset_len(hid_t dset) {
  hid_t space = H5Dget_space(dset);
  if (space < 0) return -1;
  hsize_t dims = 0;
  int64_t n =
      H5Sget_simple_extent_ndims(space) == 1 && H5Sget_simple_extent_dims(space, &dims, NULL) == 1
          ? (int64_t)dims
          : -1;
  H5Sclose(space);
  return n;
}

/* Writes one scalar attribute of file type `ftype` from memory type `mtype`; 0 or -1. */
static int write_scalar_attr(hid_t loc, const char *key, hid_t ftype, hid_t mtype,
                             const void *value) {
  int rc = -1;
  hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
  if ((space = H5Screate(H5S_SCALAR)) < 0) goto out;
  if ((attr = H5Acreate2(loc, key, ftype, space, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto out;
  if (H5Awrite(attr, mtype, value) < 0) goto out;
  rc = 0;
out:
  if (attr >= 0) H5Aclose(attr);
  if (space >= 0) H5Sclose(space);
  return rc;
}

/* A UTF-8 variable-length string type (caller closes), or H5I_INVALID_HID. */
static hid_t vlen_utf8(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return H5I_INVALID_HID;
  if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
    H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

int h5u_set_str_attr(hid_t loc, const char *key, const char *value) {
  hid_t t = vlen_utf8();
  if (t < 0) return -1;
  int rc = write_scalar_attr(loc, key, t, t, &value);
  H5Tclose(t);
  return rc;
}

int h5u_set_attr(hid_t loc, const char *key, hid_t type, const void *value) {
  return write_scalar_attr(loc, key, type, type, value);
}

/* Reads the open string attribute `attr` into buf; 0 or -1. */
static int read_str_attr(hid_t attr, char *buf, size_t size) {
  int rc = -1;
  hid_t ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
  if ((ftype = H5Aget_type(attr)) < 0 || H5Tget_class(ftype) != H5T_STRING) goto out;
  if (H5Tis_variable_str(ftype) > 0) {
    char *s = NULL;
    if ((mtype = vlen_utf8()) < 0 || H5Aread(attr, mtype, &s) < 0) goto out;
    snprintf(buf, size, "%s", s ? s : "");
    H5free_memory(s);
  } else {
    size_t n = H5Tget_size(ftype);
    char *tmp = calloc(n + 1, 1);
    if (!tmp) goto out;
    if ((mtype = H5Tcopy(ftype)) < 0 || H5Aread(attr, mtype, tmp) < 0) {
      free(tmp);
      goto out;
    }
    snprintf(buf, size, "%s", tmp);
    free(tmp);
  }
  rc = 0;
out:
  if (mtype >= 0) H5Tclose(mtype);
  if (ftype >= 0) H5Tclose(ftype);
  return rc;
}

int h5u_get_str_attr(hid_t loc, const char *key, char *buf, size_t size) {
  buf[0] = '\0';
  if (H5Aexists(loc, key) <= 0) return -1;
  hid_t attr = H5Aopen(loc, key, H5P_DEFAULT);
  if (attr < 0) return -1;
  int rc = read_str_attr(attr, buf, size);
  H5Aclose(attr);
  return rc;
}

int h5u_get_attr(hid_t loc, const char *key, hid_t type, void *value) {
  if (H5Aexists(loc, key) <= 0) return -1;
  hid_t attr = H5Aopen(loc, key, H5P_DEFAULT);
  if (attr < 0) return -1;
  hid_t space = H5Aget_space(attr);
  int rc = -1;
  if (space >= 0 && H5Sget_simple_extent_npoints(space) == 1 && H5Aread(attr, type, value) >= 0)
    rc = 0;
  if (space >= 0) H5Sclose(space);
  H5Aclose(attr);
  return rc;
}

/* One piece of h5u_io: moves elements [start, start + n) (n > 0) of the dataset from/to buf.
 * Returns 0 or -1. */
static int io_piece(bool write, hid_t dset, hid_t fspace, hid_t memtype, int64_t start, int64_t n,
                    void *buf, hid_t dxpl) {
  int rc = -1;
  hid_t mspace = H5I_INVALID_HID;
  hsize_t off = (hsize_t)start, cnt = (hsize_t)n;
  if ((mspace = H5Screate_simple(1, &cnt, NULL)) < 0) goto out;
  if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &off, NULL, &cnt, NULL) < 0) goto out;
  herr_t st = write ? H5Dwrite(dset, memtype, mspace, fspace, dxpl, buf)
                    : H5Dread(dset, memtype, mspace, fspace, dxpl, buf);
  rc = st < 0 ? -1 : 0;
out:
  if (mspace >= 0) H5Sclose(mspace);
  return rc;
}

/* Elements per piece when offsets are rebased on the way out: small enough that the copy stays
 * in cache between the add and the kernel's copy into the page cache. */
enum { ADD_PIECE_BYTES = 1 << 20 };

int h5u_io(bool write, hid_t dset, hid_t memtype, size_t elem, int64_t start, int64_t count,
           void *buf, int64_t add, hid_t dxpl, size_t piece_bytes) {
  if (dset < 0) return -1;
  if (count <= 0) return 0;
  bool rebase = write && add != 0;
  size_t piece = rebase && piece_bytes > ADD_PIECE_BYTES ? ADD_PIECE_BYTES : piece_bytes;
  int64_t per = (int64_t)(piece / elem);
  if (per < 1) per = 1;
  hid_t fspace = H5Dget_space(dset);
  if (fspace < 0) return -1;
  int64_t *tmp = rebase ? xmalloc((size_t)(count < per ? count : per) * elem) : NULL;
  int rc = 0;
  for (int64_t lo = 0; lo < count && rc == 0; lo += per) {
    int64_t n = count - lo < per ? count - lo : per;
    void *p = (char *)buf + (size_t)lo * elem;
    if (tmp) {
      const int64_t *src = (const int64_t *)buf + lo;
      for (int64_t i = 0; i < n; i++)
        tmp[i] = src[i] + add;
      p = tmp;
    }
    rc = io_piece(write, dset, fspace, memtype, start + lo, n, p, dxpl);
  }
  free(tmp);
  H5Sclose(fspace);
  return rc;
}
