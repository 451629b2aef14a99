/* libFuzzer target: the Parquet writer and reader. The input describes a schema (up to 6
 * columns of every type, nullable or not) and their values (strings of any bytes and length,
 * numbers, nulls), plus options (codec, tiny page / row-group / dictionary limits so every path
 * runs). The writer must not crash and must accept every batch it is given; its file must have
 * "PAR1" at both ends and a footer length that fits; and the project's reader must read back
 * every value exactly (doubles bit for bit), also from a random row onwards. */
#define _GNU_SOURCE /* memfd_create */
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct input {
  const uint8_t *p;
  size_t n;
} input;

static uint8_t take(input *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in = {data, size};
  int ncols = 1 + take(&in) % 6;
  field_def fd[6];
  char names[6][8];
  for (int k = 0; k < ncols; k++) {
    uint8_t t = take(&in);
    snprintf(names[k], sizeof names[k], "c%d", k);
    fd[k] = (field_def){names[k], (col_type)(t % 5), (t & 8) != 0};
  }
  batch *b = batch_new(fd, ncols);
  int64_t rows = take(&in) % 64;
  uint8_t *scratch = malloc(256);
  for (int64_t i = 0; i < rows; i++) {
    for (int k = 0; k < ncols; k++) {
      column *c = &b->cols[k];
      uint8_t x = take(&in);
      if (c->nullable && (x & 1)) {
        col_append_null(c);
        continue;
      }
      switch (c->type) {
      case COL_STRING: {
        size_t len = take(&in) % 40;
        for (size_t j = 0; j < len; j++)
          scratch[j] = take(&in);
        col_append_str(c, scratch, len);
        break;
      }
      case COL_INT64:
      case COL_TIMESTAMP:
        col_append_i64(c, (int64_t)((uint64_t)x << 56 | (uint64_t)take(&in) << 8 | take(&in)));
        break;
      case COL_DOUBLE: {
        uint64_t bits = (uint64_t)take(&in) << 56 | (uint64_t)take(&in) << 48 | take(&in);
        double d;
        memcpy(&d, &bits, sizeof d);
        col_append_f64(c, d);
        break;
      }
      case COL_BOOL:
        col_append_bool(c, x & 2);
        break;
      }
    }
    b->nrows++;
  }
  pq_options o;
  pq_options_default(&o);
  uint8_t opt = take(&in);
  o.codec = (pq_codec)(opt % 3);
  o.page_bytes = 1 + (size_t)(opt >> 2) * 16;
  o.row_group_rows = 1 + take(&in) % 32;
  o.dict_max_bytes = (size_t)take(&in) * 4;
  uint8_t *out = NULL;
  size_t len = 0;
  ath_error err = {0};
  pq_writer *w = pq_open_mem(&out, &len, fd, ncols, &o, &err);
  int rc = w ? pq_append(w, b, &err) : ATH_ERR;
  if (w) rc = rc == ATH_OK ? pq_close(w, &err) : (pq_abort(w), rc);
  if (rc != ATH_OK) {
    fprintf(stderr, "fuzz_parquet: the writer refused a valid batch: %s\n", err.msg);
    abort();
  }
  uint32_t footer = 0;
  if (len >= 12) memcpy(&footer, out + len - 8, 4);
  if (len < 12 || memcmp(out, "PAR1", 4) != 0 || memcmp(out + len - 4, "PAR1", 4) != 0 ||
      (size_t)footer + 12 > len) {
    fprintf(stderr, "fuzz_parquet: malformed file (%zu bytes, footer %u)\n", len, footer);
    abort();
  }
  /* Read it back through a memory-backed file. */
  int mfd = memfd_create("fuzz.parquet", 0);
  if (mfd < 0 || write(mfd, out, len) != (ssize_t)len) abort();
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
  pq_reader *r = NULL;
  if (pq_reader_open(path, &r, &err) != ATH_OK) {
    fprintf(stderr, "fuzz_parquet: the reader refused the writer's file: %s\n", err.msg);
    abort();
  }
  int64_t from = rows ? (int64_t)(opt % (uint64_t)rows) : 0;
  batch *got = batch_new(pq_reader_fields(r), pq_reader_ncols(r));
  if (pq_reader_rows(r) != rows || pq_read_rows(r, from, rows - from, got, &err) != ATH_OK ||
      got->nrows != rows - from) {
    fprintf(stderr, "fuzz_parquet: read back failed: %s\n", err.msg);
    abort();
  }
  for (int k = 0; k < ncols; k++) {
    const column *a = &b->cols[k], *g = &got->cols[k];
    if (a->type != g->type || a->nullable != g->nullable) abort();
    for (int64_t i = 0; i < got->nrows; i++) {
      int64_t row = from + i;
      if (col_is_null(a, row) != col_is_null(g, i)) abort();
      if (col_is_null(a, row)) continue;
      size_t la, lg;
      if (a->type == COL_STRING) {
        const uint8_t *x = col_str(a, row, &la), *y = col_str(g, i, &lg);
        if (la != lg || (la && memcmp(x, y, la))) abort();
      } else if (memcmp((const char *)a->values + (size_t)row * col_type_width(a->type),
                        (const char *)g->values + (size_t)i * col_type_width(a->type),
                        col_type_width(a->type)) != 0) {
        fprintf(stderr, "fuzz_parquet: row %lld column %d differs\n", (long long)row, k);
        abort();
      }
    }
  }
  batch_free(got);
  pq_reader_close(r);
  close(mfd);
  free(out);
  free(scratch);
  batch_free(b);
  return 0;
}
