#define _GNU_SOURCE /* O_DIRECT */
/* h5_write_table: the writer of the layout described in h5table.h (rank 0 creates the file with
 * serial HDF5, every rank writes its raw data with independent MPI-IO). */
#include "h5/h5table.h"
#include "core/agree.h"
#include "core/bytes.h"
#include "h5/h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

/* Raw data goes to the file as it is in memory; the file types are little-endian. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the HDF5 table writer assumes a little-endian host"
#endif

/* Direct I/O: the middle of a rank's share of a dataset, from the first to the last DIRECT_ALIGN
 * boundary inside it, goes straight to the device in writes of h5where.direct_chunk bytes from
 * an aligned bounce buffer; shares whose middle is under direct_min go through MPI-IO alone. */
#define DIRECT_ALIGN 4096

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

/* One dataset of the file and this rank's share of it: `count` elements of `elem` bytes from
 * buf, at element `start`, with `add` added to each (string offsets are rebased that way). The
 * list is the same on every rank (it follows from the schema); `offset`, where the dataset's
 * bytes begin in the file, comes from rank 0, which creates the file. */
typedef struct pending {
  char group[256]; /* "" for the root */
  char name[16];
  hid_t ftype;
  size_t elem; /* bytes per element in the file */
  bool narrow; /* buf holds int64s written as int32s (elem 4) */
  int64_t total, start, count, add;
  const void *buf;
  int64_t offset; /* -1: no storage (an empty dataset) */
} pending;

typedef struct plan {
  pending *ds;
  int nds;
  size_t capds;
} plan;

static void plan_add(plan *pl, const char *group, const char *name, hid_t ftype, size_t elem,
                     int64_t total, int64_t start, int64_t count, const void *buf, int64_t add) {
  grow_array((void **)&pl->ds, &pl->capds, (size_t)pl->nds + 1, sizeof *pl->ds);
  pending *d = &pl->ds[pl->nds++];
  *d = (pending){.ftype = ftype,
                 .elem = elem,
                 .total = total,
                 .start = start,
                 .count = count,
                 .buf = buf,
                 .add = add,
                 .offset = -1};
  snprintf(d->group, sizeof d->group, "%s", group);
  snprintf(d->name, sizeof d->name, "%s", name);
}

/* File type of a fixed-width column's values (the memory type is the same, little-endian). */
static hid_t value_type(col_type t) {
  return t == COL_DOUBLE ? H5T_IEEE_F64LE : t == COL_BOOL ? H5T_STD_U8LE : H5T_STD_I64LE;
}

/* The datasets of the table, in file order, with this rank's share of each. String offsets
 * are int32 where the column's bytes are below int32_below. */
static void plan_table(plan *pl, const batch *b, const layout *lay, int64_t int32_below) {
  plan_add(pl, "", "_partitions", H5T_STD_I64LE, 8, lay->size, lay->rank, 1, &lay->rows[lay->rank],
           0);
  int64_t n = b->nrows, start = lay->row_start, total = lay->total_rows;
  for (int col = 0; col < b->ncols; col++) {
    const column *c = &b->cols[col];
    if (c->type == COL_STRING) {
      int64_t bstart, btotal;
      byte_range(lay, col, &bstart, &btotal);
      /* The last rank also writes the closing offset (== btotal). */
      int64_t noff = n + (lay->rank == lay->size - 1);
      bool narrow = btotal < int32_below;
      plan_add(pl, c->name, "offsets", narrow ? H5T_STD_I32LE : H5T_STD_I64LE, narrow ? 4 : 8,
               total + 1, start, noff, c->offsets, bstart);
      pl->ds[pl->nds - 1].narrow = narrow;
      plan_add(pl, c->name, "bytes", H5T_STD_U8LE, 1, btotal, bstart, (int64_t)c->nbytes, c->bytes,
               0);
    } else {
      plan_add(pl, c->name, "values", value_type(c->type), col_type_width(c->type), total, start, n,
               c->values, 0);
    }
    if (c->nullable) plan_add(pl, c->name, "valid", H5T_STD_U8LE, 1, total, start, n, c->valid, 0);
  }
}

/* The group of column `col` and its attributes. Returns the group or a negative id. */
static hid_t create_group(hid_t file, const column *c, int col, const h5where *w) {
  char object[512];
  snprintf(object, sizeof object, "/%s", c->name);
  hid_t g = h5u_create_group(file, c->name);
  int nullable = c->nullable;
  if (g < 0) {
    h5u_fail(w, object, "create group");
  } else if (h5u_set_str_attr(g, "type", col_type_name(c->type)) < 0 ||
             h5u_set_attr(g, "nullable", H5T_NATIVE_INT, &nullable) < 0 ||
             h5u_set_attr(g, "index", H5T_NATIVE_INT, &col) < 0) {
    h5u_fail(w, object, "write attributes");
    H5Gclose(g);
    g = H5I_INVALID_HID;
  }
  return g;
}

/* The root attributes. */
static int write_root(hid_t file, const char *const *keys, const char *const *values, int nattrs,
                      const layout *lay, const h5where *w) {
  if (h5u_set_str_attr(file, "format", H5TABLE_FORMAT) < 0 ||
      h5u_set_attr(file, "rows", H5T_NATIVE_INT64, &lay->total_rows) < 0)
    return h5u_fail(w, "/", "write attributes");
  for (int i = 0; i < nattrs; i++)
    if (h5u_set_str_attr(file, keys[i], values[i]) < 0) return h5u_fail(w, "/", keys[i]);
  return ATH_OK;
}

/* Creates every dataset of the plan in `file` (groups of the columns on the way), early
 * allocated, and records where each one's bytes begin. */
static int create_datasets(hid_t file, const batch *b, plan *pl, const h5where *w) {
  int rc = ATH_OK, col = -1;
  hid_t g = H5I_INVALID_HID;
  for (int i = 0; i < pl->nds && rc == ATH_OK; i++) {
    pending *d = &pl->ds[i];
    char object[300];
    snprintf(object, sizeof object, "%s%s/%s", d->group[0] ? "/" : "", d->group, d->name);
    if (d->group[0] && (col < 0 || strcmp(d->group, b->cols[col].name) != 0)) {
      if (g >= 0) H5Gclose(g);
      col++;
      g = create_group(file, &b->cols[col], col, w);
      if (g < 0) return ATH_ERR;
    }
    hid_t dset = h5u_create_dataset(d->group[0] ? g : file, d->name, d->ftype, d->total);
    if (dset < 0) {
      rc = h5u_fail(w, object, "create dataset");
      break;
    }
    haddr_t at = H5Dget_offset(dset);
    d->offset = at == HADDR_UNDEF ? -1 : (int64_t)at;
    if (d->total > 0 && d->offset < 0) rc = h5u_fail(w, object, "allocate dataset");
    if (H5Dclose(dset) < 0 && rc == ATH_OK) rc = h5u_fail(w, object, "close dataset");
  }
  if (g >= 0) H5Gclose(g);
  return rc;
}

/* Rank 0 alone, with serial HDF5: creates the file and every dataset (allocated, never filled),
 * writes the attributes, notes each dataset's file offset, and closes the file. All of HDF5's
 * metadata is written here by one process, so a failed metadata write is an error of this rank
 * — never a rank left behind in a collective inside HDF5 (with parallel HDF5, a rank whose
 * metadata write fails at close skips the barrier the others wait in, and the job hangs). */
static int create_file(const batch *b, const layout *lay, const char *const *keys,
                       const char *const *values, int nattrs, plan *pl, const h5where *w) {
  hid_t fapl = H5I_INVALID_HID, fcpl = H5I_INVALID_HID, file = H5I_INVALID_HID;
  int rc = ATH_OK;
  /* No metadata / small-data aggregation blocks (their unused tails would hold stale bytes, so
   * files would differ run to run), no modification times. */
  if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || (fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 ||
      H5Pset_obj_track_times(fcpl, 0) < 0 || H5Pset_meta_block_size(fapl, 0) < 0 ||
      H5Pset_small_data_block_size(fapl, 0) < 0)
    rc = h5u_fail(w, NULL, "file properties");
  else if ((file = H5Fcreate(w->path, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
    rc = h5u_fail(w, NULL, "create file");
  if (rc == ATH_OK) rc = write_root(file, keys, values, nattrs, lay, w);
  if (rc == ATH_OK) rc = create_datasets(file, b, pl, w);
  if (file >= 0 && H5Fclose(file) < 0 && rc == ATH_OK) rc = h5u_fail(w, NULL, "close file");
  if (fapl >= 0) H5Pclose(fapl);
  if (fcpl >= 0) H5Pclose(fcpl);
  return rc;
}

/* Reads or writes exactly n bytes through a pipe; false on failure or end of input. */
static bool pipe_io(bool write_it, int fd, void *p, size_t n) {
  for (size_t done = 0; done < n;) {
    ssize_t k =
        write_it ? write(fd, (char *)p + done, n - done) : read(fd, (char *)p + done, n - done);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    done += (size_t)k;
  }
  return true;
}

/* The reply of whoever ran create_file (the forked child or the helper): its status, its
 * message and every dataset's offset. */
static bool send_reply(int fd, int32_t st, const char *msg, const plan *pl) {
  bool ok = pipe_io(true, fd, &st, sizeof st) && pipe_io(true, fd, (void *)msg, ATH_ERRMSG_MAX);
  for (int i = 0; ok && i < pl->nds; i++)
    ok = pipe_io(true, fd, &pl->ds[i].offset, sizeof pl->ds[i].offset);
  return ok;
}

/* Reads a reply into *st, msg (ATH_ERRMSG_MAX bytes, NUL-terminated) and pl's offsets; false
 * when it ended early. */
static bool read_reply(int fd, int32_t *st, char *msg, plan *pl) {
  bool ok = pipe_io(false, fd, st, sizeof *st) && pipe_io(false, fd, msg, ATH_ERRMSG_MAX);
  for (int i = 0; ok && i < pl->nds; i++)
    ok = pipe_io(false, fd, &pl->ds[i].offset, sizeof pl->ds[i].offset);
  msg[ATH_ERRMSG_MAX - 1] = '\0';
  return ok;
}

/* Waits for child pid; returns its wait status. */
static int reap(pid_t pid) {
  int wst = 0;
  while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
  }
  return wst;
}

/* The error for a creating process that ended without a whole reply (wait status wst). */
static int creator_lost(int wst, const h5where *w) {
  if (WIFSIGNALED(wst))
    return ath_fail(w->err, ATH_ERR,
                    "%s: HDF5 crashed (signal %d) while creating the file (rank %d)", w->path,
                    WTERMSIG(wst), w->rank);
  return ath_fail(w->err, ATH_ERR, "%s: creating the file failed (rank %d)", w->path, w->rank);
}

/* The file-creation helper. create_file runs in a process of its own (see create_file_isolated);
 * forking rank 0 itself for that, once per file, is costly when rank 0 holds gigabytes: the fork
 * copies its page tables and every page rank 0 writes afterwards takes a copy-on-write fault.
 * So h5_helper_start, called before the process grows (and before MPI_Init, so the helper holds
 * none of MPI's connections), forks a small helper that creates files on request: rank 0 sends
 * it the file's description (path, attributes, schema, datasets) through a pipe and reads back
 * what the forked child would have written. The helper leaves after its first failure (HDF5
 * may be in no state to go on) or when rank 0's end of the pipe closes; rank 0 then forks
 * for itself, as without a helper. */
static struct {
  pid_t pid; /* 0: no helper */
  int req, rep;
  long files;
} helper;

/* The request is a le_buf of i64s and strings (length, bytes, NUL), read back with le_reader. */
static void put_i64(le_buf *o, int64_t v) {
  le_put(o, (uint64_t)v, 8);
}

static void put_str(le_buf *o, const char *s) {
  size_t n = strlen(s);
  put_i64(o, (int64_t)n);
  le_put_bytes(o, s, n + 1);
}

static int64_t take_i64(le_reader *in) {
  return (int64_t)le_get(in, 8);
}

/* A string of the request; a malformed one sets bad and yields "". */
static const char *take_str(le_reader *in) {
  int64_t n = take_i64(in);
  const char *s =
      n >= 0 && (uint64_t)n < in->n ? (const char *)le_get_bytes(in, (size_t)n + 1) : NULL;
  if (!s || s[n] != '\0') {
    in->bad = true;
    return "";
  }
  return s;
}

/* File types travel as codes: hid_t values are the library's, per process. */
static int64_t ftype_code(hid_t t) {
  return t == H5T_STD_I32LE ? 1 : t == H5T_STD_U8LE ? 2 : t == H5T_IEEE_F64LE ? 3 : 0;
}

static hid_t ftype_of(int64_t code) {
  return code == 1   ? H5T_STD_I32LE
         : code == 2 ? H5T_STD_U8LE
         : code == 3 ? H5T_IEEE_F64LE
                     : H5T_STD_I64LE;
}

/* The request for create_file(b, lay, keys, values, nattrs, pl, w). */
static void encode_request(le_buf *o, const batch *b, const layout *lay, const char *const *keys,
                           const char *const *values, int nattrs, const plan *pl,
                           const h5where *w) {
  put_i64(o, 0); /* length, filled below */
  put_str(o, w->path);
  put_i64(o, w->rank);
  put_i64(o, lay->total_rows);
  put_i64(o, nattrs);
  for (int i = 0; i < nattrs; i++) {
    put_str(o, keys[i]);
    put_str(o, values[i]);
  }
  put_i64(o, b->ncols);
  for (int i = 0; i < b->ncols; i++) {
    put_str(o, b->cols[i].name);
    put_i64(o, b->cols[i].type);
    put_i64(o, b->cols[i].nullable);
  }
  put_i64(o, pl->nds);
  for (int i = 0; i < pl->nds; i++) {
    put_str(o, pl->ds[i].group);
    put_str(o, pl->ds[i].name);
    put_i64(o, ftype_code(pl->ds[i].ftype));
    put_i64(o, pl->ds[i].total);
  }
  int64_t len = (int64_t)(o->len - sizeof len);
  memcpy(o->p, &len, sizeof len);
}

/* Decodes a request and runs create_file; the reply is the status, the message and every
 * dataset's offset (as the forked child writes them). Returns the status. */
static int serve_request(le_reader *in, int fd) {
  ath_error err = {0};
  h5where w = {.err = &err};
  w.path = take_str(in);
  w.rank = (int)take_i64(in);
  layout lay = {.total_rows = take_i64(in)};
  int64_t nattrs = take_i64(in);
  if (nattrs < 0 || (uint64_t)nattrs > in->n) in->bad = true, nattrs = 0;
  const char **keys = xcalloc((size_t)nattrs + 1, sizeof *keys);
  const char **values = xcalloc((size_t)nattrs + 1, sizeof *values);
  for (int64_t i = 0; i < nattrs; i++) {
    keys[i] = take_str(in);
    values[i] = take_str(in);
  }
  batch b = {.ncols = (int)take_i64(in)};
  if (b.ncols < 0 || (uint64_t)b.ncols > in->n) in->bad = true, b.ncols = 0;
  b.cols = xcalloc((size_t)b.ncols + 1, sizeof *b.cols);
  for (int i = 0; i < b.ncols; i++) {
    b.cols[i].name = (char *)take_str(in);
    b.cols[i].type = (col_type)take_i64(in);
    b.cols[i].nullable = take_i64(in) != 0;
  }
  plan pl = {.nds = (int)take_i64(in)};
  if (pl.nds < 0 || (uint64_t)pl.nds > in->n) in->bad = true, pl.nds = 0;
  pl.ds = xcalloc((size_t)pl.nds + 1, sizeof *pl.ds);
  for (int i = 0; i < pl.nds; i++) {
    snprintf(pl.ds[i].group, sizeof pl.ds[i].group, "%s", take_str(in));
    snprintf(pl.ds[i].name, sizeof pl.ds[i].name, "%s", take_str(in));
    pl.ds[i].ftype = ftype_of(take_i64(in));
    pl.ds[i].total = take_i64(in);
    pl.ds[i].offset = -1;
  }
  int32_t st = in->bad ? ath_fail(&err, ATH_ERR, "%s: malformed request to the HDF5 helper", w.path)
                       : create_file(&b, &lay, keys, values, (int)nattrs, &pl, &w);
  bool ok = send_reply(fd, st, err.msg, &pl);
  free(keys);
  free(values);
  free(b.cols);
  free(pl.ds);
  return ok ? st : ATH_ERR;
}

/* The helper's life: one request after another until end of input or a failure. */
static void serve(int req, int rep) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  for (;;) {
    int64_t len;
    if (!pipe_io(false, req, &len, sizeof len) || len < 0 || len > ((int64_t)1 << 30)) _exit(0);
    uint8_t *p = xmalloc((size_t)len + 1);
    if (!pipe_io(false, req, p, (size_t)len)) _exit(0);
    le_reader in = {.p = p, .n = (size_t)len};
    int st = serve_request(&in, rep);
    free(p);
    if (st != ATH_OK) _exit(1);
  }
}

int h5_helper_start(void) {
  if (helper.pid > 0) return 0;
  const char *off = getenv("ATHLETE_H5_HELPER");
  if (off && strcmp(off, "0") == 0) return -1;
  int req[2], rep[2];
  if (pipe2(req, O_CLOEXEC) != 0) return -1;
  if (pipe2(rep, O_CLOEXEC) != 0) {
    close(req[0]);
    close(req[1]);
    return -1;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(req[0]), close(req[1]), close(rep[0]), close(rep[1]);
    return -1;
  }
  if (pid == 0) {
    close(req[1]);
    close(rep[0]);
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; null >= 0 && fd <= 2; fd++)
      dup2(null, fd); /* the helper prints nothing and holds no one's terminal or pipe */
    serve(req[0], rep[1]);
  }
  close(req[0]);
  close(rep[1]);
  helper.pid = pid, helper.req = req[1], helper.rep = rep[0];
  return 0;
}

long h5_helper_files(void) {
  return helper.files;
}

/* Ends the helper after a failure to reach it: closes the pipes and reaps it. Returns its wait
 * status. */
static int helper_stop(void) {
  close(helper.req);
  close(helper.rep);
  int wst = reap(helper.pid);
  helper.pid = 0;
  return wst;
}

#define HELPER_GONE 2 /* create_file_by_helper: no helper to take the request */

/* Writes the request with SIGPIPE blocked (a helper that has gone away must not kill rank 0);
 * false when the helper no longer reads. */
static bool send_request(const le_buf *o) {
  sigset_t pipe_sig, old;
  sigemptyset(&pipe_sig);
  sigaddset(&pipe_sig, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_sig, &old);
  bool ok = pipe_io(true, helper.req, o->p, o->len);
  if (!ok && errno == EPIPE) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_sig, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return ok;
}

/* create_file_isolated through the helper. Returns the status, or HELPER_GONE when the helper
 * could not be reached (the caller forks instead). */
static int create_file_by_helper(const batch *b, const layout *lay, const char *const *keys,
                                 const char *const *values, int nattrs, plan *pl,
                                 const h5where *w) {
  le_buf o = {0};
  encode_request(&o, b, lay, keys, values, nattrs, pl, w);
  bool sent = send_request(&o);
  free(o.p);
  if (!sent) {
    helper_stop();
    return HELPER_GONE;
  }
  int32_t st = ATH_ERR;
  char msg[ATH_ERRMSG_MAX] = "";
  if (!read_reply(helper.rep, &st, msg, pl)) return creator_lost(helper_stop(), w);
  if (st != ATH_OK) {
    helper_stop(); /* it leaves after a failure */
    return ath_fail(w->err, st, "%s", msg);
  }
  helper.files++;
  return ATH_OK;
}

/* create_file in a child process. HDF5 1.10 cannot recover from a failed write at H5Fclose:
 * the file's state is freed half-way, and the library crashes when it terminates (or when the
 * close is retried). So rank 0 forks, the child creates and closes the file and reports its
 * status, message and the datasets' offsets through a pipe, and leaves with _exit: whatever
 * HDF5 does after an I/O error, it does in the child. The child makes no MPI call. */
static int create_file_isolated(const batch *b, const layout *lay, const char *const *keys,
                                const char *const *values, int nattrs, plan *pl, const h5where *w) {
  if (helper.pid > 0) {
    int rc = create_file_by_helper(b, lay, keys, values, nattrs, pl, w);
    if (rc != HELPER_GONE) return rc;
  }
  int fds[2];
  if (pipe(fds) != 0)
    return ath_fail(w->err, ATH_ERR, "%s: pipe: %s (rank %d)", w->path, strerror(errno), w->rank);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return ath_fail(w->err, ATH_ERR, "%s: fork: %s (rank %d)", w->path, strerror(errno), w->rank);
  }
  if (pid == 0) {
    close(fds[0]);
    int32_t st = create_file(b, lay, keys, values, nattrs, pl, w);
    _exit(send_reply(fds[1], st, w->err->msg, pl) ? 0 : 1);
  }
  close(fds[1]);
  int32_t st = ATH_ERR;
  char msg[ATH_ERRMSG_MAX] = "";
  bool ok = read_reply(fds[0], &st, msg, pl);
  close(fds[0]);
  int wst = reap(pid);
  if (!ok) return creator_lost(wst, w);
  if (st != ATH_OK) return ath_fail(w->err, st, "%s", msg);
  return ATH_OK;
}

/* The file bytes [lo, lo + m) of share d (counted from the share's first byte) into dst: its
 * buffer as it is, or, for string offsets, each int64 plus d->add (as an int32 when narrow). */
static void share_bytes(const pending *d, int64_t lo, int64_t m, char *dst) {
  if (!d->add && !d->narrow) {
    memcpy(dst, (const char *)d->buf + lo, (size_t)m);
    return;
  }
  const int64_t *in = d->buf;
  int64_t e = (int64_t)d->elem, i = lo / e, skip = lo % e;
  while (m > 0) {
    union {
      int64_t v;
      int32_t w;
      char b[8];
    } u;
    if (d->narrow)
      u.w = (int32_t)(in[i] + d->add);
    else
      u.v = in[i] + d->add;
    int64_t take = e - skip < m ? e - skip : m;
    memcpy(dst, u.b + skip, (size_t)take);
    dst += take;
    m -= take;
    skip = 0;
    i++;
  }
}

/* Where a rank writes its raw data: an MPI-IO handle, and, where the file system takes it, a
 * second descriptor opened with O_DIRECT (-1 otherwise) with an aligned bounce buffer. */
typedef struct sink {
  MPI_File fh;
  int dfd;
  char *bounce; /* direct_chunk bytes, DIRECT_ALIGN-aligned */
  char *tmp;    /* 1 MiB for converted buffered pieces */
} sink;

static int write_failed(const char *object, const char *why, const h5where *w) {
  return ath_fail(w->err, ATH_ERR, "%s: %s: write failed (rank %d): %s", w->path, object, w->rank,
                  why);
}

/* File bytes [lo, hi) of share d at file offset off + lo, through MPI-IO, in pieces MPI's int
 * counts can hold (converted pieces go through s->tmp, 1 MiB at a time). */
static int put_buffered(sink *s, const pending *d, int64_t off, int64_t lo, int64_t hi,
                        const char *object, const h5where *w) {
  bool copy = d->add || d->narrow;
  int64_t piece = (int64_t)w->piece;
  if (copy && piece > ((int64_t)1 << 20)) piece = (int64_t)1 << 20; /* stays in cache */
  for (; lo < hi; lo += piece) {
    int64_t m = hi - lo < piece ? hi - lo : piece;
    const void *src = (const char *)d->buf + lo;
    if (copy) {
      share_bytes(d, lo, m, s->tmp);
      src = s->tmp;
    }
    MPI_Status st;
    int mrc = MPI_File_write_at(s->fh, (MPI_Offset)(off + lo), src, (int)m, MPI_BYTE, &st);
    int done = 0;
    if (mrc == MPI_SUCCESS) MPI_Get_count(&st, MPI_BYTE, &done);
    if (mrc != MPI_SUCCESS || done != (int)m) {
      char why[MPI_MAX_ERROR_STRING] = "short write";
      int len;
      if (mrc != MPI_SUCCESS) MPI_Error_string(mrc, why, &len);
      return write_failed(object, why, w);
    }
  }
  return ATH_OK;
}

/* File bytes [lo, hi) of share d at file offset off + lo (both aligned) with direct I/O, through
 * the bounce buffer. Returns ATH_OK, ATH_ERR, or 1 when the file system refuses direct I/O
 * before anything was written (the caller falls back to put_buffered). */
static int put_direct(sink *s, const pending *d, int64_t off, int64_t lo, int64_t hi,
                      const char *object, const h5where *w) {
  for (bool first = true; lo < hi; first = false) {
    int64_t m = hi - lo < w->direct_chunk ? hi - lo : w->direct_chunk;
    share_bytes(d, lo, m, s->bounce);
    for (int64_t done = 0; done < m;) {
      ssize_t k = pwrite(s->dfd, s->bounce + done, (size_t)(m - done), (off_t)(off + lo + done));
      if (k < 0 && errno == EINTR) continue;
      if (k < 0 && errno == EINVAL && first && done == 0) return 1;
      if (k <= 0) return write_failed(object, k < 0 ? strerror(errno) : "short write", w);
      done += k;
    }
    if (w->direct_bytes) *w->direct_bytes += m;
    lo += m;
  }
  return ATH_OK;
}

/* Writes share d: its DIRECT_ALIGN-aligned middle with direct I/O where s has it and the
 * middle is large enough, the rest (or all) through MPI-IO. */
static int write_share(sink *s, const pending *d, const char *object, const h5where *w) {
  int64_t off = d->offset + d->start * (int64_t)d->elem, n = d->count * (int64_t)d->elem;
  int64_t a = (off + DIRECT_ALIGN - 1) / DIRECT_ALIGN * DIRECT_ALIGN - off;
  int64_t b = (off + n) / DIRECT_ALIGN * DIRECT_ALIGN - off;
  if (s->dfd < 0 || b - a < w->direct_min) return put_buffered(s, d, off, 0, n, object, w);
  int rc = put_buffered(s, d, off, 0, a, object, w);
  if (rc == ATH_OK) rc = put_direct(s, d, off, a, b, object, w);
  if (rc == 1) { /* no direct I/O here after all */
    close(s->dfd);
    s->dfd = -1;
    rc = put_buffered(s, d, off, a, b, object, w);
  }
  if (rc == ATH_OK) rc = put_buffered(s, d, off, b, n, object, w);
  return rc;
}

static void *side_thread(void *arg) {
  h5_side_job *side = arg;
  side->status = side->run(side->arg, side->err);
  return NULL;
}

/* This rank's raw data of every dataset, with independent I/O on its own handles (no
 * collective call: a failure stops this rank only, and the ranks agree afterwards). The side
 * job runs meanwhile on a thread of its own (it makes no MPI or HDF5 call; this thread makes
 * every MPI call): the raw data mostly waits on the device while the side job computes. Where
 * no thread can be started, it runs before the data on odd ranks and after it on even ones, so
 * that while one rank copies its data into the file another does its side job. */
static int write_raw(const plan *pl, h5_side_job *side, const h5where *w) {
  pthread_t th;
  bool threaded = side && pthread_create(&th, NULL, side_thread, side) == 0;
  if (side && !threaded && w->rank % 2 == 1) side->status = side->run(side->arg, side->err);
  sink s = {.fh = MPI_FILE_NULL, .dfd = -1, .tmp = xmalloc((size_t)1 << 20)};
  char path[4200];
  snprintf(path, sizeof path, "%s", w->path);
  int mrc = MPI_File_open(MPI_COMM_SELF, path, MPI_MODE_WRONLY, MPI_INFO_NULL, &s.fh);
  int rc = ATH_OK;
  if (mrc != MPI_SUCCESS) {
    char why[MPI_MAX_ERROR_STRING];
    int len;
    MPI_Error_string(mrc, why, &len);
    rc = ath_fail(w->err, ATH_ERR, "%s: open for writing failed (rank %d): %s", w->path, w->rank,
                  why);
  }
  if (rc == ATH_OK && w->direct) {
    s.dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    if (s.dfd >= 0 &&
        posix_memalign((void **)&s.bounce, DIRECT_ALIGN, (size_t)w->direct_chunk) != 0) {
      close(s.dfd);
      s.dfd = -1;
    }
  }
  for (int i = 0; i < pl->nds && rc == ATH_OK; i++) {
    const pending *d = &pl->ds[i];
    if (d->count <= 0) continue;
    char object[300];
    snprintf(object, sizeof object, "%s%s/%s", d->group[0] ? "/" : "", d->group, d->name);
    rc = write_share(&s, d, object, w);
  }
  /* Durable before the ranks agree (as Parquet parts are): a rank's sync flushes the file's
   * dirty bytes so far, its own writes and the metadata written before them included. */
  int src = rc == ATH_OK && s.fh != MPI_FILE_NULL ? MPI_File_sync(s.fh) : MPI_SUCCESS;
  if (src != MPI_SUCCESS) {
    char why[MPI_MAX_ERROR_STRING];
    int len;
    MPI_Error_string(src, why, &len);
    rc = ath_fail(w->err, ATH_ERR, "%s: sync failed (rank %d): %s", w->path, w->rank, why);
  }
  if (s.dfd >= 0 && close(s.dfd) != 0 && rc == ATH_OK)
    rc = ath_fail(w->err, ATH_ERR, "%s: close failed (rank %d): %s", w->path, w->rank,
                  strerror(errno));
  if (s.fh != MPI_FILE_NULL && MPI_File_close(&s.fh) != MPI_SUCCESS && rc == ATH_OK)
    rc = ath_fail(w->err, ATH_ERR, "%s: close failed (rank %d)", w->path, w->rank);
  free(s.bounce);
  free(s.tmp);
  if (threaded)
    pthread_join(th, NULL);
  else if (side && w->rank % 2 == 0)
    side->status = side->run(side->arg, side->err);
  return rc;
}

/* Collective: rank 0 creates the file (create_file), every rank learns where the datasets
 * are, then writes its own data into them (write_raw). Returns the agreed status; the side job
 * has run on every rank. */
static int write_file(MPI_Comm comm, const batch *b, const layout *lay, const char *const *keys,
                      const char *const *values, int nattrs, h5_side_job *side, const h5where *w) {
  plan pl = {0};
  plan_table(&pl, b, lay, w->int32_below);
  int rc = w->rank == 0 ? create_file_isolated(b, lay, keys, values, nattrs, &pl, w) : ATH_OK;
  int64_t *at = xcalloc((size_t)pl.nds + 1, sizeof *at);
  for (int i = 0; i < pl.nds; i++)
    at[i] = pl.ds[i].offset;
  if ((rc = ath_agree(comm, rc, w->err)) == ATH_OK)
    rc = ath_agree(comm, ATH_MPI(MPI_Bcast(at, pl.nds, MPI_INT64_T, 0, comm), w->err), w->err);
  for (int i = 0; i < pl.nds; i++)
    pl.ds[i].offset = at[i];
  free(at);
  if (rc == ATH_OK)
    rc = write_raw(&pl, side, w);
  else if (side)
    side->status = side->run(side->arg, side->err);
  free(pl.ds);
  return ath_agree(comm, rc, w->err);
}

int h5_write_table_with(MPI_Comm comm, const char *path, const batch *local,
                        const char *const *attr_keys, const char *const *attr_values, int nattrs,
                        h5_side_job *side, const h5_io *io, ath_error *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  ath_error mine = {0};
  h5where w = {
      .path = path,
      .err = &mine,
      .piece = h5u_piece(io),
      .int32_below = io && io->int32_offsets_below ? io->int32_offsets_below : (int64_t)1 << 31,
      .direct = !(io && io->buffered),
      .direct_chunk = io && io->direct_chunk ? (int64_t)io->direct_chunk : (int64_t)4 << 20,
      .direct_bytes = io ? io->direct_bytes : NULL};
  w.direct_min = w.direct_chunk < ((int64_t)1 << 20) ? w.direct_chunk : (int64_t)1 << 20;
  if (w.direct_chunk % DIRECT_ALIGN) w.direct = false;
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
  return h5_write_table_with(comm, path, local, attr_keys, attr_values, nattrs, NULL, NULL, err);
}
