/* `stream-stats`: gold from a results topic, continuously and exactly once (stream_stats.h). */
#include "pipeline/stream_stats.h"

#include "core/bytes.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "csv/csv_core.h"
#include "kafka/json_row.h"
#include "kafka/msg_rows.h"
#include "kafka/producer.h"
#include "lake/ckpt.h"
#include "lake/lake.h"
#include "shuffle/shuffle.h"
#include "transform/gold.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TXN_ATTEMPTS    5          /* a transaction that must be aborted is tried this often */
#define FULL_EVERY      64         /* a full checkpoint after this many deltas ... */
#define FULL_BYTES      (64 << 20) /* ... or this many bytes of them */
#define META_EVERY_S    10.0       /* new partitions of the topic are looked for this often */
#define LATENCY_SAMPLES (1 << 20)  /* latencies kept for the percentiles (a reservoir) */

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) {
  (void)sig;
  stop_signal = 1;
}

/* ---- the distinct rows seen (silver's dedupe, across batches and runs) ----------------------
 * Each typed row is encoded (per column: a null flag byte, then 8 value bytes for INT64 and
 * DOUBLE, 1 for BOOL, a u32 length and the bytes for STRING) and kept in an arena as a u32
 * length and the encoding: the arena is also the rows section of a full checkpoint. An
 * open-addressing table of (hash, arena offset) finds them; equal hashes are compared whole. */

typedef struct seen_slot {
  uint64_t h;
  size_t off; /* into the arena, + 1 (0: empty) */
} seen_slot;

typedef struct seen_set {
  uint8_t *arena;
  size_t len, cap;
  seen_slot *slot;
  size_t scap, n;
} seen_set;

static bool seen_has(const seen_set *s, const uint8_t *p, size_t n, uint64_t h, size_t *at) {
  if (!s->scap) return false;
  for (size_t i = h & (s->scap - 1);; i = (i + 1) & (s->scap - 1)) {
    if (!s->slot[i].off) {
      *at = i;
      return false;
    }
    if (s->slot[i].h != h) continue;
    const uint8_t *q = s->arena + s->slot[i].off - 1;
    if (le_load32(q) == n && memcmp(q + 4, p, n) == 0) return true;
  }
}

static void seen_grow(seen_set *s) {
  size_t cap = s->scap ? s->scap * 2 : 4096;
  seen_slot *t = xcalloc(cap, sizeof *t);
  for (size_t i = 0; i < s->scap; i++) {
    if (!s->slot[i].off) continue;
    size_t j = s->slot[i].h & (cap - 1);
    while (t[j].off)
      j = (j + 1) & (cap - 1);
    t[j] = s->slot[i];
  }
  free(s->slot);
  s->slot = t;
  s->scap = cap;
}

/* Adds the encoded row p[0..n); false when it was there already. */
static bool seen_add(seen_set *s, const uint8_t *p, size_t n) {
  uint64_t h = hash_bytes(p, n, 0x5eed);
  if ((s->n + 1) * 2 > s->scap) seen_grow(s);
  size_t at = 0;
  if (seen_has(s, p, n, h, &at)) return false;
  grow_array((void **)&s->arena, &s->cap, s->len + 4 + n, 1);
  le_store32(s->arena + s->len, (uint32_t)n);
  memcpy(s->arena + s->len + 4, p, n);
  s->slot[at] = (seen_slot){h, s->len + 1};
  s->len += 4 + n;
  s->n++;
  return true;
}

/* Adds the rows of a rows section (u32 length + encoding, repeated); false when damaged. */
static bool seen_load(seen_set *s, const uint8_t *p, size_t n) {
  for (size_t at = 0; at < n;) {
    if (n - at < 4 || n - at - 4 < le_load32(p + at)) return false;
    uint32_t len = le_load32(p + at);
    seen_add(s, p + at + 4, len);
    at += 4 + len;
  }
  return true;
}

/* Encodes row i of the typed batch b into *buf (length *len). */
static void encode_row(const batch *b, int64_t i, uint8_t **buf, size_t *len, size_t *cap) {
  *len = 0;
  for (int c = 0; c < b->ncols; c++) {
    const column *col = &b->cols[c];
    bool null = col_is_null(col, i);
    size_t n = 0;
    const uint8_t *str = NULL;
    if (!null && col->type == COL_STRING) str = col_str(col, i, &n);
    grow_array((void **)buf, cap, *len + 13 + n, 1);
    uint8_t *p = *buf + *len;
    p[0] = null;
    *len += 1;
    if (null) continue;
    switch (col->type) {
    case COL_INT64:
    case COL_TIMESTAMP: {
      int64_t v = col_i64(col, i);
      memcpy(p + 1, &v, 8);
      *len += 8;
      break;
    }
    case COL_DOUBLE: {
      double v = col_f64(col, i);
      memcpy(p + 1, &v, 8); /* by bits, as silver's dedupe compares doubles */
      *len += 8;
      break;
    }
    case COL_BOOL:
      p[1] = col_bool(col, i);
      *len += 1;
      break;
    default:
      le_store32(p + 1, (uint32_t)n);
      if (n) memcpy(p + 5, str, n);
      *len += 4 + n;
    }
  }
}

/* ---- state ---------------------------------------------------------------------------------- */

enum { T_MSGS, T_ROWS, T_DUPES, T_REJECTS, T_ORPHANS, T_JOINED, T_BATCHES, T_UPDATES, NTOTALS };

typedef struct tpart {
  int32_t partition;
  int64_t next;      /* committed: the offset after the last one the state holds (-1: none) */
  int64_t open_next; /* consumed into the open batch */
} tpart;

typedef struct sstats {
  pipeline_ctx *c;
  const stream_stats_opts *o;
  char dir[4096], rej_dir[4200];
  rd_kafka_t *cons, *prod;
  rd_kafka_consumer_group_metadata_t *cgmd;
  batch *bio;
  gold_agg *agg;
  uint64_t bio_print; /* fingerprint of the bio rows the state joined with */
  seen_set seen;
  tpart *parts;
  int nparts;
  uint64_t seq;       /* the last committed batch */
  int deltas;         /* deltas since the last full checkpoint */
  size_t delta_bytes; /* ... and their size */
  int64_t tot[NTOTALS];
  /* the open batch */
  batch *bronze;     /* the results table's bronze columns */
  ckpt_pos *from;    /* per bronze row: its partition and offset */
  int64_t hint_rows; /* the last batch's size, reserved up front for the next one */
  size_t hint_bytes[64];
  size_t from_cap;
  batch *rejects;
  int64_t open_msgs, open_unknown;
  double open_since;
  int64_t *open_ts; /* the messages' timestamps (ms), for the latency */
  size_t open_ts_n, open_ts_cap;
  json_row_dec dec;
  int id_col;
  /* this run */
  int64_t run_msgs, run_batches, run_updates, run_unknown, last_changed;
  double *lat;
  size_t nlat;
  uint64_t lat_seen, rng;
  double t0, last_msg, last_progress, last_meta, first_msg, last_commit;
  int64_t progress_msgs;
  ath_error err; /* err.code: ATH_OK until the first failure */
} sstats;

/* Records the run's first failure (the message names what failed; main.c redacts secrets). */
#define fail(s, ...) ath_fail(&(s)->err, ATH_ERR, __VA_ARGS__)

static bool quiet(const sstats *s) {
  return s->c->o->quiet || s->c->o->progress == PROGRESS_NEVER;
}

static tpart *find_part(sstats *s, int32_t p) {
  for (int i = 0; i < s->nparts; i++)
    if (s->parts[i].partition == p) return &s->parts[i];
  return NULL;
}

static tpart *add_part(sstats *s, int32_t p) {
  tpart *t = find_part(s, p);
  if (t) return t;
  s->parts = xrealloc(s->parts, ((size_t)s->nparts + 1) * sizeof *s->parts);
  t = &s->parts[s->nparts++];
  *t = (tpart){p, -1, -1};
  return t;
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An order-independent fingerprint of the bio columns the join reads. */
static uint64_t bio_fingerprint(const batch *b) {
  const char *names[] = {"athlete_id", "sex", "country_noc", "height", "weight"};
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  batch v = {.nrows = b->nrows, .ncols = 5};
  column cols[5];
  for (int k = 0; k < 5; k++) {
    int i = batch_find(b, names[k]);
    if (i < 0) return 0; /* gold_agg_new names the missing column */
    cols[k] = b->cols[i];
  }
  v.cols = cols;
  uint64_t f = (uint64_t)b->nrows;
  for (int64_t i = 0; i < b->nrows; i++) {
    encode_row(&v, i, &buf, &len, &cap);
    f += hash_bytes(buf, len, 0xb10);
  }
  free(buf);
  return f;
}

/* ---- the output messages --------------------------------------------------------------------- */

/* A double as the shortest JSON number that reads back as the same double (null when it is
 * not finite, which JSON cannot hold). */
static void append_double(char **buf, size_t *len, size_t *cap, const column *c, int64_t i) {
  char t[40] = "null";
  if (!col_is_null(c, i) && isfinite(col_f64(c, i))) json_number_text(col_f64(c, i), t, sizeof t);
  size_t n = strlen(t);
  grow_array((void **)buf, cap, *len + n + 1, 1);
  memcpy(*buf + *len, t, n);
  *len += n;
}

static void append_raw(char **buf, size_t *len, size_t *cap, const char *t) {
  size_t n = strlen(t);
  grow_array((void **)buf, cap, *len + n + 1, 1);
  memcpy(*buf + *len, t, n);
  *len += n;
}

static void append_cell(char **buf, size_t *len, size_t *cap, const column *c, int64_t i) {
  if (col_is_null(c, i)) {
    append_raw(buf, len, cap, "null");
    return;
  }
  size_t n;
  const uint8_t *p = col_str(c, i, &n);
  json_append_string(buf, len, cap, (const char *)p, n);
}

/* Key and value of gold row i (GOLD_FIELDS). */
static void gold_message(const batch *g, int64_t i, char **key, size_t *klen, size_t *kcap,
                         char **val, size_t *vlen, size_t *vcap) {
  *klen = *vlen = 0;
  append_raw(key, klen, kcap, "[");
  append_raw(val, vlen, vcap, "{");
  for (int c = 0; c < 4; c++) {
    if (c) append_raw(key, klen, kcap, ",");
    append_cell(key, klen, kcap, &g->cols[c], i);
    char name[48];
    snprintf(name, sizeof name, "%s\"%s\":", c ? "," : "", GOLD_FIELDS[c].name);
    append_raw(val, vlen, vcap, name);
    append_cell(val, vlen, vcap, &g->cols[c], i);
  }
  append_raw(key, klen, kcap, "]");
  append_raw(val, vlen, vcap, ",\"avg_height\":");
  append_double(val, vlen, vcap, &g->cols[4], i);
  append_raw(val, vlen, vcap, ",\"avg_weight\":");
  append_double(val, vlen, vcap, &g->cols[5], i);
  char t[160], when[40];
  json_timestamp_text(col_i64(&g->cols[7], i), when, sizeof when);
  snprintf(t, sizeof t, ",\"n_rows\":%" PRId64 ",\"timestamp\":\"%s\"}", col_i64(&g->cols[6], i),
           when);
  append_raw(val, vlen, vcap, t);
}

/* ---- the transaction ------------------------------------------------------------------------ */

static int txn_timeout_ms(const sstats *s) {
  return (int)(s->o->kafka->timeout_s * 1000);
}

/* Sends the changed gold rows and the offsets in one transaction. A transaction that must be
 * aborted (a broker refused a request) is aborted and sent again whole, up to TXN_ATTEMPTS
 * times; a retriable commit is retried; a fatal error (fenced by a newer instance) fails. */
static int publish(sstats *s, const batch *g, rd_kafka_topic_partition_list_t *offsets) {
  char *key = NULL, *val = NULL;
  size_t klen = 0, kcap = 0, vlen = 0, vcap = 0;
  rd_kafka_error_t *e = NULL;
  int attempt = 0;
  for (; attempt < TXN_ATTEMPTS && s->err.code == ATH_OK; attempt++) {
    e = rd_kafka_begin_transaction(s->prod);
    for (int64_t i = 0; !e && i < g->nrows; i++) {
      gold_message(g, i, &key, &klen, &kcap, &val, &vlen, &vcap);
      for (;;) {
        rd_kafka_resp_err_t pe = rd_kafka_producev(
            s->prod, RD_KAFKA_V_TOPIC(s->o->out_topic), RD_KAFKA_V_KEY(key, klen),
            RD_KAFKA_V_VALUE(val, vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (pe == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(s->prod, 50);
          continue;
        }
        if (pe)
          e = rd_kafka_error_new(pe, "cannot produce to %s: %s", s->o->out_topic,
                                 rd_kafka_err2str(pe));
        break;
      }
    }
    if (!e) e = rd_kafka_send_offsets_to_transaction(s->prod, offsets, s->cgmd, txn_timeout_ms(s));
    for (int retry = 0; !e; retry++) {
      e = rd_kafka_commit_transaction(s->prod, txn_timeout_ms(s));
      if (!e || !rd_kafka_error_is_retriable(e) || retry == TXN_ATTEMPTS) break;
      rd_kafka_error_destroy(e);
      e = NULL;
    }
    if (!e) break;
    if (rd_kafka_error_is_fatal(e) || !rd_kafka_error_txn_requires_abort(e)) {
      fail(s, "transaction on %s: %s", s->o->out_topic, rd_kafka_error_string(e));
      break;
    }
    if (!quiet(s))
      fprintf(stderr, "athlete stream-stats: transaction aborted (%s); sending it again\n",
              rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    e = rd_kafka_abort_transaction(s->prod, txn_timeout_ms(s));
    if (e) {
      fail(s, "cannot abort the transaction on %s: %s", s->o->out_topic, rd_kafka_error_string(e));
      break;
    }
  }
  if (s->err.code == ATH_OK && e) /* the attempts ran out */
    fail(s, "transaction on %s aborted %d times, last: %s", s->o->out_topic, TXN_ATTEMPTS,
         rd_kafka_error_string(e));
  if (e) rd_kafka_error_destroy(e);
  free(key);
  free(val);
  return s->err.code;
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

/* Payload: bio fingerprint (u64), NTOTALS (u32) totals (i64), the rows section's length (u64)
 * and bytes, the groups' records (gold_agg_save) to the end. */
static void build_payload(const sstats *s, const int64_t *tot, const uint8_t *rows, size_t nrows,
                          bool full, uint8_t **out, size_t *len) {
  le_buf b = {0};
  le_put(&b, s->bio_print, 8);
  le_put(&b, NTOTALS, 4);
  for (int i = 0; i < NTOTALS; i++)
    le_put(&b, (uint64_t)tot[i], 8);
  le_put(&b, nrows, 8);
  le_put_bytes(&b, rows, nrows);
  *out = b.p;
  *len = b.len;
  gold_agg_save(s->agg, !full, out, len);
}

static void fill_pos(const sstats *s, ckpt *k, bool open) {
  k->pos = xcalloc((size_t)s->nparts + 1, sizeof *k->pos);
  k->npos = 0;
  for (int i = 0; i < s->nparts; i++) {
    int64_t next = open ? s->parts[i].open_next : s->parts[i].next;
    if (next >= 0) k->pos[k->npos++] = (ckpt_pos){s->parts[i].partition, next};
  }
}

/* Applies a checkpoint's payload: its rows to the seen set, its groups over the state's. */
static int apply(sstats *s, const ckpt *k, ath_error *err) {
  le_reader r = {k->data, k->len, 0, false};
  uint64_t print = le_get(&r, 8), v[NTOTALS];
  if (le_get(&r, 4) != NTOTALS) r.bad = true;
  for (int t = 0; t < NTOTALS; t++)
    v[t] = le_get(&r, 8);
  uint64_t rl = le_get(&r, 8);
  const uint8_t *rows = le_get_bytes(&r, rl);
  if (r.bad || !seen_load(&s->seen, rows, rl))
    return ath_fail(err, ATH_ERR, "%s: checkpoint %" PRIu64 " has a damaged payload", s->dir,
                    k->name.seq);
  if (print != s->bio_print)
    return ath_fail(err, ATH_ERR,
                    "%s: silver athlete_bio is not the one the checkpoints were computed with "
                    "(it was rebuilt since); start over with another --group",
                    s->dir);
  for (int t = 0; t < NTOTALS; t++)
    s->tot[t] = (int64_t)v[t];
  return gold_agg_load(s->agg, k->data + r.at, k->len - r.at, false, err);
}

static bool same_offsets(const ckpt *k, const rd_kafka_topic_partition_list_t *committed) {
  for (int i = 0; i < committed->cnt; i++) {
    int64_t want = committed->elems[i].offset >= 0 ? committed->elems[i].offset : -1, got = -1;
    for (int j = 0; j < k->npos; j++)
      if (k->pos[j].partition == committed->elems[i].partition) got = k->pos[j].next;
    if (got != want) return false;
  }
  return true;
}

static void rejects_path(const sstats *s, uint64_t seq, char *out, size_t n) {
  snprintf(out, n, "%s/%020" PRIu64 ".parquet", s->rej_dir, seq);
}

/* Removes the checkpoints and rejects files of batches after `last`: their transactions
 * never committed. */
static void remove_after(sstats *s, const ckpt_name *names, int n, uint64_t last) {
  ath_error lerr = {0};
  for (int i = 0; i < n; i++)
    if (names[i].seq > last && ckpt_remove(s->dir, names[i], &lerr) != ATH_OK)
      fail(s, "%s", lerr.msg);
  DIR *d = opendir(s->rej_dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char *end = NULL;
    uint64_t seq = strtoull(e->d_name, &end, 10);
    if (end != e->d_name + 20 || strcmp(end, ".parquet") != 0 || seq <= last) continue;
    char rp[4400];
    rejects_path(s, seq, rp, sizeof rp);
    if (unlink(rp) != 0) fail(s, "cannot remove %s: %s", rp, strerror(errno));
  }
  if (d) closedir(d);
}

/* Rebuilds the state from the checkpoints that match the group's committed offsets: the
 * newest full checkpoint up to the match, then every delta after it up to the match. */
static int restore(sstats *s, const rd_kafka_topic_partition_list_t *committed) {
  ckpt_name *names = NULL;
  int n = 0;
  ath_error lerr = {0};
  if (ckpt_list(s->dir, &names, &n, &lerr) != ATH_OK) return fail(s, "%s", lerr.msg);
  bool any = false;
  for (int i = 0; i < committed->cnt; i++)
    any = any || committed->elems[i].offset >= 0;
  int match = -1;
  char damaged[ATH_ERRMSG_MAX] = "";
  for (int i = n - 1; any && i >= 0 && match < 0; i--) {
    ckpt k;
    if (ckpt_read(s->dir, names[i], &k, &lerr) != ATH_OK) {
      snprintf(damaged, sizeof damaged, " (%s)", lerr.msg);
      continue;
    }
    if (same_offsets(&k, committed)) {
      match = i;
      for (int j = 0; j < k.npos; j++)
        add_part(s, k.pos[j].partition)->next = k.pos[j].next;
    }
    ckpt_free(&k);
  }
  if (any && match < 0) {
    free(names);
    return fail(s,
                "group %s has committed offsets on %s, but no checkpoint in %s matches them%s: "
                "the checkpoints were removed or belong to another lake; start over with "
                "another --group",
                s->o->group, s->o->topic, s->dir, damaged);
  }
  uint64_t last = match >= 0 ? names[match].seq : 0, want = 1;
  int base = -1; /* the newest full checkpoint up to the match */
  for (int i = 0; i <= match; i++)
    if (names[i].full) base = i;
  for (int i = base >= 0 ? base : 0; i <= match && s->err.code == ATH_OK; i++) {
    if (i != base && (names[i].full || names[i].seq < want)) continue; /* compacted away */
    if (i != base && names[i].seq != want) {
      fail(s, "%s: checkpoint %" PRIu64 " is missing (the deltas must follow each other)", s->dir,
           want);
      break;
    }
    ckpt k;
    if (ckpt_read(s->dir, names[i], &k, &lerr) != ATH_OK || apply(s, &k, &lerr) != ATH_OK)
      fail(s, "%s", lerr.msg);
    if (i != base) s->deltas++, s->delta_bytes += k.len;
    ckpt_free(&k);
    want = names[i].seq + 1;
  }
  if (s->err.code == ATH_OK) {
    remove_after(s, names, n, last);
    s->seq = last;
    gold_agg_clear_changed(s->agg);
    for (int i = 0; i < s->nparts; i++)
      s->parts[i].open_next = s->parts[i].next;
    if (!quiet(s))
      fprintf(stderr,
              "athlete stream-stats: %s; state: %" PRId64 " groups, %zu distinct rows, %" PRId64
              " messages\n",
              match >= 0 ? "restored from the checkpoints" : "no committed offsets: from the start",
              gold_agg_groups(s->agg), s->seen.n, s->tot[T_MSGS]);
  }
  free(names);
  return s->err.code;
}

/* After a committed batch: a full checkpoint now and then, so restores stay short; then the
 * checkpoints before it go. */
static void maybe_compact(sstats *s) {
  if (s->deltas < FULL_EVERY && s->delta_bytes < FULL_BYTES) return;
  ckpt k = {.name = {s->seq, true}};
  fill_pos(s, &k, false);
  build_payload(s, s->tot, s->seen.arena, s->seen.len, true, &k.data, &k.len);
  bool exists = false;
  ath_error lerr = {0};
  int rc = ckpt_write(s->dir, &k, &exists, &lerr);
  ckpt_free(&k);
  if (rc != ATH_OK) {
    fail(s, "%s", lerr.msg);
    return;
  }
  ckpt_name *names = NULL;
  int n = 0;
  if (ckpt_list(s->dir, &names, &n, &lerr) == ATH_OK)
    for (int i = 0; i < n; i++)
      if (names[i].seq < s->seq || (names[i].seq == s->seq && !names[i].full))
        ckpt_remove(s->dir, names[i], &lerr);
  free(names);
  s->deltas = 0;
  s->delta_bytes = 0;
}

/* ---- batches -------------------------------------------------------------------------------- */

static void new_open(sstats *s) {
  batch_free(s->bronze);
  const table_desc *d = table_desc_find(TABLE_RESULTS);
  field_def f[64];
  for (int i = 0; i < d->nrequired; i++)
    f[i] = (field_def){d->required[i], COL_STRING, true};
  s->bronze = batch_new(f, d->nrequired);
  for (int i = 0; i < d->nrequired && s->hint_rows; i++)
    col_reserve(&s->bronze->cols[i], (size_t)s->hint_rows, s->hint_bytes[i]);
  s->dec.out = s->bronze;
  batch_clear(s->rejects);
  s->open_msgs = s->open_unknown = 0;
  s->open_ts_n = 0;
}

static void note_latency(sstats *s, double seconds) {
  if (!s->lat) s->lat = xmalloc(LATENCY_SAMPLES * sizeof *s->lat);
  s->lat_seen++;
  if (s->nlat < LATENCY_SAMPLES) {
    s->lat[s->nlat++] = seconds;
    return;
  }
  s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
  uint64_t j = (s->rng >> 11) % s->lat_seen;
  if (j < LATENCY_SAMPLES) s->lat[j] = seconds;
}

/* Types, dedupes and aggregates the open batch, checkpoints it and publishes it. */
static void commit_batch(sstats *s) {
  if (s->open_msgs == 0 || s->err.code != ATH_OK) return;
  int64_t tot[NTOTALS];
  memcpy(tot, s->tot, sizeof tot);
  tot[T_MSGS] += s->open_msgs;
  /* The rows silver rejects (their athlete_id does not type), in order: silver's rejects come
   * out in the same order, so the k-th one is the k-th of these. */
  int64_t nb = s->bronze->nrows, nbad = 0;
  s->hint_rows = nb;
  for (int i = 0; i < s->bronze->ncols && i < 64; i++)
    s->hint_bytes[i] = s->bronze->cols[i].nbytes;
  int64_t *bad = xmalloc((size_t)(nb + 1) * sizeof *bad);
  for (int64_t i = 0; i < nb; i++) {
    const column *idc = &s->bronze->cols[s->id_col];
    size_t n = 0;
    int64_t v;
    const uint8_t *id = col_is_null(idc, i) ? NULL : col_str(idc, i, &n);
    if (!id || !silver_parse_id(id, n, &v)) bad[nbad++] = i;
  }
  batch *srej = batch_new(SILVER_REJECT_FIELDS, 5), *typed = NULL;
  ath_error lerr = {0};
  int rc = silver_transform(&s->bronze, TABLE_RESULTS, &s->c->o->silver, &typed, srej, &lerr);
  if (rc == ATH_OK && srej->nrows != nbad)
    rc = ath_fail(&lerr, ATH_ERR, "internal: %" PRId64 " silver rejects for %" PRId64 " bad ids",
                  srej->nrows, nbad);
  for (int64_t k = 0; rc == ATH_OK && k < nbad; k++) {
    size_t rn = 0, wn = 0;
    const uint8_t *raw = col_is_null(&srej->cols[4], k) ? NULL : col_str(&srej->cols[4], k, &rn);
    const uint8_t *why = col_str(&srej->cols[3], k, &wn);
    char reason[256];
    snprintf(reason, sizeof reason, "%.*s", (int)wn, (const char *)why);
    const ckpt_pos *f = &s->from[bad[k]];
    kmsg_reject(s->rejects, s->o->topic, f->partition, f->next, raw, rn, reason);
  }
  free(bad);
  batch_free(srej);
  if (rc != ATH_OK) {
    batch_free(typed);
    fail(s, "%s", lerr.msg);
    return;
  }
  /* Silver's dedupe, against every row seen before. */
  uint8_t *enc = NULL, *keep = xmalloc((size_t)typed->nrows + 1);
  size_t elen = 0, ecap = 0;
  le_buf rows = {0};
  for (int64_t i = 0; i < typed->nrows; i++) {
    encode_row(typed, i, &enc, &elen, &ecap);
    keep[i] = seen_add(&s->seen, enc, elen);
    if (!keep[i]) {
      tot[T_DUPES]++;
      continue;
    }
    le_put(&rows, elen, 4);
    le_put_bytes(&rows, enc, elen);
  }
  free(enc);
  batch_keep_rows(typed, keep);
  free(keep);
  batch *fresh = typed;
  gold_agg_clear_changed(s->agg);
  int64_t joined = 0, orphans = 0;
  if (gold_agg_add(s->agg, fresh, &joined, &orphans, &lerr) != ATH_OK) fail(s, "%s", lerr.msg);
  tot[T_ROWS] += fresh->nrows;
  tot[T_JOINED] += joined;
  tot[T_ORPHANS] += orphans;
  tot[T_REJECTS] += s->rejects->nrows;
  tot[T_BATCHES]++;
  tot[T_UPDATES] += gold_agg_changed(s->agg);
  batch_free(fresh);
  uint64_t seq = s->seq + 1;
  /* The rejects, then the checkpoint, then the transaction. */
  if (s->err.code == ATH_OK && s->rejects->nrows > 0) {
    uint8_t *buf = NULL;
    size_t len = 0;
    pq_writer *w =
        pq_open_mem(&buf, &len, KMSG_REJECT_FIELDS, KMSG_NREJECT_FIELDS, &s->c->o->pq, &lerr);
    rc = w ? pq_append(w, s->rejects, &lerr) : ATH_ERR;
    if (w) rc = pq_close(w, &lerr) == ATH_OK ? rc : ATH_ERR;
    char path[4400];
    rejects_path(s, seq, path, sizeof path);
    bool exists = false;
    if (rc == ATH_OK) rc = fs_mkdirs(s->rej_dir, &lerr);
    if (rc == ATH_OK) rc = fs_write_file(path, buf, len, false, &exists, &lerr);
    if (rc != ATH_OK)
      fail(s, "%s%s", lerr.msg, exists ? " (another stream-stats of this group is running?)" : "");
    free(buf);
  }
  ckpt k = {.name = {seq, false}};
  fill_pos(s, &k, true);
  build_payload(s, tot, rows.p, rows.len, false, &k.data, &k.len);
  free(rows.p);
  bool exists = false;
  if (s->err.code == ATH_OK && ckpt_write(s->dir, &k, &exists, &lerr) != ATH_OK)
    fail(s, "%s%s", lerr.msg, exists ? " (another stream-stats of this group is running?)" : "");
  size_t klen = k.len;
  rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(k.npos + 1);
  for (int i = 0; i < k.npos; i++)
    rd_kafka_topic_partition_list_add(offs, s->o->topic, k.pos[i].partition)->offset =
        k.pos[i].next;
  ckpt_free(&k);
  batch *changed = gold_agg_rows(s->agg, true, now_us());
  s->last_changed = changed->nrows;
  if (s->err.code == ATH_OK) publish(s, changed, offs);
  batch_free(changed);
  /* The same offsets again, outside the transaction: redundant on a Kafka broker, where the
   * transaction committed them, but the only record on one that does not keep transactional
   * offset commits (librdkafka's mock cluster accepts TxnOffsetCommit and drops it). A crash
   * between the two leaves the group one batch behind: that batch is then computed again from
   * its checkpoint's predecessor (counted once), and its updates are sent again. */
  if (s->err.code == ATH_OK) {
    rd_kafka_resp_err_t ce = rd_kafka_commit(s->cons, offs, 0);
    if (ce && !quiet(s))
      fprintf(stderr, "athlete stream-stats: warning: offset commit outside the transaction: %s\n",
              rd_kafka_err2str(ce));
  }
  rd_kafka_topic_partition_list_destroy(offs);
  if (s->err.code != ATH_OK) return; /* the state ran ahead of Kafka: the process ends */
  /* Committed. */
  double done = ath_now();
  int64_t wall_ms = now_us() / 1000;
  for (size_t i = 0; i < s->open_ts_n; i++)
    if (s->open_ts[i] > 0) note_latency(s, (double)(wall_ms - s->open_ts[i]) / 1000.0);
  s->run_updates += tot[T_UPDATES] - s->tot[T_UPDATES];
  s->run_unknown += s->open_unknown;
  memcpy(s->tot, tot, sizeof tot);
  s->seq = seq;
  s->run_batches++;
  s->last_commit = done;
  for (int i = 0; i < s->nparts; i++)
    s->parts[i].next = s->parts[i].open_next;
  s->deltas++;
  s->delta_bytes += klen;
  new_open(s);
  maybe_compact(s);
}

/* ---- messages ------------------------------------------------------------------------------- */

static void on_message(sstats *s, const rd_kafka_message_t *m) {
  tpart *t = find_part(s, m->partition);
  if (!t) return;
  if (t->open_next >= 0 && m->offset < t->open_next) return; /* re-delivered after a seek */
  t->open_next = m->offset + 1;
  if (s->open_msgs++ == 0) s->open_since = ath_now();
  s->run_msgs++;
  grow_array((void **)&s->open_ts, &s->open_ts_cap, s->open_ts_n + 1, sizeof *s->open_ts);
  rd_kafka_timestamp_type_t tt;
  int64_t ts = rd_kafka_message_timestamp(m, &tt);
  s->open_ts[s->open_ts_n++] = tt == RD_KAFKA_TIMESTAMP_CREATE_TIME ? ts : 0;
  if ((int64_t)m->len > s->o->max_message_bytes) {
    char why[128];
    snprintf(why, sizeof why, "message of %zu bytes is larger than --max-message-bytes %" PRId64,
             m->len, s->o->max_message_bytes);
    kmsg_reject(s->rejects, s->o->topic, m->partition, m->offset, m->payload, m->len, why);
    return;
  }
  char why[160];
  if (!json_row_decode(&s->dec, m->payload ? m->payload : (const uint8_t *)"", m->len,
                       &s->open_unknown, why, sizeof why)) {
    kmsg_reject(s->rejects, s->o->topic, m->partition, m->offset, m->payload, m->len, why);
    return;
  }
  int64_t r = s->bronze->nrows - 1;
  grow_array((void **)&s->from, &s->from_cap, (size_t)r + 1, sizeof *s->from);
  s->from[r] = (ckpt_pos){m->partition, m->offset};
}

/* ---- the partitions ------------------------------------------------------------------------- */

/* Learns the topic's partitions from its metadata; *grew when there are new ones. Returns
 * false when the topic cannot be described (an error when `first`). */
static bool find_partitions(sstats *s, bool first, bool *grew) {
  const struct rd_kafka_metadata *md = NULL;
  ath_error lerr = {0};
  *grew = false;
  if (kafka_metadata(s->cons, s->o->kafka, s->o->topic, &md, &lerr) != ATH_OK) {
    if (first) fail(s, "%s", lerr.msg);
    return false;
  }
  rd_kafka_resp_err_t te = md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN;
  if (te) {
    if (first)
      fail(s, "topic %s: %s (create it first: athlete topics create, or kafka-mock --topic)",
           s->o->topic, rd_kafka_err2str(te));
    rd_kafka_metadata_destroy(md);
    return false;
  }
  for (int i = 0; i < md->topics[0].partition_cnt; i++)
    if (!find_part(s, md->topics[0].partitions[i].id)) {
      add_part(s, md->topics[0].partitions[i].id);
      *grew = true;
    }
  rd_kafka_metadata_destroy(md);
  return true;
}

/* Assigns every known partition: from where the open batch is, or from the beginning. */
static void assign_all(sstats *s) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(s->nparts);
  for (int i = 0; i < s->nparts; i++) {
    tpart *t = &s->parts[i];
    rd_kafka_topic_partition_list_add(l, s->o->topic, t->partition)->offset =
        t->open_next >= 0 ? t->open_next : RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t e = rd_kafka_assign(s->cons, l);
  rd_kafka_topic_partition_list_destroy(l);
  if (e) fail(s, "cannot assign the partitions of %s: %s", s->o->topic, rd_kafka_err2str(e));
}

/* The group's committed offsets of every partition of the topic. */
static int committed_offsets(sstats *s, rd_kafka_topic_partition_list_t **out) {
  *out = rd_kafka_topic_partition_list_new(s->nparts + 1);
  for (int i = 0; i < s->nparts; i++)
    rd_kafka_topic_partition_list_add(*out, s->o->topic, s->parts[i].partition);
  rd_kafka_resp_err_t e = rd_kafka_committed(s->cons, *out, txn_timeout_ms(s));
  if (e)
    return fail(s, "cannot read group %s's committed offsets: %s", s->o->group,
                rd_kafka_err2str(e));
  return ATH_OK;
}

/* ---- the command ---------------------------------------------------------------------------- */

static int64_t lag(sstats *s) {
  int64_t sum = 0;
  for (int i = 0; i < s->nparts; i++) {
    int64_t lo = 0, hi = 0, pos = s->parts[i].open_next >= 0 ? s->parts[i].open_next : 0;
    if (rd_kafka_get_watermark_offsets(s->cons, s->o->topic, s->parts[i].partition, &lo, &hi) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        hi > pos)
      sum += hi - (pos > lo ? pos : lo);
  }
  return sum;
}

static void progress(sstats *s, bool force) {
  double now = ath_now();
  if (quiet(s)) return;
  if (!force && (now - s->last_progress < 1.0 ||
                 (s->run_msgs == s->progress_msgs && now - s->last_progress < 30.0)))
    return;
  s->last_progress = now;
  s->progress_msgs = s->run_msgs;
  double dt = now - s->t0 > 1e-9 ? now - s->t0 : 1e-9;
  fprintf(stderr,
          "athlete stream-stats: %" PRId64 " messages (%.0f/s), %" PRId64 " batches, %" PRId64
          " rows aggregated, %" PRId64 " duplicates, %" PRId64 " rejected, %" PRId64
          " groups (%" PRId64 " changed in the last batch), lag %" PRId64 "\n",
          s->run_msgs, (double)s->run_msgs / dt, s->run_batches, s->tot[T_ROWS], s->tot[T_DUPES],
          s->tot[T_REJECTS], gold_agg_groups(s->agg), s->last_changed, lag(s));
}

static int dcmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double q) {
  if (!n) return 0.0;
  size_t i = (size_t)ceil(q * (double)n);
  return v[i ? i - 1 : 0];
}

static int setup(sstats *s) {
  char txn_id[600];
  snprintf(txn_id, sizeof txn_id, "athlete-stream-stats-%s", s->o->group);
  const char *pdefaults[] = {
      "transactional.id",     txn_id, KPRODUCER_DELIVERY_DEFAULTS, "linger.ms", "5", "client.id",
      "athlete-stream-stats", NULL};
  const char *cdefaults[] = {KMSG_CONSUMER_DEFAULTS(s->o->group, "athlete-stream-stats"), NULL};
  ath_error lerr = {0};
  if (kafka_client_new(s->o->kafka, RD_KAFKA_PRODUCER, pdefaults, NULL, s, &s->prod, &lerr) !=
          ATH_OK ||
      kafka_client_new(s->o->kafka, RD_KAFKA_CONSUMER, cdefaults, NULL, s, &s->cons, &lerr) !=
          ATH_OK)
    return fail(s, "%s", lerr.msg);
  const struct rd_kafka_metadata *md = NULL;
  if (kafka_metadata(s->prod, s->o->kafka, s->o->out_topic, &md, &lerr) != ATH_OK)
    return fail(s, "%s", lerr.msg);
  rd_kafka_resp_err_t te = md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN;
  rd_kafka_metadata_destroy(md);
  if (te)
    return fail(s,
                "output topic %s: %s (create it first: athlete topics create, or kafka-mock "
                "--topic)",
                s->o->out_topic, rd_kafka_err2str(te));
  /* Fences an earlier instance and ends its open transaction, so the committed offsets read
   * next are final. */
  rd_kafka_error_t *e = rd_kafka_init_transactions(s->prod, txn_timeout_ms(s));
  if (e) {
    fail(s, "cannot start transactions on %s: %s", s->o->out_topic, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return s->err.code;
  }
  rd_kafka_poll_set_consumer(s->cons);
  bool grew;
  if (!find_partitions(s, true, &grew)) return s->err.code;
  s->cgmd = rd_kafka_consumer_group_metadata(s->cons);
  return s->err.code;
}

int stage_stream_stats(pipeline_ctx *c, const stream_stats_opts *o, batch **gold, ath_error *err) {
  *gold = NULL;
  if (c->size > 1)
    return ath_fail(err, ATH_EUSAGE,
                    "stream-stats runs as one process (its state is global): run it without "
                    "mpirun, or with -np 1");
  sstats s = {.c = c, .o = o, .rng = 0x853c49e6748fea9bull};
  s.t0 = s.last_msg = ath_now();
  snprintf(s.dir, sizeof s.dir, "%s/_checkpoints/stream-stats/%s", c->o->lake, o->group);
  snprintf(s.rej_dir, sizeof s.rej_dir, "%s/_rejects", s.dir);
  s.rejects = batch_new(KMSG_REJECT_FIELDS, KMSG_NREJECT_FIELDS);
  new_open(&s);
  json_row_dec_init(&s.dec, s.bronze);
  s.id_col = batch_find(s.bronze, "athlete_id");
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  ath_error lerr = {0};
  double t1 = ath_now();
  if (pipeline_read_table(c, "silver", TABLE_BIO, &s.bio, &lerr) != ATH_OK)
    fail(&s, "%s (stream-stats joins with silver %s: run bronze-to-silver first)", lerr.msg,
         TABLE_BIO);
  static const char *const join_cols[] = {"athlete_id", "sex", "country_noc", "height", "weight"};
  if (s.err.code == ATH_OK) batch_keep_columns(s.bio, join_cols, 5); /* all the join reads */
  if (s.err.code == ATH_OK && gold_agg_new(s.bio, &s.agg, &lerr) != ATH_OK)
    fail(&s, "%s", lerr.msg);
  if (s.err.code == ATH_OK) s.bio_print = bio_fingerprint(s.bio);
  report_timing(c, "stream_stats.load_bio", ath_now() - t1);
  t1 = ath_now();
  if (s.err.code == ATH_OK) setup(&s);
  rd_kafka_topic_partition_list_t *committed = NULL;
  if (s.err.code == ATH_OK && committed_offsets(&s, &committed) == ATH_OK) restore(&s, committed);
  if (committed) rd_kafka_topic_partition_list_destroy(committed);
  if (s.err.code == ATH_OK) assign_all(&s); /* from the restored offsets */
  report_timing(c, "stream_stats.restore", ath_now() - t1);
  s.last_meta = s.last_msg = ath_now();
  while (s.err.code == ATH_OK && !stop_signal) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(s.cons, 100);
    double now = ath_now();
    if (m) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        on_message(&s, m);
        if (!s.first_msg) s.first_msg = now;
        s.last_msg = now;
      } else {
        kmsg_poll_error(s.cons, m, o->topic, "athlete stream-stats", c->o->quiet, &s.err);
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(s.prod, 0);
    if (s.open_msgs >= o->batch_rows ||
        (s.open_msgs > 0 && (now - s.open_since) * 1000 >= o->batch_ms))
      commit_batch(&s);
    if (o->until_idle_s > 0 && now - s.last_msg >= o->until_idle_s) break;
    if (now - s.last_meta >= META_EVERY_S) {
      s.last_meta = now;
      bool grew = false;
      if (find_partitions(&s, false, &grew) && grew) {
        assign_all(&s);
        if (!quiet(&s))
          fprintf(stderr, "athlete stream-stats: %s has %d partitions now\n", o->topic, s.nparts);
      }
    }
    progress(&s, false);
  }
  commit_batch(&s); /* the open batch */
  if (s.agg) progress(&s, true);
  report_timing(c, "stream_stats.consume",
                s.first_msg && s.last_commit ? s.last_commit - s.first_msg : 0.0);
  if (s.nlat) qsort(s.lat, s.nlat, sizeof *s.lat, dcmp);
  report_timing(c, "stream_stats.latency_p50", percentile(s.lat, s.nlat, 0.50));
  report_timing(c, "stream_stats.latency_p99", percentile(s.lat, s.nlat, 0.99));
  stage_line *l = report_line(c, "stream-stats", TABLE_RESULTS);
  l->rows_in = s.run_msgs;
  l->rows_out = s.tot[T_ROWS];
  l->rejects = s.tot[T_REJECTS];
  l->dropped = s.tot[T_DUPES];
  l->seconds = ath_now() - s.t0;
  c->rep.joined_rows = s.tot[T_JOINED];
  c->rep.results_without_bio = s.tot[T_ORPHANS];
  if (s.err.code == ATH_OK && !c->o->quiet)
    fprintf(stderr,
            "athlete stream-stats: %" PRId64 " batches committed to %s this run (%" PRId64
            " group updates; latency p50 %.3f s, p99 %.3f s over %" PRIu64 " messages), %" PRId64
            " unknown keys ignored; in all: %" PRId64 " messages, %" PRId64
            " groups; checkpoints in %s\n",
            s.run_batches, o->out_topic, s.run_updates, percentile(s.lat, s.nlat, 0.50),
            percentile(s.lat, s.nlat, 0.99), s.lat_seen, s.run_unknown, s.tot[T_MSGS],
            gold_agg_groups(s.agg), s.dir);
  if (s.err.code == ATH_OK) *gold = gold_agg_rows(s.agg, false, now_us());
  if (s.cgmd) rd_kafka_consumer_group_metadata_destroy(s.cgmd);
  if (s.cons) {
    rd_kafka_consumer_close(s.cons);
    rd_kafka_destroy(s.cons);
  }
  if (s.prod) rd_kafka_destroy(s.prod);
  gold_agg_free(s.agg);
  batch_free(s.bio);
  batch_free(s.bronze);
  batch_free(s.rejects);
  free(s.from);
  free(s.open_ts);
  free(s.lat);
  free(s.parts);
  free(s.seen.arena);
  free(s.seen.slot);
  json_row_dec_free(&s.dec);
  if (s.err.code != ATH_OK) *err = s.err;
  return s.err.code;
}
