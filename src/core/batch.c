#include "core/batch.h"

#include "core/status.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"string", "int64", "double", "bool", "timestamp"};

const char *col_type_name(col_type t) {
  return (unsigned)t < sizeof type_names / sizeof *type_names ? type_names[t] : "?";
}

int col_type_parse(const char *name) {
  for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
    if (strcmp(name, type_names[i]) == 0) return (int)i;
  return -1;
}

size_t col_type_width(col_type t) {
  switch (t) {
  case COL_STRING:
    return 0;
  case COL_BOOL:
    return 1;
  case COL_INT64:
  case COL_TIMESTAMP:
  case COL_DOUBLE:
    return 8;
  }
  return 0;
}

static void col_init(column *c, const field_def *f) {
  memset(c, 0, sizeof *c);
  c->name = xstrdup(f->name);
  c->type = f->type;
  c->nullable = f->nullable;
  /* Every buffer exists from the start, so an empty column never hands a NULL pointer to
   * memcpy, memchr or MPI (undefined even for zero bytes). */
  col_reserve(c, 1, 1);
  if (c->type == COL_STRING) c->offsets[0] = 0;
}

batch *batch_new(const field_def *fields, int nfields) {
  batch *b = xcalloc(1, sizeof *b);
  b->ncols = nfields;
  b->cols = xcalloc((size_t)nfields, sizeof *b->cols);
  for (int i = 0; i < nfields; i++)
    col_init(&b->cols[i], &fields[i]);
  return b;
}

batch *batch_new_like(const batch *b) {
  field_def *f = xcalloc((size_t)b->ncols, sizeof *f);
  batch_schema(b, f);
  batch *nb = batch_new(f, b->ncols);
  free(f);
  return nb;
}

static void col_release(column *c) {
  free(c->name);
  free(c->offsets);
  free(c->bytes);
  free(c->values);
  free(c->valid);
}

void batch_free(batch *b) {
  if (!b) return;
  for (int i = 0; i < b->ncols; i++)
    col_release(&b->cols[i]);
  free(b->cols);
  free(b);
}

void batch_keep_columns(batch *b, const char *const *names, int n) {
  int kept = 0;
  for (int i = 0; i < b->ncols; i++) {
    bool keep = false;
    for (int k = 0; k < n && !keep; k++)
      keep = strcmp(b->cols[i].name, names[k]) == 0;
    if (keep)
      b->cols[kept++] = b->cols[i];
    else
      col_release(&b->cols[i]);
  }
  b->ncols = kept;
}

void batch_clear(batch *b) {
  for (int i = 0; i < b->ncols; i++) {
    column *c = &b->cols[i];
    c->n = 0;
    c->nbytes = 0;
    c->null_count = 0;
    if (c->offsets) c->offsets[0] = 0;
  }
  b->nrows = 0;
}

void col_reserve(column *c, size_t rows, size_t bytes) {
  size_t need = (size_t)c->n + rows;
  if (need > c->cap) {
    size_t cap = c->cap ? c->cap : 64;
    while (cap < need)
      cap *= 2;
    c->valid = xrealloc(c->valid, cap);
    if (c->type == COL_STRING)
      c->offsets = xrealloc(c->offsets, (cap + 1) * sizeof *c->offsets);
    else
      c->values = xrealloc(c->values, cap * col_type_width(c->type));
    c->cap = cap;
  }
  if (c->type == COL_STRING && c->nbytes + bytes > c->bytes_cap) {
    size_t cap = c->bytes_cap ? c->bytes_cap : 256;
    while (cap < c->nbytes + bytes)
      cap *= 2;
    c->bytes = xrealloc(c->bytes, cap);
    c->bytes_cap = cap;
  }
}

void batch_reserve(batch *b, int64_t rows, size_t bytes) {
  for (int i = 0; i < b->ncols; i++)
    col_reserve(&b->cols[i], (size_t)rows, bytes);
}

int batch_find(const batch *b, const char *name) {
  for (int i = 0; i < b->ncols; i++)
    if (strcmp(b->cols[i].name, name) == 0) return i;
  return -1;
}

void batch_schema(const batch *b, field_def *out) {
  for (int i = 0; i < b->ncols; i++)
    out[i] = (field_def){b->cols[i].name, b->cols[i].type, b->cols[i].nullable};
}

bool batch_sync_rows(batch *b) {
  if (b->ncols == 0) return true;
  int64_t n = b->cols[0].n;
  for (int i = 1; i < b->ncols; i++)
    if (b->cols[i].n != n) return false;
  b->nrows = n;
  return true;
}

void col_append_str(column *c, const void *p, size_t len) {
  col_reserve(c, 1, len);
  if (len) memcpy(c->bytes + c->nbytes, p, len);
  c->nbytes += len;
  c->valid[c->n] = 1;
  c->offsets[++c->n] = (int64_t)c->nbytes;
}

void col_append_null(column *c) {
  col_reserve(c, 1, 0);
  c->valid[c->n] = 0;
  c->null_count++;
  if (c->type == COL_STRING)
    c->offsets[c->n + 1] = (int64_t)c->nbytes;
  else
    memset((char *)c->values + (size_t)c->n * col_type_width(c->type), 0, col_type_width(c->type));
  c->n++;
}

void col_append_i64(column *c, int64_t v) {
  col_reserve(c, 1, 0);
  ((int64_t *)c->values)[c->n] = v;
  c->valid[c->n++] = 1;
}

void col_append_f64(column *c, double v) {
  col_reserve(c, 1, 0);
  ((double *)c->values)[c->n] = v;
  c->valid[c->n++] = 1;
}

void col_append_bool(column *c, bool v) {
  col_reserve(c, 1, 0);
  ((uint8_t *)c->values)[c->n] = v ? 1 : 0;
  c->valid[c->n++] = 1;
}

void col_append_from(column *c, const column *src, int64_t i) {
  if (col_is_null(src, i)) {
    col_append_null(c);
    return;
  }
  if (c->type == COL_STRING) {
    size_t len;
    const uint8_t *p = col_str(src, i, &len);
    col_append_str(c, p, len);
    return;
  }
  size_t w = col_type_width(c->type);
  col_reserve(c, 1, 0);
  memcpy((char *)c->values + (size_t)c->n * w, (const char *)src->values + (size_t)i * w, w);
  c->valid[c->n++] = 1;
}

void batch_append_row(batch *dst, const batch *src, int64_t i) {
  for (int k = 0; k < dst->ncols; k++)
    col_append_from(&dst->cols[k], &src->cols[k], i);
  dst->nrows++;
}

size_t batch_mem_bytes(const batch *b) {
  size_t t = 0;
  for (int i = 0; i < b->ncols; i++) {
    const column *c = &b->cols[i];
    t += c->cap;
    t += c->type == COL_STRING ? (c->cap + 1) * 8 + c->bytes_cap : c->cap * col_type_width(c->type);
  }
  return t;
}

size_t batch_data_bytes(const batch *b) {
  size_t t = 0;
  for (int i = 0; i < b->ncols; i++) {
    const column *c = &b->cols[i];
    t += c->type == COL_STRING ? c->nbytes + (size_t)c->n * 8
                               : (size_t)c->n * col_type_width(c->type);
  }
  return t;
}

void batch_keep_rows(batch *b, const uint8_t *keep) {
  int64_t first = 0; /* rows before the first dropped one stay where they are */
  while (first < b->nrows && keep[first])
    first++;
  for (int k = 0; k < b->ncols; k++) {
    column *c = &b->cols[k];
    size_t w = col_type_width(c->type);
    int64_t o = first, nulls = 0;
    for (int64_t i = 0; i < first; i++)
      nulls += !c->valid[i];
    for (int64_t i = first; i < c->n; i++) {
      if (!keep[i]) continue;
      if (c->type == COL_STRING) {
        int64_t from = c->offsets[i], len = c->offsets[i + 1] - from;
        if (len) memmove(c->bytes + c->offsets[o], c->bytes + from, (size_t)len);
        c->offsets[o + 1] = c->offsets[o] + len;
      } else if (o != i) {
        memcpy((char *)c->values + (size_t)o * w, (char *)c->values + (size_t)i * w, w);
      }
      c->valid[o] = c->valid[i];
      nulls += !c->valid[o];
      o++;
    }
    c->n = o;
    c->null_count = nulls;
    if (c->type == COL_STRING) c->nbytes = (size_t)c->offsets[o];
  }
  batch_sync_rows(b);
}
