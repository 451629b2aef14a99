/* The public writer: validates batches, buffers rows up to one row group, writes row groups
 * column by column and the footer on close. The first error is sticky. */
#include <stdlib.h>
#include <zstd.h>

#include "parquet/pq_internal.h"

struct pq_writer {
  field_def *fields; /* names owned */
  int nfields;
  pq_options opt;
  char *created_by;
  pq_sink sink;
  uint8_t **mem_out; /* memory writer: where pq_close leaves the bytes */
  size_t *mem_len;
  batch *buf; /* rows of the row group being gathered */
  pq_scratch sc;
  pq_rowgroup_meta *rgs;
  size_t nrg, rg_cap;
  int64_t num_rows;
  ath_error first; /* sticky first error */
};

static const char *const codec_names[] = {"none", "snappy", "zstd"};

int pq_codec_parse(const char *name, pq_codec *out, ath_error *err) {
  for (int c = PQ_CODEC_NONE; c <= PQ_CODEC_ZSTD; c++) {
    if (name && strcmp(name, codec_names[c]) == 0) {
      *out = (pq_codec)c;
      return ATH_OK;
    }
  }
  return ath_fail(err, ATH_EUSAGE, "unknown Parquet compression '%s' (use zstd, snappy or none)",
                  name ? name : "(null)");
}

const char *pq_codec_name(pq_codec c) {
  return c >= PQ_CODEC_NONE && c <= PQ_CODEC_ZSTD ? codec_names[c] : "unknown";
}

void pq_options_default(pq_options *o) {
  *o = (pq_options){
      .codec = PQ_CODEC_ZSTD,
      .zstd_level = 1,
      .row_group_rows = 1 << 20,
      .row_group_bytes = (size_t)128 << 20,
      .page_bytes = (size_t)1 << 20,
      .dict_max_bytes = (size_t)1 << 20,
      .created_by = "athlete version " ATHLETE_VERSION,
      .max_value_bytes = PQ_MAX_VALUE_BYTES,
  };
}

/* Checks options and schema; returns ATH_OK or ATH_EUSAGE. */
static int check_setup(const field_def *fields, int nfields, const pq_options *o, ath_error *err) {
  if (o->codec < PQ_CODEC_NONE || o->codec > PQ_CODEC_ZSTD)
    return ath_fail(err, ATH_EUSAGE, "parquet: unknown codec %d", (int)o->codec);
  if (o->codec == PQ_CODEC_ZSTD &&
      (o->zstd_level < ZSTD_minCLevel() || o->zstd_level > ZSTD_maxCLevel()))
    return ath_fail(err, ATH_EUSAGE, "parquet: zstd level %d outside %d..%d", o->zstd_level,
                    ZSTD_minCLevel(), ZSTD_maxCLevel());
  if (o->row_group_rows < 1 || o->row_group_bytes < 1 || o->page_bytes < 1)
    return ath_fail(err, ATH_EUSAGE, "parquet: row group and page sizes must be positive");
  if (o->max_value_bytes < 1 || o->max_value_bytes > PQ_MAX_VALUE_BYTES)
    return ath_fail(err, ATH_EUSAGE, "parquet: max_value_bytes must be 1..%zu", PQ_MAX_VALUE_BYTES);
  if (nfields < 1 || !fields) return ath_fail(err, ATH_EUSAGE, "parquet: a schema needs columns");
  for (int i = 0; i < nfields; i++) {
    if (!fields[i].name || !fields[i].name[0])
      return ath_fail(err, ATH_EUSAGE, "parquet: column %d has no name", i);
    if ((unsigned)fields[i].type > COL_TIMESTAMP)
      return ath_fail(err, ATH_EUSAGE, "parquet: column '%s' has an unknown type", fields[i].name);
    for (int j = 0; j < i; j++)
      if (strcmp(fields[i].name, fields[j].name) == 0)
        return ath_fail(err, ATH_EUSAGE, "parquet: duplicate column name '%s'", fields[i].name);
  }
  return ATH_OK;
}

/* Allocates a writer with a copy of the schema and options (sink not opened yet); NULL
 * after a usage error. */
static pq_writer *writer_new(const field_def *fields, int nfields, const pq_options *opt,
                             ath_error *err) {
  pq_options o;
  if (opt)
    o = *opt;
  else
    pq_options_default(&o);
  if (check_setup(fields, nfields, &o, err) != ATH_OK) return NULL;
  pq_writer *w = xcalloc(1, sizeof *w);
  w->opt = o;
  if (!w->opt.max_value_bytes) w->opt.max_value_bytes = PQ_MAX_VALUE_BYTES;
  w->created_by = xstrdup(o.created_by ? o.created_by : "athlete version " ATHLETE_VERSION);
  w->opt.created_by = w->created_by;
  w->nfields = nfields;
  w->fields = xmalloc((size_t)nfields * sizeof *w->fields);
  for (int i = 0; i < nfields; i++) {
    w->fields[i] = fields[i];
    w->fields[i].name = xstrdup(fields[i].name);
  }
  w->buf = batch_new(w->fields, nfields);
  w->sc.comp.codec = o.codec;
  w->sc.comp.level = o.zstd_level;
  w->sink.fd = -1;
  return w;
}

static void writer_free(pq_writer *w) {
  for (size_t i = 0; i < w->nrg; i++) {
    for (int c = 0; c < w->nfields; c++)
      pq_chunk_meta_free(&w->rgs[i].cols[c]);
    free(w->rgs[i].cols);
  }
  free(w->rgs);
  for (int i = 0; i < w->nfields; i++)
    free((char *)w->fields[i].name);
  free(w->fields);
  free(w->created_by);
  batch_free(w->buf);
  pq_scratch_free(&w->sc);
  free(w);
}

/* Writes the leading magic; on failure discards the sink and frees w. */
static pq_writer *start(pq_writer *w, ath_error *err) {
  if (pq_sink_write(&w->sink, "PAR1", 4, err) == ATH_OK) return w;
  pq_sink_discard(&w->sink);
  writer_free(w);
  return NULL;
}

pq_writer *pq_open_file(const char *path, const field_def *fields, int nfields,
                        const pq_options *opt, ath_error *err) {
  if (!path || !path[0]) {
    ath_fail(err, ATH_EUSAGE, "parquet: no output path");
    return NULL;
  }
  pq_writer *w = writer_new(fields, nfields, opt, err);
  if (!w) return NULL;
  if (pq_sink_open_file(&w->sink, path, err) != ATH_OK) {
    writer_free(w);
    return NULL;
  }
  return start(w, err);
}

pq_writer *pq_open_mem(uint8_t **out_buf, size_t *out_len, const field_def *fields, int nfields,
                       const pq_options *opt, ath_error *err) {
  if (!out_buf || !out_len) {
    ath_fail(err, ATH_EUSAGE, "parquet: no output buffer");
    return NULL;
  }
  *out_buf = NULL;
  *out_len = 0;
  pq_writer *w = writer_new(fields, nfields, opt, err);
  if (!w) return NULL;
  pq_sink_open_mem(&w->sink);
  w->mem_out = out_buf;
  w->mem_len = out_len;
  return start(w, err);
}

/* Returns the sticky error, copied into err. */
static int sticky(const pq_writer *w, ath_error *err) {
  return ath_fail(err, w->first.code, "%s", w->first.msg);
}

/* Checks that b matches the schema, holds no null in a REQUIRED column and no value over
 * the length limit. Returns ATH_OK or ATH_EUSAGE (recorded in w->first). */
static int check_batch(pq_writer *w, const batch *b) {
  ath_error *e = &w->first;
  if (!b) return ath_fail(e, ATH_EUSAGE, "parquet: no batch");
  if (b->ncols != w->nfields)
    return ath_fail(e, ATH_EUSAGE, "parquet: batch has %d columns, the file %d", b->ncols,
                    w->nfields);
  for (int i = 0; i < b->ncols; i++) {
    const column *c = &b->cols[i];
    const field_def *f = &w->fields[i];
    if (strcmp(c->name, f->name) != 0 || c->type != f->type)
      return ath_fail(e, ATH_EUSAGE, "parquet: batch column %d is '%s' (%s), the file's '%s' (%s)",
                      i, c->name, col_type_name(c->type), f->name, col_type_name(f->type));
    if (c->n != b->nrows)
      return ath_fail(e, ATH_EUSAGE, "parquet: column '%s' has %lld rows, the batch %lld", c->name,
                      (long long)c->n, (long long)b->nrows);
    const uint8_t *hole = f->nullable || c->n == 0 ? NULL : memchr(c->valid, 0, (size_t)c->n);
    if (hole)
      return ath_fail(e, ATH_EUSAGE, "parquet: null in non-nullable column '%s' (batch row %lld)",
                      f->name, (long long)(hole - c->valid));
    /* No value can pass the limit when all of them together stay within it. */
    bool check = c->type == COL_STRING && c->n > 0 &&
                 (uint64_t)(c->offsets[c->n] - c->offsets[0]) > w->opt.max_value_bytes;
    for (int64_t r = 0; check && r < c->n; r++)
      if ((uint64_t)(c->offsets[r + 1] - c->offsets[r]) > w->opt.max_value_bytes)
        return ath_fail(e, ATH_EUSAGE,
                        "parquet: column '%s' batch row %lld: a value of %lld bytes exceeds "
                        "the limit of %zu",
                        f->name, (long long)r, (long long)(c->offsets[r + 1] - c->offsets[r]),
                        w->opt.max_value_bytes);
  }
  return ATH_OK;
}

/* Writes rows [start, start + n) of b as one row group. Returns ATH_OK or the error (also
 * recorded in w->first). */
static int write_row_group(pq_writer *w, const batch *b, int64_t start, int64_t n) {
  if (w->nrg == w->rg_cap) {
    w->rg_cap = w->rg_cap ? w->rg_cap * 2 : 8;
    w->rgs = xrealloc(w->rgs, w->rg_cap * sizeof *w->rgs);
  }
  pq_rowgroup_meta *rg = &w->rgs[w->nrg];
  rg->num_rows = n;
  rg->cols = xcalloc((size_t)w->nfields, sizeof *rg->cols);
  for (int i = 0; i < w->nfields; i++) {
    int rc =
        pq_write_chunk(&w->sc, &w->sink, &b->cols[i], start, n, &w->opt, &rg->cols[i], &w->first);
    if (rc != ATH_OK) {
      for (int c = 0; c <= i; c++)
        pq_chunk_meta_free(&rg->cols[c]);
      free(rg->cols);
      return rc;
    }
  }
  w->nrg++;
  w->num_rows += n;
  return ATH_OK;
}

/* Estimated bytes of rows [pos, pos + k) of b (as batch_data_bytes counts them). */
static size_t range_bytes(const batch *b, int64_t pos, int64_t k) {
  size_t t = 0;
  for (int i = 0; i < b->ncols; i++) {
    const column *c = &b->cols[i];
    if (c->type == COL_STRING)
      t += (size_t)(c->offsets[pos + k] - c->offsets[pos]) + 8 * (size_t)k;
    else
      t += col_type_width(c->type) * (size_t)k;
  }
  return t;
}

/* Rows of b from pos on that fit in the row group being gathered (0 when it is full). */
static int64_t fit_rows(const pq_writer *w, const batch *b, int64_t pos) {
  int64_t have = w->buf->nrows, room = w->opt.row_group_rows - have;
  size_t used = batch_data_bytes(w->buf);
  if (room <= 0 || used >= w->opt.row_group_bytes) return 0;
  size_t budget = w->opt.row_group_bytes - used;
  int64_t lo = 0, hi = b->nrows - pos < room ? b->nrows - pos : room;
  while (lo < hi) { /* largest k in [lo, hi] with range_bytes(k) <= budget */
    int64_t mid = lo + (hi - lo + 1) / 2;
    if (range_bytes(b, pos, mid) <= budget)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo == 0 && have == 0 ? 1 : lo; /* a huge row still makes a row group of its own */
}

/* Appends rows [pos, pos + k) of src to the row group buffer (bulk copies, no per-value work
 * beyond the string offsets). */
static void buffer_rows(batch *dst, const batch *src, int64_t pos, int64_t k) {
  for (int i = 0; i < src->ncols; i++) {
    const column *s = &src->cols[i];
    column *d = &dst->cols[i];
    size_t bytes = s->type == COL_STRING ? (size_t)(s->offsets[pos + k] - s->offsets[pos]) : 0;
    col_reserve(d, (size_t)k, bytes);
    memcpy(d->valid + d->n, s->valid + pos, (size_t)k);
    for (int64_t r = 0; r < k; r++)
      d->null_count += s->valid[pos + r] == 0;
    if (s->type == COL_STRING) {
      if (d->n == 0) d->offsets[0] = 0;
      if (bytes) memcpy(d->bytes + d->nbytes, s->bytes + s->offsets[pos], bytes);
      int64_t shift = (int64_t)d->nbytes - s->offsets[pos];
      for (int64_t r = 1; r <= k; r++)
        d->offsets[d->n + r] = s->offsets[pos + r] + shift;
      d->nbytes += bytes;
    } else {
      size_t w = col_type_width(s->type);
      memcpy((uint8_t *)d->values + (size_t)d->n * w, (const uint8_t *)s->values + (size_t)pos * w,
             (size_t)k * w);
    }
    d->n += k;
  }
  dst->nrows += k;
}

/* Writes the gathered row group and empties the buffer. */
static int flush_buffer(pq_writer *w) {
  if (w->buf->nrows == 0) return ATH_OK;
  int rc = write_row_group(w, w->buf, 0, w->buf->nrows);
  batch_clear(w->buf);
  return rc;
}

/* Appends b's rows, writing each complete row group; `last` (no more rows will follow) lets
 * a final partial row group go straight from b instead of through the buffer. */
static int append_rows(pq_writer *w, const batch *b, bool last, ath_error *err) {
  if (!w) return ath_fail(err, ATH_EUSAGE, "parquet: append to a closed or unopened writer");
  if (w->first.code != ATH_OK) return sticky(w, err);
  if (check_batch(w, b) != ATH_OK) return sticky(w, err);
  for (int64_t pos = 0; pos < b->nrows;) {
    int64_t left = b->nrows - pos, k = fit_rows(w, b, pos);
    bool full = k < left || w->buf->nrows + k >= w->opt.row_group_rows || last;
    int rc = ATH_OK;
    if (k == 0) {
      rc = flush_buffer(w);
    } else if (full && w->buf->nrows == 0) {
      rc = write_row_group(w, b, pos, k); /* a whole row group straight from the batch */
    } else {
      buffer_rows(w->buf, b, pos, k);
      if (full) rc = flush_buffer(w);
    }
    if (rc != ATH_OK) return sticky(w, err);
    pos += k;
  }
  return ATH_OK;
}

int pq_append(pq_writer *w, const batch *b, ath_error *err) {
  return append_rows(w, b, false, err);
}

/* Flushes the last row group and writes footer, footer length and magic. */
static int finish(pq_writer *w) {
  int rc = flush_buffer(w);
  if (rc != ATH_OK) return rc;
  pq_buf f = {0};
  pq_footer_encode(&f, w->fields, w->nfields, w->rgs, w->nrg, w->num_rows, w->created_by,
                   pq_codec_thrift(w->opt.codec));
  pq_buf_u32le(&f, (uint32_t)f.len);
  pq_buf_put(&f, "PAR1", 4);
  rc = pq_sink_write(&w->sink, f.data, f.len, &w->first);
  pq_buf_free(&f);
  if (rc == ATH_OK) rc = pq_sink_finish(&w->sink, w->mem_out, w->mem_len, &w->first);
  return rc;
}

int pq_close(pq_writer *w, ath_error *err) {
  if (!w) return ath_fail(err, ATH_EUSAGE, "parquet: close of a closed or unopened writer");
  int rc = w->first.code != ATH_OK ? w->first.code : finish(w);
  if (rc != ATH_OK) {
    pq_sink_discard(&w->sink);
    sticky(w, err);
  }
  writer_free(w);
  return rc;
}

void pq_abort(pq_writer *w) {
  if (!w) return;
  pq_sink_discard(&w->sink);
  writer_free(w);
}

int pq_write_batch(const char *path, const batch *b, const pq_options *opt, ath_error *err) {
  if (!b) return ath_fail(err, ATH_EUSAGE, "parquet: no batch");
  field_def *fields = xmalloc((size_t)(b->ncols > 0 ? b->ncols : 1) * sizeof *fields);
  batch_schema(b, fields);
  ath_error e = {0};
  pq_writer *w = pq_open_file(path, fields, b->ncols, opt, &e);
  free(fields);
  if (!w) return ath_fail(err, e.code, "%s", e.msg);
  append_rows(w, b, true, NULL); /* an error sticks and pq_close reports it */
  return pq_close(w, err);
}
