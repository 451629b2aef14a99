/* The Parquet reader (parquet.h): what the writer writes, and what DuckDB, Spark or pyarrow
 * write with the same encodings. Flat schemas of BYTE_ARRAY (strings), INT64 (plain or
 * TIMESTAMP in millis, micros or nanos, read as micros), INT32, DOUBLE, FLOAT and BOOLEAN
 * columns, required or optional; v1 data pages, PLAIN and (RLE_|PLAIN_)DICTIONARY values, RLE /
 * bit-packed definition levels; uncompressed, snappy or zstd pages.
 *
 * Every length and offset read from the file is checked against the bytes it points into: a
 * corrupt or truncated file is an error naming the file, the row group, the column and what
 * was wrong, never a crash. */
#include "parquet/parquet.h"

#include <errno.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet reader reads values as little-endian bytes"
#endif

/* ---- Thrift compact protocol, reading ----------------------------------------------------- */

typedef struct tr {
  const uint8_t *p, *end;
  bool bad;
  int depth;
} tr;

enum {
  T_STOP = 0,
  T_TRUE = 1,
  T_FALSE = 2,
  T_BYTE = 3,
  T_I16 = 4,
  T_I32 = 5,
  T_I64 = 6,
  T_DOUBLE = 7,
  T_BINARY = 8,
  T_LIST = 9,
  T_SET = 10,
  T_MAP = 11,
  T_STRUCT = 12
};

static uint64_t tr_varint(tr *t) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (t->p >= t->end) break;
    uint8_t b = *t->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  t->bad = true;
  return 0;
}

static int64_t tr_zigzag(tr *t) {
  uint64_t v = tr_varint(t);
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* A binary field's bytes (pointing into the buffer). */
static const uint8_t *tr_binary(tr *t, size_t *n) {
  uint64_t len = tr_varint(t);
  if (t->bad || len > (uint64_t)(t->end - t->p)) {
    t->bad = true;
    *n = 0;
    return NULL;
  }
  const uint8_t *s = t->p;
  t->p += len;
  *n = (size_t)len;
  return s;
}

/* A list header: *elem gets the element type; returns the size. */
static uint64_t tr_list(tr *t, int *elem) {
  if (t->p >= t->end) {
    t->bad = true;
    return 0;
  }
  uint8_t h = *t->p++;
  *elem = h & 0x0f;
  uint64_t n = h >> 4;
  if (n == 15) n = tr_varint(t);
  if (n > (uint64_t)(t->end - t->p)) t->bad = true; /* every element takes a byte at least */
  return t->bad ? 0 : n;
}

static void tr_skip(tr *t, int type);

/* The next field of the current struct: false at its stop byte (or an error). */
static bool tr_field(tr *t, int16_t *last, int *type, int16_t *id) {
  if (t->bad || t->p >= t->end) {
    t->bad = true;
    return false;
  }
  uint8_t h = *t->p++;
  *type = h & 0x0f;
  if (*type == T_STOP) return false;
  int16_t delta = (int16_t)(h >> 4);
  *id = delta ? (int16_t)(*last + delta) : (int16_t)tr_zigzag(t);
  *last = *id;
  return !t->bad;
}

static void tr_skip_struct(tr *t) {
  if (++t->depth > 32) {
    t->bad = true;
    return;
  }
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id))
    tr_skip(t, type);
  t->depth--;
}

static void tr_skip(tr *t, int type) {
  size_t n;
  int elem;
  switch (type) {
  case T_TRUE:
  case T_FALSE:
    break;
  case T_BYTE:
    if (t->p < t->end)
      t->p++;
    else
      t->bad = true;
    break;
  case T_I16:
  case T_I32:
  case T_I64:
    tr_varint(t);
    break;
  case T_DOUBLE:
    if (t->end - t->p >= 8)
      t->p += 8;
    else
      t->bad = true;
    break;
  case T_BINARY:
    tr_binary(t, &n);
    break;
  case T_LIST:
  case T_SET:
    for (uint64_t i = 0, k = tr_list(t, &elem); i < k && !t->bad; i++)
      tr_skip(t, elem == T_TRUE || elem == T_FALSE ? T_BYTE : elem);
    break;
  case T_MAP: {
    uint64_t k = tr_varint(t);
    if (k == 0 || t->bad) break;
    if (t->p >= t->end || k > (uint64_t)(t->end - t->p)) {
      t->bad = true;
      break;
    }
    uint8_t kv = *t->p++;
    for (uint64_t i = 0; i < k && !t->bad; i++) {
      tr_skip(t, kv >> 4);
      tr_skip(t, kv & 0x0f);
    }
    break;
  }
  case T_STRUCT:
    tr_skip_struct(t);
    break;
  default:
    t->bad = true;
  }
}

/* ---- the footer ----------------------------------------------------------------------------- */

enum {
  PT_BOOLEAN = 0,
  PT_INT32 = 1,
  PT_INT64 = 2,
  PT_INT96 = 3,
  PT_FLOAT = 4,
  PT_DOUBLE = 5,
  PT_BYTE_ARRAY = 6,
  PT_FIXED = 7
};

typedef struct pq_rcol {
  char *name;
  int ptype;
  bool optional;
  col_type type;
  int64_t ts_scale; /* TIMESTAMP: divide by this (nanos: 1000) or multiply by -this (millis) */
} pq_rcol;

typedef struct pq_rchunk {
  int codec;
  int64_t num_values, start, len; /* bytes [start, start + len) of the file */
} pq_rchunk;

typedef struct pq_rgroup {
  int64_t rows, first_row;
  pq_rchunk *chunks;
} pq_rgroup;

struct pq_reader {
  char *path;
  int fd;
  int64_t size, rows;
  int ncols, ngroups;
  pq_rcol *cols;
  field_def *fields;
  pq_rgroup *groups;
  ZSTD_DCtx *zctx;
};

static int corrupt(const pq_reader *r, ath_error *err, const char *what) {
  return ath_fail(err, ATH_ERR, "%s: not a valid Parquet file: %s", r->path, what);
}

/* SchemaElement: the fields a flat schema needs. */
typedef struct schema_el {
  int ptype, repetition, converted, num_children;
  bool has_type, is_ts, is_string;
  int ts_unit; /* 1 millis, 2 micros, 3 nanos */
  const uint8_t *name;
  size_t name_len;
} schema_el;

static void read_timestamp_unit(tr *t, schema_el *e) {
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) { /* TimeUnit: a union of empty structs */
    if (type == T_STRUCT && id >= 1 && id <= 3) e->ts_unit = id;
    tr_skip(t, type);
  }
}

static void read_logical(tr *t, schema_el *e) {
  int16_t last = 0, id;
  int type;
  while (tr_field(t, &last, &type, &id)) {
    if (id == 8 && type == T_STRUCT) { /* TimestampType { isAdjustedToUTC, unit } */
      e->is_ts = true;
      int16_t l2 = 0, id2;
      int ty2;
      while (tr_field(t, &l2, &ty2, &id2)) {
        if (id2 == 2 && ty2 == T_STRUCT)
          read_timestamp_unit(t, e);
        else
          tr_skip(t, ty2);
      }
    } else {
      if (id == 1) e->is_string = true;
      tr_skip(t, type);
    }
  }
}

static void read_schema_el(tr *t, schema_el *e) {
  int16_t last = 0, id;
  int type;
  memset(e, 0, sizeof *e);
  e->converted = -1;
  while (tr_field(t, &last, &type, &id)) {
    if (id == 1 && type == T_I32) {
      e->ptype = (int)tr_zigzag(t);
      e->has_type = true;
    } else if (id == 3 && type == T_I32) {
      e->repetition = (int)tr_zigzag(t);
    } else if (id == 4 && type == T_BINARY) {
      e->name = tr_binary(t, &e->name_len);
    } else if (id == 5 && type == T_I32) {
      e->num_children = (int)tr_zigzag(t);
    } else if (id == 6 && type == T_I32) {
      e->converted = (int)tr_zigzag(t);
    } else if (id == 10 && type == T_STRUCT) {
      read_logical(t, e);
    } else {
      tr_skip(t, type);
    }
  }
}

/* Maps a leaf of the schema to a batch column; returns NULL or what is unsupported. */
static const char *map_column(const schema_el *e, pq_rcol *c) {
  enum { CONV_UTF8 = 0, CONV_TS_MILLIS = 9, CONV_TS_MICROS = 10 };
  if (e->num_children > 0 || !e->has_type) return "nested columns are not supported";
  if (e->repetition == 2) return "repeated columns are not supported";
  c->ptype = e->ptype;
  c->optional = e->repetition == 1;
  c->ts_scale = 1;
  switch (e->ptype) {
  case PT_BYTE_ARRAY:
    c->type = COL_STRING;
    return NULL;
  case PT_INT32:
    c->type = COL_INT64;
    return NULL;
  case PT_INT64: {
    int unit = e->ts_unit                       ? e->ts_unit
               : e->converted == CONV_TS_MILLIS ? 1
               : e->converted == CONV_TS_MICROS ? 2
                                                : 0;
    bool ts = e->is_ts || unit;
    c->type = ts ? COL_TIMESTAMP : COL_INT64;
    c->ts_scale = !ts || unit == 2 || unit == 0 ? 1 : unit == 1 ? -1000 : 1000;
    return NULL;
  }
  case PT_FLOAT:
  case PT_DOUBLE:
    c->type = COL_DOUBLE;
    return NULL;
  case PT_BOOLEAN:
    c->type = COL_BOOL;
    return NULL;
  default:
    return "INT96 and FIXED_LEN_BYTE_ARRAY columns are not supported";
  }
}

static int read_schema(pq_reader *r, tr *t, ath_error *err) {
  int elem;
  uint64_t n = tr_list(t, &elem);
  if (t->bad || elem != T_STRUCT || n < 1) return corrupt(r, err, "bad schema list");
  schema_el root;
  read_schema_el(t, &root);
  if (t->bad || (uint64_t)root.num_children != n - 1) return corrupt(r, err, "bad schema root");
  r->ncols = (int)(n - 1);
  r->cols = xcalloc((size_t)r->ncols + 1, sizeof *r->cols);
  r->fields = xcalloc((size_t)r->ncols + 1, sizeof *r->fields);
  for (int i = 0; i < r->ncols; i++) {
    schema_el e;
    read_schema_el(t, &e);
    if (t->bad || !e.name) return corrupt(r, err, "bad schema element");
    pq_rcol *c = &r->cols[i];
    c->name = xmalloc(e.name_len + 1);
    memcpy(c->name, e.name, e.name_len);
    c->name[e.name_len] = '\0';
    const char *why = map_column(&e, c);
    if (why) return ath_fail(err, ATH_ERR, "%s: column %s: %s", r->path, c->name, why);
    r->fields[i] = (field_def){c->name, c->type, c->optional};
  }
  return ATH_OK;
}

/* ColumnMetaData: codec, values and where the chunk's pages are. */
static void read_column_meta(tr *t, pq_rchunk *ch) {
  int16_t last = 0, id;
  int type;
  int64_t data = -1, dict = -1;
  while (tr_field(t, &last, &type, &id)) {
    if (id == 4 && type == T_I32)
      ch->codec = (int)tr_zigzag(t);
    else if (id == 5 && type == T_I64)
      ch->num_values = tr_zigzag(t);
    else if (id == 7 && type == T_I64)
      ch->len = tr_zigzag(t);
    else if (id == 9 && type == T_I64)
      data = tr_zigzag(t);
    else if (id == 11 && type == T_I64)
      dict = tr_zigzag(t);
    else
      tr_skip(t, type);
  }
  ch->start = dict > 0 && (data < 0 || dict < data) ? dict : data;
}

static int read_row_group(pq_reader *r, tr *t, pq_rgroup *g, ath_error *err) {
  int16_t last = 0, id;
  int type, elem;
  bool have_cols = false;
  g->chunks = xcalloc((size_t)r->ncols + 1, sizeof *g->chunks);
  while (tr_field(t, &last, &type, &id)) {
    if (id == 1 && type == T_LIST) {
      uint64_t n = tr_list(t, &elem);
      if (t->bad || elem != T_STRUCT || n != (uint64_t)r->ncols)
        return corrupt(r, err, "a row group's column count differs from the schema's");
      for (uint64_t c = 0; c < n && !t->bad; c++) {
        pq_rchunk *ch = &g->chunks[c];
        ch->start = -1;
        int16_t l2 = 0, id2;
        int ty2;
        while (tr_field(t, &l2, &ty2, &id2)) {
          if (id2 == 1 && ty2 == T_BINARY) {
            size_t plen;
            tr_binary(t, &plen);
            if (plen)
              return ath_fail(err, ATH_ERR, "%s: columns in other files are not supported",
                              r->path);
          } else if (id2 == 3 && ty2 == T_STRUCT) {
            read_column_meta(t, ch);
          } else {
            tr_skip(t, ty2);
          }
        }
      }
      have_cols = true;
    } else if (id == 3 && type == T_I64) {
      g->rows = tr_zigzag(t);
    } else {
      tr_skip(t, type);
    }
  }
  if (t->bad || !have_cols || g->rows < 0) return corrupt(r, err, "bad row group");
  for (int c = 0; c < r->ncols; c++) {
    const pq_rchunk *ch = &g->chunks[c];
    if (ch->start < 4 || ch->len < 0 || ch->start > r->size - 8 ||
        ch->len > r->size - 8 - ch->start)
      return corrupt(r, err, "a column chunk lies outside the file");
  }
  return ATH_OK;
}

static int read_footer(pq_reader *r, const uint8_t *p, size_t n, ath_error *err) {
  tr t = {p, p + n, false, 0};
  int16_t last = 0, id;
  int type, elem;
  bool have_schema = false, have_groups = false;
  while (tr_field(&t, &last, &type, &id)) {
    if (id == 2 && type == T_LIST) {
      int rc = read_schema(r, &t, err);
      if (rc != ATH_OK) return rc;
      have_schema = true;
    } else if (id == 3 && type == T_I64) {
      r->rows = tr_zigzag(&t);
    } else if (id == 4 && type == T_LIST && have_schema) {
      uint64_t ng = tr_list(&t, &elem);
      if (t.bad || elem != T_STRUCT) return corrupt(r, err, "bad row group list");
      r->ngroups = (int)ng;
      r->groups = xcalloc(ng + 1, sizeof *r->groups);
      int64_t first = 0;
      for (uint64_t g = 0; g < ng; g++) {
        int rc = read_row_group(r, &t, &r->groups[g], err);
        if (rc != ATH_OK) return rc;
        r->groups[g].first_row = first;
        first += r->groups[g].rows;
      }
      if (first != r->rows) return corrupt(r, err, "the row groups' rows do not add up");
      have_groups = true;
    } else {
      tr_skip(&t, type);
    }
  }
  if (t.bad || !have_schema) return corrupt(r, err, "bad footer");
  if (!have_groups && r->rows != 0) return corrupt(r, err, "no row groups");
  return ATH_OK;
}

static int pread_full(const pq_reader *r, void *buf, size_t n, int64_t off, ath_error *err) {
  for (size_t done = 0; done < n;) {
    ssize_t k = pread(r->fd, (char *)buf + done, n - done, (off_t)(off + (int64_t)done));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return ath_fail(err, ATH_ERR, "%s: read: %s", r->path, strerror(errno));
    if (k == 0)
      return ath_fail(err, ATH_ERR, "%s: read: the file is shorter than it says", r->path);
    done += (size_t)k;
  }
  return ATH_OK;
}

void pq_reader_close(pq_reader *r) {
  if (!r) return;
  if (r->fd >= 0) close(r->fd);
  for (int i = 0; i < r->ncols; i++)
    free(r->cols[i].name);
  for (int g = 0; g < r->ngroups; g++)
    free(r->groups[g].chunks);
  free(r->groups);
  free(r->cols);
  free(r->fields);
  if (r->zctx) ZSTD_freeDCtx(r->zctx);
  free(r->path);
  free(r);
}

int pq_reader_open(const char *path, pq_reader **out, ath_error *err) {
  pq_reader *r = xcalloc(1, sizeof *r);
  r->path = xstrdup(path);
  r->fd = open(path, O_RDONLY);
  *out = NULL;
  int rc = ATH_OK;
  struct stat sb;
  uint8_t tail[8], *footer = NULL;
  if (r->fd < 0 || fstat(r->fd, &sb) != 0) {
    rc = ath_fail(err, ATH_ERR, "%s: cannot open: %s", path, strerror(errno));
    goto out;
  }
  r->size = (int64_t)sb.st_size;
  if (r->size < 12) {
    rc = corrupt(r, err, "shorter than a header and a footer");
    goto out;
  }
  rc = pread_full(r, tail, 8, r->size - 8, err);
  if (rc == ATH_OK && memcmp(tail + 4, "PAR1", 4) != 0) rc = corrupt(r, err, "no PAR1 at the end");
  if (rc != ATH_OK) goto out;
  uint32_t flen;
  memcpy(&flen, tail, 4);
  if ((int64_t)flen > r->size - 12) {
    rc = corrupt(r, err, "the footer is longer than the file");
    goto out;
  }
  footer = xmalloc(flen ? flen : 1);
  rc = pread_full(r, footer, flen, r->size - 8 - (int64_t)flen, err);
  if (rc == ATH_OK) rc = read_footer(r, footer, flen, err);
out:
  free(footer);
  if (rc != ATH_OK) {
    pq_reader_close(r);
    return rc;
  }
  *out = r;
  return ATH_OK;
}

int64_t pq_reader_rows(const pq_reader *r) {
  return r->rows;
}
int pq_reader_ncols(const pq_reader *r) {
  return r->ncols;
}
const field_def *pq_reader_fields(const pq_reader *r) {
  return r->fields;
}
int pq_reader_groups(const pq_reader *r) {
  return r->ngroups;
}
int64_t pq_reader_group_rows(const pq_reader *r, int g) {
  return g >= 0 && g < r->ngroups ? r->groups[g].rows : 0;
}

/* ---- pages ---------------------------------------------------------------------------------- */

/* The RLE / bit-packed hybrid decoder of definition levels and dictionary indices. */
typedef struct rle {
  const uint8_t *p, *end;
  int width;
  uint32_t run_left, value; /* an RLE run */
  uint32_t packed_left;     /* values left in a bit-packed run */
  uint64_t bitpos;          /* bit position in the bit-packed run */
  const uint8_t *packed;
  bool bad;
} rle;

static void rle_init(rle *d, const uint8_t *p, size_t n, int width) {
  *d = (rle){.p = p, .end = p + n, .width = width};
  if (width < 0 || width > 32) d->bad = true;
}

static bool rle_next_run(rle *d) {
  tr t = {d->p, d->end, false, 0};
  uint64_t h = tr_varint(&t);
  if (t.bad) return false;
  d->p = t.p;
  if (h & 1) {
    uint64_t groups = h >> 1, bytes = groups * (uint64_t)d->width;
    if (groups == 0 || bytes > (uint64_t)(d->end - d->p)) {
      /* a final bit-packed run may be cut short by writers: keep what is there */
      if (groups == 0) return false;
      bytes = (uint64_t)(d->end - d->p);
    }
    d->packed = d->p;
    d->packed_left = (uint32_t)(groups * 8 < UINT32_MAX ? groups * 8 : UINT32_MAX);
    d->bitpos = 0;
    d->p += bytes;
    if (d->width == 0) d->packed_left = (uint32_t)(groups * 8);
  } else {
    size_t nb = ((size_t)d->width + 7) / 8;
    if (nb > (size_t)(d->end - d->p)) return false;
    uint32_t v = 0;
    for (size_t i = 0; i < nb; i++)
      v |= (uint32_t)d->p[i] << (8 * i);
    d->p += nb;
    d->value = v;
    d->run_left = (uint32_t)(h >> 1);
    if (d->run_left == 0) return rle_next_run(d);
  }
  return true;
}

/* The next value; sets d->bad at the end of the data. */
static uint32_t rle_get(rle *d) {
  for (;;) {
    if (d->run_left) {
      d->run_left--;
      return d->value;
    }
    if (d->packed_left) {
      d->packed_left--;
      uint32_t v = 0;
      for (int b = 0; b < d->width; b++, d->bitpos++) {
        const uint8_t *byte = d->packed + (d->bitpos >> 3);
        if (byte >= d->end) {
          d->bad = true;
          return 0;
        }
        v |= (uint32_t)((*byte >> (d->bitpos & 7)) & 1) << b;
      }
      return v;
    }
    if (d->bad || !rle_next_run(d)) {
      d->bad = true;
      return 0;
    }
  }
}

/* One column chunk being decoded: its dictionary, if any. */
typedef struct dict {
  int64_t n;
  int64_t *offs; /* strings: start and end of each entry in bytes */
  const uint8_t *bytes;
  uint8_t *owned; /* the dictionary page's decompressed body */
  int64_t *ints;
  double *dbls;
  uint8_t *bools;
} dict;

static void dict_free(dict *d) {
  free(d->offs);
  free(d->owned);
  free(d->ints);
  free(d->dbls);
  free(d->bools);
  memset(d, 0, sizeof *d);
}

typedef struct page_ctx {
  const pq_reader *r;
  const pq_rcol *c;
  int g, col;
  ath_error *err;
} page_ctx;

static int page_fail(const page_ctx *x, const char *what) {
  return ath_fail(x->err, ATH_ERR, "%s: row group %d, column %s: %s", x->r->path, x->g, x->c->name,
                  what);
}

static int64_t ts_value(const pq_rcol *c, int64_t v) {
  return c->ts_scale == 1 ? v : c->ts_scale < 0 ? v * -c->ts_scale : v / c->ts_scale;
}

/* PLAIN values: reads one into column `out`; returns false when the page ends. */
static bool plain_value(const pq_rcol *c, const uint8_t **p, const uint8_t *end, int *bit,
                        column *out) {
  size_t avail = (size_t)(end - *p);
  switch (c->ptype) {
  case PT_BYTE_ARRAY: {
    uint32_t n;
    if (avail < 4) return false;
    memcpy(&n, *p, 4);
    if (n > avail - 4) return false;
    col_append_str(out, *p + 4, n);
    *p += 4 + (size_t)n;
    return true;
  }
  case PT_INT64:
  case PT_DOUBLE: {
    if (avail < 8) return false;
    int64_t v;
    memcpy(&v, *p, 8);
    *p += 8;
    if (c->ptype == PT_DOUBLE) {
      double d;
      memcpy(&d, &v, 8);
      col_append_f64(out, d);
    } else {
      col_append_i64(out, c->type == COL_TIMESTAMP ? ts_value(c, v) : v);
    }
    return true;
  }
  case PT_INT32:
  case PT_FLOAT: {
    if (avail < 4) return false;
    int32_t v;
    memcpy(&v, *p, 4);
    *p += 4;
    if (c->ptype == PT_FLOAT) {
      float f;
      memcpy(&f, &v, 4);
      col_append_f64(out, (double)f);
    } else {
      col_append_i64(out, v);
    }
    return true;
  }
  case PT_BOOLEAN: {
    if (avail < 1) return false;
    col_append_bool(out, (**p >> *bit) & 1);
    if (++*bit == 8) {
      *bit = 0;
      (*p)++;
    }
    return true;
  }
  }
  return false;
}

/* Decodes a dictionary page body (PLAIN values) into d, which takes `body`. */
static int read_dict(const page_ctx *x, uint8_t *body, size_t n, int64_t count, dict *d) {
  dict_free(d);
  d->owned = body;
  if (count < 0 || (uint64_t)count > n * 8 + 8) return page_fail(x, "bad dictionary size");
  d->n = count;
  const uint8_t *p = body, *end = body + n;
  const pq_rcol *c = x->c;
  if (c->ptype == PT_BYTE_ARRAY) { /* entry i is bytes [offs[2i], offs[2i + 1]) */
    d->offs = xmalloc((size_t)(2 * count + 1) * sizeof *d->offs);
    d->bytes = body;
    for (int64_t i = 0; i < count; i++) {
      uint32_t len;
      if (end - p < 4) return page_fail(x, "truncated dictionary");
      memcpy(&len, p, 4);
      if (len > (size_t)(end - p) - 4) return page_fail(x, "truncated dictionary");
      d->offs[2 * i] = (int64_t)(p + 4 - body);
      d->offs[2 * i + 1] = d->offs[2 * i] + (int64_t)len;
      p += 4 + (size_t)len;
    }
    return ATH_OK;
  }
  column tmp = {0};
  tmp.type = c->type;
  tmp.nullable = false;
  int bit = 0;
  for (int64_t i = 0; i < count; i++)
    if (!plain_value(c, &p, end, &bit, &tmp)) {
      free(tmp.values);
      free(tmp.valid);
      return page_fail(x, "truncated dictionary");
    }
  if (c->type == COL_DOUBLE)
    d->dbls = tmp.values;
  else if (c->type == COL_BOOL)
    d->bools = tmp.values;
  else
    d->ints = tmp.values;
  free(tmp.valid);
  return ATH_OK;
}

static void dict_value(const dict *d, const pq_rcol *c, uint32_t i, column *out) {
  switch (c->type) {
  case COL_STRING:
    col_append_str(out, d->bytes + d->offs[2 * i], (size_t)(d->offs[2 * i + 1] - d->offs[2 * i]));
    break;
  case COL_DOUBLE:
    col_append_f64(out, d->dbls[i]);
    break;
  case COL_BOOL:
    col_append_bool(out, d->bools[i]);
    break;
  default:
    col_append_i64(out, d->ints[i]);
  }
}

/* PageHeader: what a v1 data page or a dictionary page needs. */
typedef struct page_hdr {
  int type;
  int32_t usize, csize;
  int64_t num_values;
  int encoding;
  bool has_data, has_dict;
} page_hdr;

static void read_page_hdr(tr *t, page_hdr *h) {
  int16_t last = 0, id;
  int type;
  memset(h, 0, sizeof *h);
  h->type = -1;
  while (tr_field(t, &last, &type, &id)) {
    if (id == 1 && type == T_I32) {
      h->type = (int)tr_zigzag(t);
    } else if (id == 2 && type == T_I32) {
      h->usize = (int32_t)tr_zigzag(t);
    } else if (id == 3 && type == T_I32) {
      h->csize = (int32_t)tr_zigzag(t);
    } else if ((id == 5 || id == 7) && type == T_STRUCT) {
      int16_t l2 = 0, id2;
      int ty2;
      while (tr_field(t, &l2, &ty2, &id2)) {
        if (id2 == 1 && ty2 == T_I32)
          h->num_values = tr_zigzag(t);
        else if (id2 == 2 && ty2 == T_I32)
          h->encoding = (int)tr_zigzag(t);
        else
          tr_skip(t, ty2);
      }
      if (id == 5) h->has_data = true;
      if (id == 7) h->has_dict = true;
    } else {
      tr_skip(t, type);
    }
  }
}

/* The uncompressed body of a page: a new buffer of h->usize bytes. */
static int decompress(const page_ctx *x, pq_reader *r, int codec, const uint8_t *src, size_t n,
                      size_t usize, uint8_t **out) {
  *out = xmalloc(usize ? usize : 1);
  switch (codec) {
  case 0:
    if (n != usize) return page_fail(x, "an uncompressed page's sizes differ");
    memcpy(*out, src, n);
    return ATH_OK;
  case 1: {
    size_t len = usize;
    if (snappy_uncompress((const char *)src, n, (char *)*out, &len) != SNAPPY_OK || len != usize)
      return page_fail(x, "snappy: corrupt page");
    return ATH_OK;
  }
  case 6: {
    if (!r->zctx) r->zctx = ZSTD_createDCtx();
    size_t got = ZSTD_decompressDCtx(r->zctx, *out, usize, src, n);
    if (ZSTD_isError(got) || got != usize) return page_fail(x, "zstd: corrupt page");
    return ATH_OK;
  }
  default: {
    char why[64];
    snprintf(why, sizeof why, "compression codec %d is not supported", codec);
    return page_fail(x, why);
  }
  }
}

/* Decodes one v1 data page's values into out: rows [*row, *row + num_values) of the chunk, of
 * which those in [lo, hi) are kept. */
static int read_data_page(const page_ctx *x, const uint8_t *body, size_t n, const page_hdr *h,
                          const dict *d, int64_t *row, int64_t lo, int64_t hi, column *out) {
  enum { ENC_PLAIN = 0, ENC_PLAIN_DICT = 2, ENC_RLE_DICT = 8 };
  const pq_rcol *c = x->c;
  const uint8_t *p = body, *end = body + n;
  rle levels = {0};
  if (c->optional) {
    uint32_t len;
    if (n < 4) return page_fail(x, "truncated definition levels");
    memcpy(&len, p, 4);
    if (len > n - 4) return page_fail(x, "truncated definition levels");
    rle_init(&levels, p + 4, len, 1);
    p += 4 + (size_t)len;
  }
  bool dictionary = h->encoding == ENC_RLE_DICT || h->encoding == ENC_PLAIN_DICT;
  if (!dictionary && h->encoding != ENC_PLAIN) return page_fail(x, "unsupported value encoding");
  if (dictionary && !d->n && !d->owned)
    return page_fail(x, "dictionary-encoded page without a dictionary");
  rle idx = {0};
  if (dictionary) {
    if (p >= end) {
      rle_init(&idx, p, 0, 0);
    } else {
      rle_init(&idx, p + 1, (size_t)(end - p - 1), *p);
      p = end;
    }
  }
  int bit = 0;
  column scratch = {0}; /* values of rows outside [lo, hi) are decoded into it and dropped */
  scratch.type = out->type;
  for (int64_t i = 0; i < h->num_values; i++, (*row)++) {
    bool keep = *row >= lo && *row < hi;
    column *dst = keep ? out : &scratch;
    bool present = !c->optional || rle_get(&levels) == 1;
    if (levels.bad) return page_fail(x, "bad definition levels");
    if (!present) {
      if (keep) col_append_null(out);
      continue;
    }
    if (dictionary) {
      uint32_t k = rle_get(&idx);
      if (idx.bad || (int64_t)k >= d->n) return page_fail(x, "bad dictionary index");
      if (keep) dict_value(d, c, k, dst);
    } else if (!plain_value(c, &p, end, &bit, dst)) {
      return page_fail(x, "truncated values");
    }
    if (!keep) { /* forget the dropped value */
      scratch.n = 0;
      scratch.nbytes = 0;
    }
  }
  free(scratch.offsets);
  free(scratch.bytes);
  free(scratch.values);
  free(scratch.valid);
  return ATH_OK;
}

/* Decodes column `col` of row group g, appending its rows in [lo, hi) (chunk-relative). */
static int read_chunk(pq_reader *r, int g, int col, int64_t lo, int64_t hi, column *out,
                      ath_error *err) {
  const pq_rchunk *ch = &r->groups[g].chunks[col];
  page_ctx x = {r, &r->cols[col], g, col, err};
  uint8_t *buf = xmalloc(ch->len ? (size_t)ch->len : 1);
  int rc = pread_full(r, buf, (size_t)ch->len, ch->start, err);
  dict d = {0};
  int64_t row = 0;
  const uint8_t *p = buf, *end = buf + ch->len;
  while (rc == ATH_OK && row < r->groups[g].rows && row < hi) {
    tr t = {p, end, false, 0};
    page_hdr h;
    read_page_hdr(&t, &h);
    if (t.bad || h.csize < 0 || h.usize < 0 || h.csize > end - t.p) {
      rc = page_fail(&x, "bad page header");
      break;
    }
    const uint8_t *body = t.p;
    p = t.p + h.csize;
    if (h.type == 1) continue; /* an index page */
    if ((h.type == 2 && !h.has_dict) || (h.type == 0 && !h.has_data)) {
      rc = page_fail(&x, "a page header without its page type's fields");
      break;
    }
    if (h.type == 3) {
      rc = page_fail(&x, "v2 data pages are not supported");
      break;
    }
    if (h.type != 0 && h.type != 2) {
      rc = page_fail(&x, "unknown page type");
      break;
    }
    uint8_t *u = NULL;
    rc = decompress(&x, r, ch->codec, body, (size_t)h.csize, (size_t)h.usize, &u);
    if (rc != ATH_OK) {
      free(u);
      break;
    }
    if (h.type == 2) {
      rc = read_dict(&x, u, (size_t)h.usize, h.num_values, &d); /* d takes u */
    } else {
      if (h.num_values < 0 || row + h.num_values > r->groups[g].rows)
        rc = page_fail(&x, "more values than the row group has rows");
      else
        rc = read_data_page(&x, u, (size_t)h.usize, &h, &d, &row, lo, hi, out);
      free(u);
    }
  }
  if (rc == ATH_OK && row < hi && row < r->groups[g].rows)
    rc = page_fail(&x, "fewer values than rows");
  dict_free(&d);
  free(buf);
  return rc;
}

int pq_read_rows(pq_reader *r, int64_t start, int64_t count, batch *out, ath_error *err) {
  if (out->ncols != r->ncols)
    return ath_fail(err, ATH_ERR, "%s: the batch's schema differs", r->path);
  if (start < 0 || count < 0 || start > r->rows || count > r->rows - start)
    return ath_fail(err, ATH_ERR, "%s: rows [%lld, %lld) are outside the file's %lld", r->path,
                    (long long)start, (long long)(start + count), (long long)r->rows);
  int64_t end = start + count;
  int rc = ATH_OK;
  for (int g = 0; g < r->ngroups && rc == ATH_OK; g++) {
    const pq_rgroup *G = &r->groups[g];
    int64_t lo = start > G->first_row ? start - G->first_row : 0;
    int64_t hi = end < G->first_row + G->rows ? end - G->first_row : G->rows;
    if (lo >= hi) continue;
    for (int c = 0; c < r->ncols && rc == ATH_OK; c++)
      rc = read_chunk(r, g, c, lo, hi, &out->cols[c], err);
  }
  if (rc == ATH_OK && !batch_sync_rows(out))
    rc = ath_fail(err, ATH_ERR, "%s: the columns hold different numbers of rows", r->path);
  return rc;
}
