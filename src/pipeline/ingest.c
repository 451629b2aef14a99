/* `ingest`: consume a topic into a stream table, exactly once (see ingest.h, stream.h). */
#include "pipeline/ingest.h"
#include "core/agree.h"

#include "core/fsutil.h"

#include "kafka/json_row.h"
#include "kafka/msg_rows.h"
#include "lake/lake.h"
#include "lake/stream.h"
#include "parquet/parquet.h"

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

#define STOP_TAG    7101 /* a rank tells the others to stop (after its failure) */
#define JOIN_WAIT_S 20.0 /* --until-idle waits at least this long for a first assignment, */
                         /* and at least the session timeout plus this */

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) {
  (void)sig;
  stop_signal = 1;
}

/* ---- the set of landed row identities (source, offset) --------------------------------- */

typedef struct ident {
  uint64_t src; /* index into the source names + 1 (0: empty slot) */
  int64_t off;
} ident;

typedef struct ident_set {
  ident *slots;
  size_t cap, n; /* cap a power of two */
} ident_set;

static uint64_t ident_hash(uint64_t src, int64_t off) {
  uint64_t h = (uint64_t)off * 0x9E3779B97F4A7C15ull ^ (src * 0xC2B2AE3D27D4EB4Full);
  return h ^ (h >> 31);
}

static bool set_has(const ident_set *s, uint64_t src, int64_t off) {
  if (!s->n) return false;
  for (size_t i = ident_hash(src, off) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
    if (!s->slots[i].src) return false;
    if (s->slots[i].src == src && s->slots[i].off == off) return true;
  }
}

static void set_add(ident_set *s, uint64_t src, int64_t off) {
  if ((s->n + 1) * 2 > s->cap) {
    ident_set g = {xcalloc(s->cap ? s->cap * 2 : 1024, sizeof(ident)), s->cap ? s->cap * 2 : 1024,
                   0};
    for (size_t i = 0; i < s->cap; i++)
      if (s->slots[i].src) set_add(&g, s->slots[i].src, s->slots[i].off);
    free(s->slots);
    *s = g;
  }
  for (size_t i = ident_hash(src, off) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
    if (s->slots[i].src == src && s->slots[i].off == off) return;
    if (!s->slots[i].src) {
      s->slots[i] = (ident){src, off};
      s->n++;
      return;
    }
  }
}

static void set_clear(ident_set *s) {
  if (s->slots) memset(s->slots, 0, s->cap * sizeof *s->slots);
  s->n = 0;
}

/* ---- state --------------------------------------------------------------------------------- */

typedef struct part {
  int32_t partition;
  bool owned, lost;
  int64_t first, last; /* offsets in the open batch (-1: none) */
  int64_t msgs, dupes; /* messages in the open batch, and those dropped as duplicates */
  batch *rows;         /* bronze columns + lineage */
  batch *rejects;
} part;

typedef struct ingester {
  pipeline_ctx *c;
  const ingest_opts *o;
  rd_kafka_t *rk;
  const table_desc *desc;
  char dir[LAKE_PATH_MAX + 300];
  char writer[256];
  stream_log log;
  batch *schema; /* the table's schema (bronze + lineage), no rows */
  int nbronze;   /* bronze columns */
  part *parts;
  int nparts;
  char **sources; /* distinct athlete.source values met */
  int nsources;
  ident_set landed, pending;
  int64_t open_msgs;    /* messages in the open batch */
  int64_t open_unknown; /* ... unknown keys skipped */
  double open_since;
  json_row_dec dec;
  batch view; /* the bronze columns of the partition being decoded into */
  int status;
  ath_error err;
  /* counts */
  int64_t msgs; /* messages received (re-reads included) */
  int64_t committed_msgs, rows, rejects, dupes, unknown_keys; /* of committed batches */
  int64_t batches, abandoned, bytes;
  bool assigned;         /* partitions were assigned at least once */
  int64_t progress_msgs; /* g->msgs at the last progress line */
  double t0, last_msg, last_progress;
  double first_assign;  /* ath_now() of the first assignment */
  double last_data;     /* ... of the last message */
  double final_flush_s; /* the commit at the end */
} ingester;

static int fail(ingester *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ingester *g, const char *fmt, ...) {
  if (g->status != ATH_OK) return g->status;
  va_list ap;
  va_start(ap, fmt);
  g->status = ath_vfail(&g->err, ATH_ERR, fmt, ap);
  va_end(ap);
  return g->status;
}

static uint64_t source_id(ingester *g, const void *p, size_t n) {
  for (int i = g->nsources - 1; i >= 0; i--)
    if (strlen(g->sources[i]) == n && memcmp(g->sources[i], p, n) == 0) return (uint64_t)i + 1;
  g->sources = xrealloc(g->sources, ((size_t)g->nsources + 1) * sizeof *g->sources);
  char *s = xmalloc(n + 1);
  memcpy(s, p, n);
  s[n] = '\0';
  g->sources[g->nsources++] = s;
  return (uint64_t)g->nsources;
}

static part *find_part(ingester *g, int32_t p, bool add) {
  for (int i = 0; i < g->nparts; i++)
    if (g->parts[i].partition == p) return &g->parts[i];
  if (!add) return NULL;
  g->parts = xrealloc(g->parts, ((size_t)g->nparts + 1) * sizeof *g->parts);
  part *t = &g->parts[g->nparts++];
  memset(t, 0, sizeof *t);
  t->partition = p;
  t->first = t->last = -1;
  t->rows = batch_new_like(g->schema);
  t->rejects = batch_new(KMSG_REJECT_FIELDS, KMSG_NREJECT_FIELDS);
  return t;
}

/* Adds the identities in a landed batch file to the landed set; *hit when one is pending. */
static int load_idents(ingester *g, const char *name, bool *hit, ath_error *err) {
  char path[LAKE_PATH_MAX + 900];
  snprintf(path, sizeof path, "%s/%s", g->dir, name);
  pq_reader *r = NULL;
  int rc = pq_reader_open(path, &r, err);
  if (rc != ATH_OK) return rc;
  batch *b = batch_new(pq_reader_fields(r), pq_reader_ncols(r));
  rc = pq_read_rows(r, 0, pq_reader_rows(r), b, err);
  int ks = batch_find(b, "_source"), ko = batch_find(b, "_source_offset");
  if (rc == ATH_OK && (ks < 0 || ko < 0))
    rc = ath_fail(err, ATH_ERR, "%s: not a stream batch file (no _source/_source_offset)", path);
  for (int64_t i = 0; rc == ATH_OK && i < b->nrows; i++) {
    if (col_is_null(&b->cols[ks], i) || col_is_null(&b->cols[ko], i)) continue;
    size_t n;
    const uint8_t *s = col_str(&b->cols[ks], i, &n);
    uint64_t src = source_id(g, s, n);
    int64_t off = col_i64(&b->cols[ko], i);
    if (hit && set_has(&g->pending, src, off)) *hit = true;
    set_add(&g->landed, src, off);
  }
  batch_free(b);
  pq_reader_close(r);
  return rc;
}

/* Adds the identities of an entry's files to the landed set; *hit (may be NULL) when one is
 * pending. */
static void load_entry_idents(ingester *g, const stream_entry *e, bool *hit) {
  for (int i = 0; i < e->nfiles; i++) {
    ath_error lerr = {0};
    if (load_idents(g, e->files[i].name, hit, &lerr) != ATH_OK) fail(g, "%s", lerr.msg);
  }
}

/* The entries in the log at start. */
static void loaded_entry(void *arg, const stream_entry *e) {
  load_entry_idents(arg, e, NULL);
}

/* An entry another writer added before one of our commits: a conflict when it claims a
 * partition of the open batch or landed one of its rows. */
static bool other_entry(void *arg, const stream_entry *e) {
  ingester *g = arg;
  bool conflict = false;
  for (int i = 0; i < e->nclaims; i++) {
    if (strcmp(e->claims[i].topic, g->o->topic) != 0) continue;
    part *t = find_part(g, e->claims[i].partition, false);
    if (t && t->owned) {
      t->lost = true;
      if (t->first >= 0) conflict = true;
    }
  }
  load_entry_idents(g, e, &conflict);
  return conflict;
}

/* ---- batches ------------------------------------------------------------------------------- */

static void clear_open(ingester *g) {
  for (int i = 0; i < g->nparts; i++) {
    part *t = &g->parts[i];
    batch_clear(t->rows);
    batch_clear(t->rejects);
    t->first = t->last = -1;
    t->msgs = t->dupes = 0;
  }
  set_clear(&g->pending);
  g->open_msgs = g->open_unknown = 0;
}

static int encode_put(ingester *g, const char *name, const batch *b, bool *exists) {
  uint8_t *buf = NULL;
  size_t len = 0;
  ath_error lerr = {0};
  field_def f[64];
  batch_schema(b, f);
  pq_writer *w = pq_open_mem(&buf, &len, f, b->ncols, &g->c->o->pq, &lerr);
  int rc = w ? pq_append(w, b, &lerr) : ATH_ERR;
  if (w) rc = pq_close(w, &lerr) == ATH_OK ? rc : ATH_ERR;
  if (rc == ATH_OK) rc = stream_put_file(&g->log, name, buf, len, exists, &lerr);
  free(buf);
  if (rc != ATH_OK && !*exists) fail(g, "%s", lerr.msg);
  return rc;
}

/* After a conflict: the partitions another writer owns now (or whose batch file name another
 * writer took) lose their open rows and are paused until the group takes them away (a zombie
 * stops reading; the new owner reads them from the log's offsets), and the other partitions
 * drop the rows another writer landed meanwhile (now duplicates). The pending identities are
 * rebuilt from what is left. */
static void drop_conflicts(ingester *g) {
  rd_kafka_topic_partition_list_t *lost = rd_kafka_topic_partition_list_new(g->nparts);
  set_clear(&g->pending);
  int ks = g->nbronze, ko = g->nbronze + 1;
  for (int i = 0; i < g->nparts; i++) {
    part *t = &g->parts[i];
    if (t->first < 0) continue;
    if (t->lost) {
      rd_kafka_topic_partition_list_add(lost, g->o->topic, t->partition);
      g->open_msgs -= t->msgs;
      batch_clear(t->rows);
      batch_clear(t->rejects);
      t->first = t->last = -1;
      t->msgs = t->dupes = 0;
      continue;
    }
    batch *kept = batch_new_like(t->rows);
    for (int64_t j = 0; j < t->rows->nrows; j++) {
      const column *src = &t->rows->cols[ks];
      if (!col_is_null(src, j)) {
        size_t n;
        const uint8_t *p = col_str(src, j, &n);
        uint64_t sid = source_id(g, p, n);
        int64_t off = col_i64(&t->rows->cols[ko], j);
        if (set_has(&g->landed, sid, off)) {
          t->dupes++;
          continue;
        }
        set_add(&g->pending, sid, off);
      }
      batch_append_row(kept, t->rows, j);
    }
    batch_free(t->rows);
    t->rows = kept;
  }
  if (lost->cnt) rd_kafka_pause_partitions(g->rk, lost);
  rd_kafka_topic_partition_list_destroy(lost);
}

/* Removes the files of an entry that was not committed. */
static void remove_files(ingester *g, const stream_file *f, int n) {
  for (int i = 0; i < n; i++) {
    char p[LAKE_PATH_MAX + 900];
    snprintf(p, sizeof p, "%s/%s", g->dir, f[i].name);
    unlink(p);
  }
}

/* Writes the open batch's files and commits its entry (then the group offsets). Returns true
 * when it must be tried again after drop_conflicts (nothing was committed). */
static bool commit_open(ingester *g) {
  stream_entry e = {0};
  snprintf(e.writer, sizeof e.writer, "%s", g->writer);
  stream_range *ranges = xcalloc((size_t)g->nparts, sizeof *ranges);
  stream_file *files = xcalloc((size_t)g->nparts, sizeof *files);
  stream_file *rfiles = xcalloc((size_t)g->nparts, sizeof *rfiles);
  e.ranges = ranges, e.files = files, e.rejects_files = rfiles;
  bool exists = false;
  for (int i = 0; i < g->nparts && g->status == ATH_OK && !exists; i++) {
    part *t = &g->parts[i];
    if (t->first < 0) continue;
    stream_range *r = &ranges[e.nranges++];
    snprintf(r->topic, sizeof r->topic, "%s", g->o->topic);
    r->partition = t->partition, r->first = t->first, r->last = t->last;
    char name[STREAM_NAME_MAX];
    stream_file_name(name, sizeof name, g->o->topic, t->partition, t->first, t->last);
    if (t->rows->nrows > 0) {
      if (encode_put(g, name, t->rows, &exists) != ATH_OK) {
        t->lost = exists;
        break;
      }
      snprintf(files[e.nfiles].name, sizeof files[0].name, "%s", name);
      files[e.nfiles++].rows = t->rows->nrows;
      e.rows += t->rows->nrows;
    }
    if (t->rejects->nrows > 0) {
      char rname[STREAM_NAME_MAX + 16];
      snprintf(rname, sizeof rname, "_rejects/%s", name);
      if (encode_put(g, rname, t->rejects, &exists) != ATH_OK) {
        t->lost = exists;
        break;
      }
      snprintf(rfiles[e.nrejects_files].name, sizeof rfiles[0].name, "%s", rname);
      rfiles[e.nrejects_files++].rows = t->rejects->nrows;
      e.rejects += t->rejects->nrows;
    }
  }
  bool conflict = exists;
  if (g->status == ATH_OK && !conflict) {
    ath_error lerr = {0};
    if (stream_commit(&g->log, &e, g->schema, other_entry, g, &conflict, &lerr) != ATH_OK &&
        !conflict)
      fail(g, "%s", lerr.msg);
  }
  if (g->status == ATH_OK && conflict) {
    remove_files(g, files, e.nfiles);
    remove_files(g, rfiles, e.nrejects_files);
    g->abandoned++;
    if (!g->c->o->quiet)
      fprintf(stderr,
              "athlete ingest [rank %d]: batch not committed: %s; retried without what is not "
              "ours\n",
              g->c->rank,
              exists ? "a batch file of that name exists (another writer)"
                     : "another writer took a partition over or landed some of its rows");
  } else if (g->status == ATH_OK) {
    /* Durable: the batch's identities are landed, and the group learns the offsets. */
    for (size_t i = 0; i < g->pending.cap; i++)
      if (g->pending.slots[i].src)
        set_add(&g->landed, g->pending.slots[i].src, g->pending.slots[i].off);
    g->rows += e.rows;
    g->committed_msgs += g->open_msgs;
    for (int i = 0; i < g->nparts; i++)
      g->dupes += g->parts[i].dupes;
    g->unknown_keys += g->open_unknown;
    g->rejects += e.rejects;
    g->batches++;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(e.nranges);
    for (int i = 0; i < e.nranges; i++)
      rd_kafka_topic_partition_list_add(l, g->o->topic, ranges[i].partition)->offset =
          ranges[i].last + 1;
    rd_kafka_resp_err_t ce = rd_kafka_commit(g->rk, l, 0);
    if (ce && !g->c->o->quiet)
      fprintf(stderr,
              "athlete ingest [rank %d]: warning: group offset commit failed (%s); the table's "
              "log has the offsets\n",
              g->c->rank, rd_kafka_err2str(ce));
    rd_kafka_topic_partition_list_destroy(l);
  }
  if (!conflict || g->status != ATH_OK) clear_open(g);
  free(ranges);
  free(files);
  free(rfiles);
  return conflict && g->status == ATH_OK;
}

/* Total rows of the open batch. */
static int64_t open_rows(const ingester *g) {
  int64_t n = 0;
  for (int i = 0; i < g->nparts; i++)
    n += g->parts[i].rows->nrows;
  return n;
}

static int flush(ingester *g) {
  while (g->open_msgs > 0 && g->status == ATH_OK && commit_open(g)) {
    int64_t msgs = g->open_msgs, rows = open_rows(g);
    drop_conflicts(g);
    if (g->open_msgs == msgs && open_rows(g) == rows) {
      /* Nothing to drop, so another writer's entry overlaps ours without a claim: those
       * partitions are not ours. */
      for (int i = 0; i < g->nparts; i++)
        if (g->parts[i].first >= 0) g->parts[i].lost = true;
      drop_conflicts(g);
    }
  }
  if (g->open_msgs == 0) clear_open(g); /* all lost: what is left is nobody's */
  return g->status;
}

/* ---- messages ------------------------------------------------------------------------------ */

static void add_reject(ingester *g, part *t, const rd_kafka_message_t *m, const char *why) {
  kmsg_reject(t->rejects, g->o->topic, m->partition, m->offset, m->payload, m->len, why);
}

static void on_message(ingester *g, const rd_kafka_message_t *m) {
  part *t = find_part(g, m->partition, false);
  if (!t || !t->owned || t->lost) return; /* fetched before a revoke: the new owner reads it */
  if (t->last >= 0 && m->offset <= t->last) return; /* re-delivered after a seek */
  if (t->first < 0) t->first = m->offset;
  t->last = m->offset;
  if (g->open_msgs++ == 0) g->open_since = ath_now();
  t->msgs++;
  g->msgs++;
  g->bytes += (int64_t)m->len;
  if ((int64_t)m->len > g->o->max_message_bytes) {
    char why[128];
    snprintf(why, sizeof why, "message of %zu bytes is larger than --max-message-bytes %" PRId64,
             m->len, g->o->max_message_bytes);
    add_reject(g, t, m, why);
    return;
  }
  const void *src = NULL;
  size_t srclen = 0;
  int64_t off = 0;
  bool has_id = kmsg_lineage(m, &src, &srclen, &off);
  uint64_t sid = has_id ? source_id(g, src, srclen) : 0;
  if (has_id && (set_has(&g->landed, sid, off) || set_has(&g->pending, sid, off))) {
    t->dupes++;
    return;
  }
  g->view.cols = t->rows->cols;
  g->view.ncols = g->nbronze;
  g->view.nrows = t->rows->nrows;
  g->dec.out = &g->view;
  char why[160];
  if (!json_row_decode(&g->dec, m->payload ? m->payload : (const uint8_t *)"", m->len,
                       &g->open_unknown, why, sizeof why)) {
    add_reject(g, t, m, why);
    return;
  }
  column *lc = &t->rows->cols[g->nbronze];
  if (has_id) {
    col_append_str(&lc[0], src, srclen);
    col_append_i64(&lc[1], off);
    set_add(&g->pending, sid, off);
  } else {
    col_append_null(&lc[0]);
    col_append_null(&lc[1]);
  }
  col_append_i64(&lc[2], m->offset);
  t->rows->nrows = g->view.nrows;
}

/* ---- the group ----------------------------------------------------------------------------- */

static void take_partitions(ingester *g, rd_kafka_topic_partition_list_t *parts) {
  stream_entry e = {0};
  snprintf(e.writer, sizeof e.writer, "%s", g->writer);
  e.claims = xcalloc((size_t)parts->cnt + 1, sizeof *e.claims);
  for (int i = 0; i < parts->cnt; i++) {
    stream_range *r = &e.claims[e.nclaims++];
    snprintf(r->topic, sizeof r->topic, "%s", parts->elems[i].topic);
    r->partition = parts->elems[i].partition;
    r->first = r->last = -1;
  }
  bool conflict = false;
  ath_error lerr = {0};
  if (g->status == ATH_OK &&
      stream_commit(&g->log, &e, g->schema, other_entry, g, &conflict, &lerr) != ATH_OK)
    fail(g, "%s", lerr.msg);
  free(e.claims);
  for (int i = 0; i < parts->cnt; i++) {
    rd_kafka_topic_partition_t *p = &parts->elems[i];
    part *t = find_part(g, p->partition, true);
    t->owned = true;
    t->lost = false;
    int removed = g->status == ATH_OK ? stream_remove_orphans(&g->log, p->topic, p->partition) : 0;
    int64_t next = stream_next_offset(&g->log, p->topic, p->partition);
    p->offset = next >= 0 ? next : RD_KAFKA_OFFSET_BEGINNING;
    if (!g->c->o->quiet && g->c->o->progress != PROGRESS_NEVER) {
      char from[48];
      if (next >= 0)
        snprintf(from, sizeof from, "offset %" PRId64, next);
      else
        snprintf(from, sizeof from, "the beginning");
      fprintf(stderr, "athlete ingest [rank %d]: assigned %s [%" PRId32 "], from %s%s\n",
              g->c->rank, p->topic, p->partition, from, removed ? " (orphan files removed)" : "");
    }
  }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
  ingester *g = opaque;
  bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    take_partitions(g, parts);
    g->last_msg = ath_now(); /* --until-idle counts from an assignment, too */
    if (!g->assigned) g->first_assign = ath_now();
    g->assigned = true;
    rd_kafka_error_t *e = NULL;
    if (coop)
      e = rd_kafka_incremental_assign(rk, parts);
    else
      rd_kafka_assign(rk, parts);
    if (e) {
      fail(g, "cannot take the assigned partitions: %s", rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
    if (!coop || parts->cnt) rd_kafka_resume_partitions(rk, parts);
    return;
  }
  /* Revoked (or lost): the open batch is committed (or abandoned) before the partitions go, so
   * that no file holds rows of two owners' terms. */
  flush(g);
  for (int i = 0; i < parts->cnt; i++) {
    part *t = find_part(g, parts->elems[i].partition, false);
    if (t) t->owned = t->lost = false;
  }
  if (coop) {
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
    if (e) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, NULL);
  }
}

static void setup_conf(rd_kafka_conf_t *conf) {
  rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
}

/* ---- the command --------------------------------------------------------------------------- */

static void progress(ingester *g, bool force) {
  double now = ath_now();
  if (g->c->o->quiet || g->c->o->progress == PROGRESS_NEVER) return;
  /* Once a second while messages arrive, every 30 s while idle. */
  if (!force && (now - g->last_progress < 1.0 ||
                 (g->msgs == g->progress_msgs && now - g->last_progress < 30.0)))
    return;
  g->last_progress = now;
  g->progress_msgs = g->msgs;
  double dt = now - g->t0 > 1e-9 ? now - g->t0 : 1e-9;
  int64_t lag = 0;
  for (int i = 0; i < g->nparts; i++) {
    part *t = &g->parts[i];
    if (!t->owned) continue;
    int64_t lo = 0, hi = 0;
    if (rd_kafka_get_watermark_offsets(g->rk, g->o->topic, t->partition, &lo, &hi) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        hi > 0) {
      int64_t pos =
          t->last >= 0 ? t->last + 1 : stream_next_offset(&g->log, g->o->topic, t->partition);
      if (pos >= 0 && hi > pos) lag += hi - pos;
    }
  }
  fprintf(stderr,
          "athlete ingest [rank %d]: %" PRId64 " messages (%.0f/s, %.1f MB/s), %" PRId64
          " rows landed in %" PRId64 " batches, %" PRId64 " rejected, %" PRId64
          " duplicates dropped, lag %" PRId64 "\n",
          g->c->rank, g->msgs, (double)g->msgs / dt, (double)g->bytes / 1e6 / dt, g->rows,
          g->batches, g->rejects, g->dupes, lag);
}

/* The table's schema: its bronze columns (the descriptor's, in CSV order) and the lineage. */
static batch *table_schema(const table_desc *d) {
  field_def f[64];
  int n = 0;
  for (int i = 0; i < d->nrequired && n < 60; i++)
    f[n++] = (field_def){d->required[i], COL_STRING, true};
  f[n++] = (field_def){"_source", COL_STRING, true};
  f[n++] = (field_def){"_source_offset", COL_INT64, true};
  f[n++] = (field_def){"_kafka_offset", COL_INT64, false};
  return batch_new(f, n);
}

/* Tells every other rank to stop (once), and learns whether one told us. */
typedef struct stopper {
  MPI_Request recv;
  int flag_in, flag_out;
  bool sent, got;
} stopper;

static void stop_tell(pipeline_ctx *c, stopper *s) {
  if (s->sent || c->size == 1) return;
  s->sent = true;
  s->flag_out = 1;
  for (int r = 0; r < c->size; r++)
    if (r != c->rank) MPI_Send(&s->flag_out, 1, MPI_INT, r, STOP_TAG, c->comm);
}

static bool stop_heard(pipeline_ctx *c, stopper *s) {
  if (c->size == 1 || s->got) return s->got;
  int done = 0;
  MPI_Test(&s->recv, &done, MPI_STATUS_IGNORE);
  if (done) s->got = true;
  return s->got;
}

static int consume(ingester *g, stopper *sp) {
  pipeline_ctx *c = g->c;
  const ingest_opts *o = g->o;
  const char *defaults[] = {"group.id",
                            o->group,
                            "enable.auto.commit",
                            "false",
                            "enable.auto.offset.store",
                            "false",
                            "auto.offset.reset",
                            "earliest",
                            "isolation.level",
                            "read_committed",
                            "client.id",
                            "athlete-ingest",
                            NULL};
  ath_error lerr = {0};
  int rc = kafka_client_new(o->kafka, RD_KAFKA_CONSUMER, defaults, setup_conf, g, &g->rk, &lerr);
  if (rc != ATH_OK) return fail(g, "%s", lerr.msg);
  const struct rd_kafka_metadata *md = NULL;
  rc = kafka_metadata(g->rk, o->kafka, o->topic, &md, &lerr);
  if (rc != ATH_OK) return fail(g, "%s", lerr.msg);
  bool missing = md->topic_cnt < 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t terr = md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN;
  rd_kafka_metadata_destroy(md);
  if (missing)
    return fail(g, "topic %s: %s (create it first: athlete topics create, or kafka-mock --topic)",
                o->topic, rd_kafka_err2str(terr));
  rd_kafka_poll_set_consumer(g->rk);
  /* A member of this group that died (or that the broker has not yet seen leave) holds the
   * first join back until its session times out: that wait is not idleness either. */
  char st[32];
  size_t stn = sizeof st;
  double join_wait = JOIN_WAIT_S;
  if (rd_kafka_conf_get(rd_kafka_conf(g->rk), "session.timeout.ms", st, &stn) == RD_KAFKA_CONF_OK)
    join_wait = fmax(join_wait, atof(st) / 1000.0 + JOIN_WAIT_S);
  rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, o->topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t se = rd_kafka_subscribe(g->rk, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  if (se) return fail(g, "cannot subscribe to %s: %s", o->topic, rd_kafka_err2str(se));
  g->last_msg = ath_now();
  while (g->status == ATH_OK && !stop_signal && !stop_heard(c, sp)) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(g->rk, 100);
    double now = ath_now();
    if (m) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        on_message(g, m);
        g->last_msg = g->last_data = now;
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        char reason[512];
        rd_kafka_resp_err_t fe = rd_kafka_fatal_error(g->rk, reason, sizeof reason);
        if (fe)
          fail(g, "fatal consumer error: %s", reason);
        else if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                 m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
          fail(g, "topic %s: %s", o->topic, rd_kafka_message_errstr(m));
        else if (!c->o->quiet)
          fprintf(stderr, "athlete ingest [rank %d]: %s (retrying)\n", c->rank,
                  rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
    if (g->open_msgs >= o->batch_rows ||
        (g->open_msgs > 0 && (now - g->open_since) * 1000 >= o->batch_ms))
      flush(g);
    /* Before the first assignment, the group join (seconds, on any broker) is not idleness. */
    double idle = g->assigned ? o->until_idle_s : fmax(o->until_idle_s, join_wait);
    if (o->until_idle_s > 0 && now - g->last_msg >= idle) break;
    progress(g, false);
  }
  double tf = ath_now();
  flush(g); /* the open batch, before the partitions go */
  g->final_flush_s = ath_now() - tf;
  if (g->status != ATH_OK) stop_tell(c, sp);
  rd_kafka_consumer_close(g->rk); /* revokes: the rebalance callback flushes (nothing left) */
  return g->status;
}

int stage_ingest(pipeline_ctx *c, const ingest_opts *o, ath_error *err) {
  ingester g = {.c = c, .o = o, .status = ATH_OK};
  g.desc = table_desc_find(o->table);
  if (!g.desc) return ath_fail(err, ATH_EUSAGE, "--table: unknown table %s", o->table);
  g.t0 = ath_now();
  char host[128];
  fs_host_name(host, sizeof host);
  snprintf(g.writer, sizeof g.writer, "%s-%ld-%lld", host, (long)getpid(), (long long)time(NULL));
  lake_table_dir(c->o->lake, "bronze", o->table, g.dir, sizeof g.dir);
  g.schema = table_schema(g.desc);
  g.nbronze = g.desc->nrequired;
  g.view = (batch){.ncols = g.nbronze, .cols = g.schema->cols};
  json_row_dec_init(&g.dec, &g.view); /* sized for the view's columns */
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  stopper sp = {0};
  if (c->size > 1) MPI_Irecv(&sp.flag_in, 1, MPI_INT, MPI_ANY_SOURCE, STOP_TAG, c->comm, &sp.recv);

  /* A batch table of that name is not ours to append to. */
  char probe[LAKE_PATH_MAX + 400];
  snprintf(probe, sizeof probe, "%s/_SUCCESS", g.dir);
  if (access(probe, F_OK) == 0 && !stream_is_table(g.dir))
    fail(&g,
         "%s is a batch table (written by landing-to-bronze); ingest needs its own table: "
         "land the other table alone with landing-to-bronze --tables, or use another --lake",
         g.dir);
  /* Rank 0 creates the folders first, so that no rank sees a half-made table. */
  ath_error lerr = {0};
  int rc = g.status;
  if (rc == ATH_OK && c->rank == 0)
    rc = stream_load(&g.log, g.dir, true, -1, NULL, NULL, &lerr) == ATH_OK ? ATH_OK : ATH_ERR;
  if (rc != ATH_OK && g.status == ATH_OK) fail(&g, "%s", lerr.msg);
  rc = ath_agree(c->comm, g.status, &g.err);
  if (rc == ATH_OK) {
    double t1 = ath_now();
    if (stream_load(&g.log, g.dir, true, -1, loaded_entry, &g, &lerr) != ATH_OK)
      fail(&g, "%s", lerr.msg);
    report_timing(c, "ingest.load_log", ath_now() - t1);
    if (g.status == ATH_OK) consume(&g, &sp);
  }
  progress(&g, true);
  /* For benchmarks: the group join, and the time from the first assignment to the last commit
   * of its data: to its last message, plus the final commit (what a consumer's rate is measured
   * over; --until-idle's wait is not in it). */
  report_timing(c, "ingest.join", g.assigned ? g.first_assign - g.t0 : 0.0);
  report_timing(c, "ingest.consume",
                g.batches ? g.last_data - g.first_assign + g.final_flush_s : 0.0);
  rc = ath_agree(c->comm, g.status, &g.err);
  if (c->size > 1 && !sp.got) {
    MPI_Cancel(&sp.recv);
    MPI_Wait(&sp.recv, MPI_STATUS_IGNORE);
  }
  if (rc != ATH_OK) *err = g.err;
  stage_line *l = report_line(c, "ingest", o->table);
  l->rows_in = pipeline_sum(c, g.committed_msgs);
  l->rows_out = pipeline_sum(c, g.rows);
  l->rejects = pipeline_sum(c, g.rejects);
  l->dropped = pipeline_sum(c, g.dupes);
  l->bytes_in = pipeline_sum(c, g.bytes);
  l->seconds = ath_now() - g.t0;
  int64_t unknown = pipeline_sum(c, g.unknown_keys), abandoned = pipeline_sum(c, g.abandoned);
  int64_t batches = pipeline_sum(c, g.batches);
  if (c->rank == 0 && !c->o->quiet)
    fprintf(stderr,
            "athlete ingest: %" PRId64 " batches committed to %s (%" PRId64
            " retried after a conflict), %" PRId64 " unknown keys ignored\n",
            batches, g.dir, abandoned, unknown);
  if (g.rk) rd_kafka_destroy(g.rk);
  for (int i = 0; i < g.nparts; i++) {
    batch_free(g.parts[i].rows);
    batch_free(g.parts[i].rejects);
  }
  free(g.parts);
  for (int i = 0; i < g.nsources; i++)
    free(g.sources[i]);
  free(g.sources);
  free(g.landed.slots);
  free(g.pending.slots);
  json_row_dec_free(&g.dec);
  batch_free(g.schema);
  stream_log_free(&g.log);
  return rc;
}
