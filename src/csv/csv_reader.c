/* The MPI driver of the CSV reader: header on rank 0, state-map scan, tail reads, parse. */
#include "csv/csv_reader.h"
#include "core/agree.h"

#include "csv/csv_core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What rank 0 learns from the start of the file and every rank needs. */
typedef struct header_info {
  int64_t size;       /* file size S */
  int64_t data_start; /* offset just after the header record */
  int64_t header_lf;  /* LF bytes before data_start */
  int64_t last_byte;  /* the file's last byte, -1 if empty */
  int32_t ncols;
  int32_t names_len; /* bytes of the NUL-separated names blob */
} header_info;

/* Reads exactly n bytes at offset off into buf. Returns ATH_OK or ATH_ERR naming `name`. */
static int pread_all(int fd, void *buf, size_t n, int64_t off, const char *name, ath_error *err) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = pread(fd, (char *)buf + done, n - done, (off_t)(off + (int64_t)done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ath_fail(err, ATH_ERR, "%s: read: %s", name, strerror(errno));
    if (got == 0)
      return ath_fail(err, ATH_ERR, "%s: read: file shrank while reading (offset %lld)", name,
                      (long long)(off + (int64_t)done));
    done += (size_t)got;
  }
  return ATH_OK;
}

static int open_file(const char *path, const char *name, int *fd, int64_t *size, ath_error *err) {
  *fd = open(path, O_RDONLY);
  if (*fd < 0) return ath_fail(err, ATH_ERR, "%s: cannot open: %s", name, strerror(errno));
  struct stat sb;
  if (fstat(*fd, &sb) != 0) return ath_fail(err, ATH_ERR, "%s: stat: %s", name, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return ath_fail(err, ATH_ERR, "%s: not a regular file", name);
  *size = (int64_t)sb.st_size;
  return ATH_OK;
}

/* Rank 0: reads the BOM and header (growing reads until the header record ends) and checks
 * the required columns. Fills *hi and *names (caller frees with csv_names_free). */
static int read_header(int fd, int64_t size, const char *name, const char *const *required,
                       int nreq, header_info *hi, char ***names, ath_error *err) {
  size_t cap = 1 << 16, end = 0;
  uint8_t *buf = NULL;
  int rc;
  for (;;) {
    size_t n = (int64_t)cap < size ? cap : (size_t)size;
    buf = xrealloc(buf, n ? n : 1);
    rc = pread_all(fd, buf, n, 0, name, err);
    if (rc != ATH_OK) goto out;
    size_t bom = csv_bom_len(buf, n);
    int64_t lf = 0;
    int nc = 0;
    rc = csv_parse_header(buf + bom, n - bom, (int64_t)n == size, name, names, &nc, &end, &lf, err);
    if (rc == CSV_NEED_MORE) {
      cap *= 2;
      continue;
    }
    if (rc != ATH_OK) goto out;
    *hi = (header_info){
        .size = size, .data_start = (int64_t)(bom + end), .header_lf = lf, .ncols = nc};
    break;
  }
  for (int i = 0; i < nreq && rc == ATH_OK; i++) {
    int found = 0;
    for (int j = 0; j < hi->ncols && !found; j++)
      found = strcmp((*names)[j], required[i]) == 0;
    if (!found)
      rc = ath_fail(err, ATH_ERR, "%s: line 1: missing required column '%s'", name, required[i]);
  }
  uint8_t last = 0;
  if (rc == ATH_OK) rc = pread_all(fd, &last, 1, size - 1, name, err);
  hi->last_byte = last;
out:
  free(buf);
  return rc;
}

/* Shares the header (status, info and names) from rank 0; on return every rank holds the
 * same *hi and a *names array of its own (free with csv_names_free). */
static int share_header(MPI_Comm comm, int fd, const char *name, const char *const *required,
                        int nreq, header_info *hi, char ***names, ath_error *err) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  int rc = ATH_OK;
  char *blob = NULL;
  if (rank == 0) {
    rc = read_header(fd, hi->size, name, required, nreq, hi, names, err);
    if (rc == ATH_OK) {
      size_t len = 0;
      for (int i = 0; i < hi->ncols; i++)
        len += strlen((*names)[i]) + 1;
      blob = xmalloc(len + 1);
      for (int i = 0, off = 0; i < hi->ncols; i++) {
        size_t l = strlen((*names)[i]) + 1;
        memcpy(blob + off, (*names)[i], l);
        off += (int)l;
      }
      hi->names_len = (int32_t)len;
    }
  }
  rc = ath_agree(comm, rc, err);
  if (rc == ATH_OK)
    rc = ath_agree(comm, ATH_MPI(MPI_Bcast(hi, (int)sizeof *hi, MPI_BYTE, 0, comm), err), err);
  if (rc == ATH_OK && rank != 0) blob = xmalloc((size_t)hi->names_len + 1);
  if (rc == ATH_OK)
    rc = ath_agree(comm, ATH_MPI(MPI_Bcast(blob, hi->names_len, MPI_BYTE, 0, comm), err), err);
  if (rc != ATH_OK) {
    free(blob);
    return rc;
  }
  if (rank != 0) {
    *names = xcalloc((size_t)hi->ncols + 1, sizeof **names);
    for (int i = 0, off = 0; i < hi->ncols; i++) {
      (*names)[i] = xstrdup(blob + off);
      off += (int)strlen(blob + off) + 1;
    }
  }
  free(blob);
  return ATH_OK;
}

/* MPI user operation: inout = in then inout (in comes from the lower ranks). */
static void smap_compose_op(void *in, void *inout, int *len, MPI_Datatype *dt) {
  csv_smap *a = in, *b = inout;
  for (int i = 0; i < *len; i++)
    b[i] = csv_smap_then(a[i], b[i]);
}

/* The composed map of the bytes of all lower ranks (identity on rank 0) into *prefix. Collective;
 * the status is agreed. */
static int exscan_maps(MPI_Comm comm, csv_smap mine, csv_smap *prefix, ath_error *err) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  MPI_Datatype type = MPI_DATATYPE_NULL;
  MPI_Op op = MPI_OP_NULL;
  int rc = ATH_MPI(MPI_Type_contiguous((int)sizeof(csv_smap), MPI_BYTE, &type), err);
  if (rc == ATH_OK) rc = ATH_MPI(MPI_Type_commit(&type), err);
  if (rc == ATH_OK) rc = ATH_MPI(MPI_Op_create(smap_compose_op, 0, &op), err);
  *prefix = csv_smap_identity();
  if ((rc = ath_agree(comm, rc, err)) == ATH_OK)
    rc = ath_agree(comm, ATH_MPI(MPI_Exscan(&mine, prefix, 1, type, op, comm), err), err);
  if (rank == 0) *prefix = csv_smap_identity();
  if (op != MPI_OP_NULL) MPI_Op_free(&op);
  if (type != MPI_DATATYPE_NULL) MPI_Type_free(&type);
  return rc;
}

/* This rank's slice of the file and the parse plan derived from every rank's scan. */
typedef struct slice {
  int64_t a, b;      /* owned data bytes */
  int64_t tail_end;  /* end of the record crossing b (b if none) */
  int64_t read_end;  /* bytes to read: [a, read_end) */
  int64_t first_row; /* offset of this rank's first record start, -1 if none in [a, b] */
  int start_state;
  int64_t start_line;
  int64_t first_line; /* line number of first_row */
  int64_t total_lf;
} slice;

/* The slice is read through one window (8 MiB by default, grown only for a longer record),
 * twice: once to scan, once to parse. A rank never holds its whole slice, and the window,
 * reused, stays in cache; the second read comes from the page cache. */

/* Collective: scans this rank's bytes window by window and agrees with the others on start
 * states and tails; fills s. `win` holds w bytes. */
static int scan_slice(MPI_Comm comm, int fd, const char *name, const header_info *hi, slice *s,
                      uint8_t *win, size_t w, ath_error *err) {
  int rank, nranks;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &nranks);
  csv_smap mine = csv_smap_identity();
  int rc = ATH_OK;
  for (int64_t off = s->a; rc == ATH_OK && off < s->b; off += (int64_t)w) {
    size_t m = s->b - off < (int64_t)w ? (size_t)(s->b - off) : w;
    rc = pread_all(fd, win, m, off, name, err);
    if (rc == ATH_OK) mine = csv_smap_then(mine, csv_smap_of(win, m));
  }
  rc = ath_agree(comm, rc, err);
  if (rc != ATH_OK) return rc;
  csv_smap prefix;
  if ((rc = exscan_maps(comm, mine, &prefix, err)) != ATH_OK) return rc;
  s->start_state = prefix.to[CSV_ROW];
  s->start_line = 1 + hi->header_lf + prefix.lf;
  /* The first record start: almost always within the first window. */
  s->first_row = s->a == s->b && s->start_state == CSV_ROW ? s->a : -1;
  s->first_line = s->start_line;
  int st = s->start_state;
  for (int64_t off = s->a; rc == ATH_OK && s->first_row < 0 && off < s->b; off += (int64_t)w) {
    size_t m = s->b - off < (int64_t)w ? (size_t)(s->b - off) : w;
    rc = pread_all(fd, win, m, off, name, err);
    if (rc != ATH_OK) break;
    int64_t f = csv_first_row_state(st, win, m);
    if (f >= 0) {
      s->first_row = off + f;
      s->first_line += csv_smap_of(win, (size_t)f).lf;
    } else {
      st = csv_run(st, win, m);
      s->first_line += csv_smap_of(win, m).lf;
    }
  }
  rc = ath_agree(comm, rc, err);
  if (rc != ATH_OK) return rc;
  csv_piece_info info = {
      .first_row = s->first_row, .lf = mine.lf, .end_state = mine.to[s->start_state]};
  csv_piece_info *all = xmalloc((size_t)nranks * sizeof *all);
  rc = ATH_MPI(
      MPI_Allgather(&info, (int)sizeof info, MPI_BYTE, all, (int)sizeof info, MPI_BYTE, comm), err);
  if ((rc = ath_agree(comm, rc, err)) != ATH_OK) {
    free(all);
    return rc;
  }
  csv_plan_tail(all, nranks, rank, s->b, hi->size, &s->tail_end, &s->read_end);
  s->total_lf = hi->header_lf;
  for (int r = 0; r < nranks; r++)
    s->total_lf += all[r].lf;
  free(all);
  return ATH_OK;
}

/* The record that starts at win[0] fills the whole window (have bytes from file offset off):
 * scans on from the window's end, without keeping the bytes, to where it ends. *need gets its
 * length (terminator included), or the bytes up to read_end when it runs on to there; then
 * *unterminated says whether that makes it a broken final record (inside quotes, or known to be
 * cut short by the plan). */
static int measure_record(int fd, const char *name, const slice *s, const uint8_t *win, size_t have,
                          int64_t off, size_t *need, bool *unterminated, ath_error *err) {
  enum { STEP = 1 << 16 };
  uint8_t *buf = xmalloc(STEP);
  int st = csv_run(CSV_ROW, win, have), rc = ATH_OK;
  int64_t pos = off + (int64_t)have;
  *unterminated = false;
  *need = 0;
  while (rc == ATH_OK && !*need) {
    if (pos >= s->read_end) {
      *need = (size_t)(s->read_end - off);
      *unterminated = st == CSV_QUO || s->read_end < s->tail_end;
      break;
    }
    size_t m = s->read_end - pos < STEP ? (size_t)(s->read_end - pos) : STEP;
    rc = pread_all(fd, buf, m, pos, name, err);
    if (rc != ATH_OK) break;
    int64_t f = csv_first_row_state(st, buf, m);
    if (f >= 0)
      *need = (size_t)(pos + f - off);
    else
      st = csv_run(st, buf, m);
    pos += (int64_t)m;
  }
  free(buf);
  return rc;
}

/* Parses the records that start in [first_row, b), reading [first_row, read_end) window by
 * window. A record longer than the window is measured first: the window grows once to hold it,
 * and a final unterminated quoted record (which may run to the end of the file) is rejected
 * from its first bytes, never held whole. */
static int parse_slice(int fd, const char *name, const slice *s, uint8_t **win, size_t *cap,
                       const csv_sink *sink, live_counter *progress, batch *rows, batch *rejects,
                       csv_stats *st, ath_error *err) {
  csv_positions pos = {0};
  csv_records r = {.source = name,
                   .rows = rows,
                   .rejects = rejects,
                   .pos = sink ? &pos : NULL,
                   .own_end = s->b,
                   .truncated = s->read_end < s->tail_end,
                   .line = s->first_line};
  int64_t off = s->first_row; /* file offset of (*win)[0] */
  size_t have = 0;
  int rc = ATH_OK;
  while (rc == ATH_OK && !r.done) {
    int64_t left = s->read_end - (off + (int64_t)have);
    size_t want = *cap - have < (uint64_t)left ? *cap - have : (size_t)left;
    rc = pread_all(fd, *win + have, want, off + (int64_t)have, name, err);
    if (rc != ATH_OK) break;
    have += want;
    bool more = off + (int64_t)have < s->read_end;
    size_t used = 0;
    int64_t before = r.nrecords;
    rc = csv_parse_window(&r, *win, have, off, more, &used, err);
    live_add(progress, (int64_t)used, r.nrecords - before);
    if (rc == ATH_OK && sink && rows->nrows > 0) {
      rc = sink->rows(sink->ctx, rows, &pos, err);
      batch_clear(rows);
      pos.n = 0;
    }
    if (rc == ATH_OK && !r.done && used == 0 && have == *cap) { /* one record fills the window */
      size_t need;
      bool broken;
      rc = measure_record(fd, name, s, *win, have, off, &need, &broken, err);
      if (rc != ATH_OK) break;
      size_t keep = broken && need > CSV_RAW_MAX + 1 ? CSV_RAW_MAX + 1 : need;
      if (keep > *cap) {
        *cap = keep;
        *win = xrealloc(*win, *cap);
      }
      if (broken) {
        if (keep > have)
          rc = pread_all(fd, *win + have, keep - have, off + (int64_t)have, name, err);
        if (rc == ATH_OK) csv_reject_unterminated(&r, *win, keep, off);
        break;
      }
    }
    memmove(*win, *win + used, have - used);
    have -= used;
    off += (int64_t)used;
  }
  st->records += r.nrecords;
  st->rejects += r.nrejects;
  csv_positions_free(&pos);
  return rc;
}

static batch *rows_new(char **names, int ncols) {
  field_def *f = xcalloc((size_t)ncols + 1, sizeof *f);
  for (int i = 0; i < ncols; i++)
    f[i] = (field_def){names[i], COL_STRING, true};
  batch *b = batch_new(f, ncols);
  free(f);
  return b;
}

int csv_read_table(MPI_Comm comm, const char *path, const csv_read_opts *o, batch **rows,
                   batch **rejects, csv_stats *st, ath_error *err) {
  const char *name = o->display_name ? o->display_name : path;
  int rank, nranks, fd = -1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &nranks);
  header_info hi = {0};
  char **names = NULL;
  uint8_t *buf = NULL;
  *rows = *rejects = NULL;
  memset(st, 0, sizeof *st);
  int rc = ath_agree(comm, open_file(path, name, &fd, &hi.size, err), err);
  if (rc == ATH_OK) rc = share_header(comm, fd, name, o->required, o->nrequired, &hi, &names, err);
  if (rc != ATH_OK) goto out;
  int64_t S = hi.size, lo = S * rank / nranks, hi_off = S * (rank + 1) / nranks;
  slice s = {.a = lo > hi.data_start ? lo : hi.data_start,
             .b = hi_off > hi.data_start ? hi_off : hi.data_start};
  size_t cap = o->window ? o->window : CSV_READ_WINDOW_DEFAULT;
  buf = xmalloc(cap);
  rc = scan_slice(comm, fd, name, &hi, &s, buf, cap, err);
  *rows = rows_new(names, hi.ncols);
  *rejects = csv_rejects_new();
  if (rc == ATH_OK && s.first_row >= 0) {
    /* Room for what is held at once: the slice, or one window's records with a sink. */
    int64_t held = o->sink && (int64_t)cap < s.b - s.a ? (int64_t)cap : s.b - s.a;
    batch_reserve(*rows, held / 64 + 16, (size_t)held / (size_t)hi.ncols);
    rc = parse_slice(fd, name, &s, &buf, &cap, o->sink, o->progress, *rows, *rejects, st, err);
  }
  free(buf);
  buf = NULL;
  rc = ath_agree(comm, rc, err);
  st->bytes = hi_off - lo;
  st->lines = s.total_lf + (S > 0 && hi.last_byte != '\n');
out:
  if (rc != ATH_OK) {
    batch_free(*rows);
    batch_free(*rejects);
    *rows = *rejects = NULL;
  }
  free(buf);
  csv_names_free(names, hi.ncols);
  if (fd >= 0) close(fd);
  return rc;
}
