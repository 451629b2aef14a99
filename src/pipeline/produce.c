#include "pipeline/produce.h"
#include "core/agree.h"

#include "csv/csv_reader.h"
#include "kafka/json_row.h"
#include "kafka/producer.h"
#include "lake/lake.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What the sink needs while a rank sends its rows. */
typedef struct sender {
  pipeline_ctx *c;
  kproducer *p;
  json_row_enc enc;
  const char *source; /* the CSV file's name (header athlete.source, rejects) */
  const char *key;    /* the key column's name */
  int key_col;        /* its index in the rows, -1 if absent */
  batch *rejects;
  int64_t too_large; /* rows rejected for their message size */
  int64_t rows;      /* rows handled (sent or rejected) */
  int64_t slice_a, slice_len;
  double txn_s; /* commit a transaction this often (0: none) */
  double t0, last_progress;
} sender;

/* The transactional id of this rank's producer; *k gets the options without a
 * -X transactional.id (whose value becomes the prefix). */
static void transactional_id(pipeline_ctx *c, const produce_opts *po, kafka_opts *k, char *id,
                             size_t n) {
  const char *prefix = "athlete-produce";
  const char *key = "transactional.id=";
  *k = *po->kafka;
  k->nprops = 0;
  for (int i = 0; i < po->kafka->nprops; i++) {
    const char *p = po->kafka->props[i];
    if (strncmp(p, key, strlen(key)) == 0)
      prefix = p + strlen(key);
    else
      k->props[k->nprops++] = p;
  }
  snprintf(id, n, "%s.%s.%s.%d-of-%d", prefix, po->topic, po->table, c->rank, c->size);
}

static void reject_message(sender *s, int64_t line, int64_t offset, const char *value, size_t len,
                           const char *why) {
  char reason[160];
  snprintf(reason, sizeof reason, "message too large: JSON value of %zu bytes (%s)", len, why);
  csv_reject_add(s->rejects, s->source, line, offset, reason, (const uint8_t *)value, len);
  s->too_large++;
}

/* Delivery report of a message the broker refused as too large: the row becomes a reject. The
 * message's id is its line; its offset comes back in the athlete.offset header. */
static void on_refused(void *ctx, const rd_kafka_message_t *m) {
  sender *s = ctx;
  int64_t offset = -1;
  rd_kafka_headers_t *h = NULL;
  const void *v;
  size_t n;
  if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      rd_kafka_header_get_last(h, "athlete.offset", &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)(n < 31 ? n : 31), (const char *)v);
    offset = strtoll(buf, NULL, 10);
  }
  reject_message(s, (int64_t)(intptr_t)m->_private, offset, m->payload, m->len,
                 "refused by the broker");
}

static void progress(sender *s, int64_t last_offset) {
  double now = ath_now();
  if (now - s->last_progress < 1.0) return;
  s->last_progress = now;
  double dt = now - s->t0 > 1e-9 ? now - s->t0 : 1e-9;
  kproducer_stats st = kproducer_get_stats(s->p);
  double done =
      s->slice_len > 0 ? 100.0 * (double)(last_offset - s->slice_a) / (double)s->slice_len : 100.0;
  report_progress(s->c,
                  "produce: rank 0: %lld rows sent (%.0f%% of its slice), %lld delivered, %.0f "
                  "rows/s, %.1f MB/s",
                  (long long)st.sent, done, (long long)st.delivered, (double)s->rows / dt,
                  (double)(last_offset - s->slice_a) / 1e6 / dt);
}

/* The CSV sink: one message per row. */
static int send_rows(void *ctx, const batch *rows, const csv_positions *pos, ath_error *err) {
  sender *s = ctx;
  int rc = ATH_OK;
  if (s->enc.ncols < 0) { /* the first rows: the encoder needs their header */
    json_row_enc_init(&s->enc, rows);
    s->key_col = batch_find(rows, s->key);
  }
  for (int64_t i = 0; rc == ATH_OK && i < rows->nrows; i++) {
    json_row_encode(&s->enc, rows, i);
    char off[24];
    int offlen = snprintf(off, sizeof off, "%" PRId64, pos->offset[i]);
    kheader h[2] = {{"athlete.source", s->source, strlen(s->source)},
                    {"athlete.offset", off, (size_t)offlen}};
    const void *key = NULL;
    size_t klen = 0;
    if (s->key_col >= 0 && !col_is_null(&rows->cols[s->key_col], i))
      key = col_str(&rows->cols[s->key_col], i, &klen);
    rc = kproducer_send(s->p, key, klen, s->enc.buf, s->enc.len, h, 2, pos->line[i], err);
    if (rc == KPRODUCER_TOO_LARGE) {
      reject_message(s, pos->line[i], pos->offset[i], s->enc.buf, s->enc.len,
                     "above the client's message.max.bytes");
      rc = ATH_OK;
    }
    if ((++s->rows & 1023) == 0) kproducer_poll(s->p); /* keep the report queue short */
  }
  kproducer_poll(s->p);
  if (rc == ATH_OK && s->txn_s > 0 && kproducer_txn_age(s->p) >= s->txn_s)
    rc = kproducer_commit(s->p, err);
  if (rows->nrows > 0) progress(s, pos->offset[pos->n - 1]);
  return rc;
}

/* The first few rejects of every rank, printed by rank 0 when they are not committed. */
#define SHOW_REJECTS 5
#define REJECT_TEXT  256
static void print_rejects(pipeline_ctx *c, const batch *rj) {
  char mine[SHOW_REJECTS][REJECT_TEXT] = {{0}};
  for (int64_t i = 0; i < rj->nrows && i < SHOW_REJECTS; i++) {
    size_t rn;
    const uint8_t *reason = col_str(&rj->cols[3], i, &rn);
    snprintf(mine[i], REJECT_TEXT, "line %" PRId64 " (byte %" PRId64 "): %.*s",
             col_i64(&rj->cols[1], i), col_i64(&rj->cols[2], i), (int)rn, (const char *)reason);
  }
  char *all = c->rank == 0 ? xcalloc((size_t)c->size, sizeof mine) : NULL;
  ATH_MPI(MPI_Gather(mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, 0, c->comm),
          &c->mpi_err);
  for (int r = 0; c->rank == 0 && r < c->size; r++)
    for (int i = 0; i < SHOW_REJECTS; i++) {
      const char *t = all + ((size_t)r * SHOW_REJECTS + (size_t)i) * REJECT_TEXT;
      if (*t) report_progress(c, "produce: rejected: [rank %d] %s", r, t);
    }
  free(all);
}

/* Rank 0 learns every rank's delivery counts; returns ATH_ERR (on every rank) naming the
 * undelivered ones and the first failure of the lowest rank that had one. */
static int check_delivery(pipeline_ctx *c, const kproducer *p, const char *topic, ath_error *err) {
  kproducer_stats st = kproducer_get_stats(p);
  int64_t mine[2] = {st.sent - st.delivered - st.refused, st.sent}, *all = NULL;
  if (c->rank == 0) all = xcalloc((size_t)c->size * 2, sizeof *all);
  ATH_MPI(MPI_Gather(mine, 2, MPI_INT64_T, all, 2, MPI_INT64_T, 0, c->comm), &c->mpi_err);
  int64_t lost = pipeline_sum(c, mine[0]), sent = pipeline_sum(c, mine[1]);
  ath_error why = {0};
  int rc = mine[0] > 0 ? ath_fail(&why, ATH_ERR, "%s", kproducer_first_failure(p)) : ATH_OK;
  if (ath_agree(c->comm, rc, &why) == ATH_OK) {
    free(all);
    return ATH_OK;
  }
  char counts[ATH_ERRMSG_MAX / 2] = "";
  size_t n = 0;
  for (int r = 0; c->rank == 0 && r < c->size && n < sizeof counts - 32; r++)
    n += (size_t)snprintf(counts + n, sizeof counts - n, "%srank %d: %" PRId64 " of %" PRId64,
                          r ? ", " : "", r, all[2 * r], all[2 * r + 1]);
  free(all);
  return ath_fail(err, ATH_ERR,
                  "%" PRId64 " of %" PRId64 " messages were not delivered to topic '%s' "
                  "(undelivered per rank: %s); first failure: %s",
                  lost, sent, topic, c->rank == 0 ? counts : "see rank 0", why.msg);
}

/* This rank's share of the file, for the progress line. */
static void slice_of(pipeline_ctx *c, const char *path, int64_t *a, int64_t *len) {
  struct stat sb;
  int64_t size = stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
  *a = size * c->rank / c->size;
  *len = size * (c->rank + 1) / c->size - *a;
}

int stage_produce(pipeline_ctx *c, const produce_opts *po, ath_error *err) {
  const table_desc *d = table_desc_find(po->table);
  if (!d) return ath_fail(err, ATH_EUSAGE, "--table: unknown table '%s'", po->table);
  char path[1][4096];
  int rc = landing_resolve(c, &d->name, 1, path, err);
  if (rc != ATH_OK) return rc;
  pipeline_note_input(c, d->name, path[0]);
  const char *slash = strrchr(path[0], '/');
  sender s = {.c = c,
              .source = slash ? slash + 1 : path[0],
              .key = d->key,
              .key_col = -1,
              .enc = {.ncols = -1},
              .rejects = csv_rejects_new()};
  double t0 = ath_now();
  kafka_opts k;
  char txn_id[512];
  transactional_id(c, po, &k, txn_id, sizeof txn_id);
  s.txn_s = po->transaction_ms / 1000.0;
  rc = kproducer_new(&k, po->topic, s.txn_s > 0 ? txn_id : NULL, on_refused, &s, &s.p, err);
  rc = ath_agree(c->comm, rc, err);
  report_timing(c, "produce.connect", ath_now() - t0);
  if (rc == ATH_OK) {
    report_progress(c, "produce: %s -> topic '%s' (%d partitions) at %s, %d producer%s", s.source,
                    po->topic, kproducer_partitions(s.p), kafka_brokers(po->kafka), c->size,
                    c->size == 1 ? "" : "s");
    slice_of(c, path[0], &s.slice_a, &s.slice_len);
    s.t0 = s.last_progress = ath_now();
    batch *rows = NULL, *csv_rejects = NULL;
    csv_stats cst = {0};
    csv_sink sink = {send_rows, &s};
    csv_read_opts ro = {.display_name = s.source,
                        .required = d->required,
                        .nrequired = d->nrequired,
                        .sink = &sink};
    rc = csv_read_table(c->comm, path[0], &ro, &rows, &csv_rejects, &cst, err);
    double t1 = ath_now();
    report_timing(c, "produce.read_send", t1 - s.t0);
    int frc = s.p ? kproducer_flush(s.p, err) : ATH_OK; /* every rank: bounded */
    report_timing(c, "produce.flush", ath_now() - t1);
    if (rc == ATH_OK) rc = ath_agree(c->comm, frc, err);
    if (rc == ATH_OK) rc = check_delivery(c, s.p, po->topic, err);
    if (csv_rejects)
      for (int64_t i = 0; i < csv_rejects->nrows; i++)
        batch_append_row(s.rejects, csv_rejects, i);
    kproducer_stats st = kproducer_get_stats(s.p);
    int64_t records = pipeline_sum(c, cst.records), broken = pipeline_sum(c, cst.rejects);
    int64_t big = pipeline_sum(c, s.too_large), delivered = pipeline_sum(c, st.delivered);
    int64_t bytes = pipeline_sum(c, st.value_bytes), csv_bytes = pipeline_sum(c, cst.bytes);
    double dt = ath_now() - s.t0;
    stage_line *l = report_line(c, "produce", d->name);
    l->rows_in = records + broken;
    l->rows_out = delivered;
    l->rejects = broken + big;
    l->bytes_in = csv_bytes;
    l->seconds = dt;
    report_progress(c,
                    "produce: %lld rows -> topic '%s': %lld delivered, %lld rejected; %.1f MB of "
                    "CSV, %.1f MB of JSON in %.2f s (%.0f rows/s, %.1f MB/s of CSV)",
                    (long long)(records + broken), po->topic, (long long)delivered,
                    (long long)(broken + big), (double)csv_bytes / 1e6, (double)bytes / 1e6, dt,
                    (double)delivered / (dt > 1e-9 ? dt : 1e-9),
                    (double)csv_bytes / 1e6 / (dt > 1e-9 ? dt : 1e-9));
    /* The producer's threads end before the rejects are written (the HDF5 writer forks). */
    kproducer_free(s.p);
    s.p = NULL;
    if (po->commit_rejects) {
      int wrc = pipeline_write_table(c, "rejects", d->name, s.rejects, false, NULL, err);
      if (rc == ATH_OK) rc = wrc;
    } else if (broken + big > 0) {
      print_rejects(c, s.rejects);
    }
    int64_t total = records + broken;
    if (rc == ATH_OK && total > 0 &&
        (double)(broken + big) > c->o->max_reject_fraction * (double)total)
      rc = ath_fail(err, ATH_EREJECTS,
                    "%s: %lld of %lld records (%.2f%%) rejected, above --max-reject-fraction %g "
                    "(the other rows were sent)",
                    s.source, (long long)(broken + big), (long long)total,
                    100.0 * (double)(broken + big) / (double)total, c->o->max_reject_fraction);
    batch_free(rows);
    batch_free(csv_rejects);
  }
  if (s.enc.ncols >= 0) json_row_enc_free(&s.enc);
  kproducer_free(s.p);
  batch_free(s.rejects);
  return rc;
}
