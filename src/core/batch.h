/* The columnar batch: the one currency between readers, stages and writers.
 *
 * A batch is a fixed schema (column names and types) plus, per column, a few large buffers:
 *   STRING     offsets[nrows + 1] (int64) into one byte buffer; row i is
 *              bytes[offsets[i] .. offsets[i+1]) (exactly the HDF5 layout, close to Arrow)
 *   INT64      int64_t values[nrows]
 *   TIMESTAMP  int64_t values[nrows]  (microseconds since the Unix epoch, UTC)
 *   DOUBLE     double values[nrows]
 *   BOOL       uint8_t values[nrows]  (0 or 1)
 * and a validity byte mask valid[nrows] (1 = value present, 0 = null). A null row still has
 * a slot in values (zero) and an empty string range, so row i is always at index i.
 * No per-field allocation: appends amortise into the column's buffers. */
#ifndef ATHLETE_CORE_BATCH_H
#define ATHLETE_CORE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum col_type {
  COL_STRING = 0,
  COL_INT64 = 1,
  COL_DOUBLE = 2,
  COL_BOOL = 3,
  COL_TIMESTAMP = 4,
} col_type;

/* "string", "int64", "double", "bool", "timestamp" (also the HDF5 type attribute). */
const char *col_type_name(col_type t);
/* Parses a col_type_name; returns -1 when unknown. */
int col_type_parse(const char *name);
/* Bytes per value of a fixed-width type (0 for STRING). */
size_t col_type_width(col_type t);

/* One column of a schema. */
typedef struct field_def {
  const char *name;
  col_type type;
  bool nullable;
} field_def;

typedef struct column {
  char *name;
  col_type type;
  bool nullable;    /* schema property: may this column hold nulls */
  int64_t n;        /* rows */
  size_t cap;       /* row capacity of values/valid (offsets has cap + 1) */
  int64_t *offsets; /* STRING only: n + 1 entries, offsets[0] == 0 */
  uint8_t *bytes;   /* STRING only */
  size_t nbytes;    /* STRING only: bytes used (== offsets[n]) */
  size_t bytes_cap; /* STRING only */
  void *values;     /* fixed-width types */
  uint8_t *valid;   /* n entries, 1 = present */
  int64_t null_count;
} column;

typedef struct batch {
  int ncols;
  column *cols;
  int64_t nrows; /* rows of every column (kept equal by batch_end_row / the bulk helpers) */
} batch;

/* Creates an empty batch with the given schema (names are copied). Never fails. */
batch *batch_new(const field_def *fields, int nfields);
/* Creates an empty batch with the same schema as `b`. */
batch *batch_new_like(const batch *b);
void batch_free(batch *b);
/* Drops all rows, keeping the buffers for reuse. */
void batch_clear(batch *b);
/* Reserves room for `rows` more rows (and, for strings, `bytes` more bytes per column). */
void batch_reserve(batch *b, int64_t rows, size_t bytes);
/* Index of the column named `name`, or -1. */
int batch_find(const batch *b, const char *name);
/* Fills `out` (room for b->ncols) with the batch's schema; names point into the batch. */
void batch_schema(const batch *b, field_def *out);
/* Sets nrows from the columns after column-wise appends; returns false if they disagree. */
bool batch_sync_rows(batch *b);
/* Appends row `i` of `src` (same schema) to `dst`. */
void batch_append_row(batch *dst, const batch *src, int64_t i);
/* Keeps only the columns named in `names` (in the batch's own order), freeing the others'
 * buffers in place; names not in the batch are ignored. */
void batch_keep_columns(batch *b, const char *const *names, int n);
/* Keeps only the rows i with keep[i] != 0, in order, moving them down in place (no memory of
 * its own). */
void batch_keep_rows(batch *b, const uint8_t *keep);
/* Total heap bytes held (capacity), for memory accounting. */
size_t batch_mem_bytes(const batch *b);
/* Bytes of payload (used), an estimate of the data size. */
size_t batch_data_bytes(const batch *b);

/* Column appends. Each appends one row to one column; call batch_sync_rows (or set nrows)
 * when a row is complete. */
void col_reserve(column *c, size_t rows, size_t bytes);
void col_append_str(column *c, const void *p, size_t len);
void col_append_null(column *c);
void col_append_i64(column *c, int64_t v);
void col_append_f64(column *c, double v);
void col_append_bool(column *c, bool v);
/* Appends row i of src (same type) to c. */
void col_append_from(column *c, const column *src, int64_t i);

static inline bool col_is_null(const column *c, int64_t i) {
  return c->valid[i] == 0;
}
static inline const uint8_t *col_str(const column *c, int64_t i, size_t *len) {
  *len = (size_t)(c->offsets[i + 1] - c->offsets[i]);
  return c->bytes + c->offsets[i];
}
static inline int64_t col_i64(const column *c, int64_t i) {
  return ((const int64_t *)c->values)[i];
}
static inline double col_f64(const column *c, int64_t i) {
  return ((const double *)c->values)[i];
}
static inline bool col_bool(const column *c, int64_t i) {
  return ((const uint8_t *)c->values)[i];
}

#endif
