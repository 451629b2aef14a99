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

#define MAX_REJOINS   3   /* fresh consumer handles after join waits without an assignment */
#define DRAIN_EVERY_S 1.0 /* the drain check, at most this often */
#define CHECK_MAX_S   5.0 /* the drain check's reading of the gaps, at most this long */
#define MAX_UNDRAINED 8   /* partitions named in a line */

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
  int64_t eof;         /* the offset of the last end-of-partition event since assigned (-1) */
  batch *rows;         /* bronze columns + lineage */
  batch *rejects;
} part;

/* Offsets [from, hi) of a partition that hold no data message (the drain check). */
typedef struct clean_range {
  int32_t partition;
  int64_t from, hi;
} clean_range;

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
  /* The group membership and the drain check (consume). */
  bool in_group;        /* the current handle holds an assignment (possibly empty) */
  double out_since;     /* ... since when it has held none (its creation, or a revoke) */
  int rejoins;          /* fresh handles made after join waits without an assignment */
  stream_log peek;      /* the table's log as every writer left it (for the drain check) */
  clean_range *checked; /* per partition, the last range found to hold no data message */
  int nchecked;
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
  t->first = t->last = t->eof = -1;
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
    t->eof = -1;
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
    g->in_group = true;
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
  /* Out of the group until the next assignment (eager: everything went; cooperative: when
   * nothing is left). */
  bool any = false;
  for (int i = 0; i < g->nparts; i++)
    any = any || g->parts[i].owned;
  if (!coop || !any) {
    g->in_group = false;
    g->out_since = ath_now();
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
    if (g->rk &&
        rd_kafka_get_watermark_offsets(g->rk, g->o->topic, t->partition, &lo, &hi) ==
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

/* ---- the group membership --------------------------------------------------------------- */

/* A consumer handle for the group (not yet subscribed). */
static int member_open(ingester *g) {
  const ingest_opts *o = g->o;
  const char *defaults[] = {KMSG_CONSUMER_DEFAULTS(o->group, "athlete-ingest"),
                            /* where the drain check may start (past control markers) */
                            "enable.partition.eof", "true", NULL};
  ath_error lerr = {0};
  if (kafka_client_new(o->kafka, RD_KAFKA_CONSUMER, defaults, setup_conf, g, &g->rk, &lerr) !=
      ATH_OK)
    return fail(g, "%s", lerr.msg);
  rd_kafka_poll_set_consumer(g->rk);
  g->in_group = false;
  g->out_since = ath_now();
  return g->status;
}

static int member_subscribe(ingester *g) {
  rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, g->o->topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t se = rd_kafka_subscribe(g->rk, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  if (se) return fail(g, "cannot subscribe to %s: %s", g->o->topic, rd_kafka_err2str(se));
  g->out_since = ath_now();
  return g->status;
}

/* Leaves the group and closes the handle. The revoke is served here first (unsubscribe, then
 * poll until the rebalance callback has given the partitions up, committing the open batch),
 * so that no rebalance callback runs inside rd_kafka_consumer_close: librdkafka 2.0 can hang
 * there for ever in rd_kafka_assign (librdkafka#4884; seen here with two members leaving at
 * once). Messages still delivered meanwhile go into the batch the revoke commits. Bounded
 * (10 s): the close does whatever is left. */
static void member_close(ingester *g) {
  rd_kafka_unsubscribe(g->rk);
  double end = ath_now() + 10.0;
  for (int polls = 0; (g->in_group || polls < 3) && ath_now() < end; polls++) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(g->rk, 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) on_message(g, m);
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(g->rk);
}

/* A member that had no assignment for a whole join wait: a join the broker never answered
 * (kafka-mock has been seen to hold a member's first JoinGroup back until --until-idle ended
 * it, half the topic unlanded), or partitions revoked and never given back. Waiting on cannot
 * help (librdkafka waits max.poll.interval.ms for a JoinGroup answer), so the handle goes (its
 * LeaveGroup, held back by that JoinGroup, times out after 5 s) and a fresh one joins: a new
 * member id, a new JoinGroup. It holds no partitions,
 * so nothing is open and nothing is lost; the group rebalances once more. */
static int member_rejoin(ingester *g, double waited) {
  flush(g);
  if (!g->c->o->quiet)
    fprintf(stderr,
            "athlete ingest [rank %d]: no assignment from group %s for %.0f s: re-joining as a "
            "new member (%d of %d)\n",
            g->c->rank, g->o->group, waited, g->rejoins + 1, MAX_REJOINS);
  member_close(g);
  rd_kafka_destroy(g->rk);
  g->rk = NULL;
  g->rejoins++;
  if (member_open(g) == ATH_OK) member_subscribe(g);
  g->last_msg = ath_now(); /* a new join: its wait starts now */
  return g->status;
}

/* ---- the drain check ----------------------------------------------------------------------
 *
 * Before an --until-idle exit a member checks that the topic is drained. For every partition
 * (the topic's metadata now) it compares the offset the table's log records next (every
 * writer's entries: stream_refresh) with the partition's high watermark (ListOffsets for the
 * latest offset; a read_committed client gets the last stable offset, so the messages of a
 * transaction still open are not due yet). For a partition this member owns, its own reading
 * counts too: the open batch, the consumer position (rd_kafka_position) and the offset of its
 * last end-of-partition event (enable.partition.eof), which is past any trailing control
 * marker where the position is not.
 *
 * "log next < high watermark" alone proves nothing: with transactional producers (`produce` is
 * one by default) the last offsets of a partition are commit markers, which no consumer ever
 * receives, so a fully landed partition keeps a gap of one or more offsets after its last
 * entry. So a gap counts as undrained only when it holds a data message: a short-lived consumer
 * of its own is assigned the gaps and reads each from its start; a first message below the high
 * watermark is data not landed, an end-of-partition event at the high watermark (or a first
 * message past it) means markers or aborted messages only. A gap found clean is remembered, so
 * that it is read once. A gap that cannot be read within CHECK_MAX_S counts as undrained
 * (unverified): waiting on is bounded anyway, and leaving too early is what this check is for.
 * The metadata and the watermarks come through that consumer too: the member's own requests
 * queue behind its long-polling Fetch (fetch.wait.max.ms) on the same broker connections,
 * 0.5 s each. Every request is bounded by min(--timeout, CHECK_MAX_S). */

typedef enum { DRAINED, UNDRAINED, UNKNOWN } drain_st;

typedef struct undrained {
  int32_t partition;
  int64_t at, hi; /* where the table's log (or this member's reading) is; the high watermark */
  bool mine;      /* this member owns the partition */
  bool verified;  /* a data message was read in [at, hi) (else: could not be read in time) */
} undrained;

typedef struct drain_report {
  undrained u[MAX_UNDRAINED];
  int n;         /* partitions not drained (u[] names the first MAX_UNDRAINED) */
  char why[512]; /* UNKNOWN: why the check could not be made */
} drain_report;

/* The check consumer always reports ends of partitions, whatever -X says. */
static void setup_check_conf(rd_kafka_conf_t *conf) {
  char errstr[256];
  rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof errstr);
}

/* The drain check's own short-lived consumer. It joins no group (group.id only because
 * assign() needs one) and commits nothing; read_committed, as the member is. NULL when it
 * cannot be made. */
static rd_kafka_t *checker_new(ingester *g, drain_report *d) {
  const ingest_opts *o = g->o;
  const char *defaults[] = {KMSG_CONSUMER_DEFAULTS(o->group, "athlete-ingest-check"), NULL};
  rd_kafka_t *rk = NULL;
  ath_error lerr = {0};
  if (kafka_client_new(o->kafka, RD_KAFKA_CONSUMER, defaults, setup_check_conf, NULL, &rk, &lerr) !=
      ATH_OK)
    snprintf(d->why, sizeof d->why, "%s", lerr.msg);
  return rk;
}

/* has_data[i]: 1 when a data message lies in r[i]'s [at, hi), 0 when none does, -1 unknown. */
static void check_ranges(ingester *g, rd_kafka_t *rk, const undrained *r, int *has_data, int n) {
  const ingest_opts *o = g->o;
  for (int i = 0; i < n; i++)
    has_data[i] = -1;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
  for (int i = 0; i < n; i++)
    rd_kafka_topic_partition_list_add(l, o->topic, r[i].partition)->offset = r[i].at;
  int left = rd_kafka_assign(rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR ? n : 0;
  rd_kafka_topic_partition_list_destroy(l);
  double end = ath_now() + fmin(o->kafka->timeout_s, CHECK_MAX_S); /* the whole reading */
  while (left > 0 && !stop_signal && ath_now() < end) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    for (int i = 0; i < n; i++) {
      if (r[i].partition != m->partition || has_data[i] >= 0) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        has_data[i] = m->offset < r[i].hi;
      else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && m->offset >= r[i].hi)
        has_data[i] = 0;
      if (has_data[i] >= 0) left--;
    }
    rd_kafka_message_destroy(m);
  }
}

/* Where this member's own reading of an owned partition is (-1: nowhere yet). */
static int64_t own_position(ingester *g, const part *t) {
  int64_t at = t->last >= 0 ? t->last + 1 : -1;
  if (t->eof > at) at = t->eof;
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, g->o->topic, t->partition);
  if (rd_kafka_position(g->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR && !l->elems[0].err &&
      l->elems[0].offset > at)
    at = l->elems[0].offset;
  rd_kafka_topic_partition_list_destroy(l);
  return at;
}

static void remember_clean(ingester *g, const undrained *r) {
  int k = 0;
  while (k < g->nchecked && g->checked[k].partition != r->partition)
    k++;
  if (k == g->nchecked) {
    g->checked = xrealloc(g->checked, ((size_t)g->nchecked + 1) * sizeof *g->checked);
    g->nchecked++;
  }
  g->checked[k].partition = r->partition;
  g->checked[k].from = r->at;
  g->checked[k].hi = r->hi;
}

static bool known_clean(const ingester *g, int32_t p, int64_t at, int64_t hi) {
  for (int k = 0; k < g->nchecked; k++)
    if (g->checked[k].partition == p && g->checked[k].from <= at && hi <= g->checked[k].hi)
      return true;
  return false;
}

static drain_st drain_state(ingester *g, drain_report *d) {
  const ingest_opts *o = g->o;
  memset(d, 0, sizeof *d);
  ath_error lerr = {0};
  int rc = g->peek.dir[0] ? stream_refresh(&g->peek, &lerr)
                          : stream_load(&g->peek, g->dir, false, -1, NULL, NULL, &lerr);
  if (rc != ATH_OK) {
    snprintf(d->why, sizeof d->why, "%s", lerr.msg);
    return UNKNOWN;
  }
  rd_kafka_t *ck = checker_new(g, d);
  if (!ck) return UNKNOWN;
  kafka_opts ko = *o->kafka;
  ko.timeout_s = fmin(ko.timeout_s, CHECK_MAX_S);
  const struct rd_kafka_metadata *md = NULL;
  if (kafka_metadata(ck, &ko, o->topic, &md, &lerr) != ATH_OK) {
    snprintf(d->why, sizeof d->why, "%s", lerr.msg);
    rd_kafka_destroy(ck);
    return UNKNOWN;
  }
  if (md->topic_cnt < 1 || md->topics[0].err) {
    snprintf(d->why, sizeof d->why, "topic %s: %s", o->topic,
             rd_kafka_err2str(md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN));
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(ck);
    return UNKNOWN;
  }
  int np = md->topics[0].partition_cnt;
  undrained *cand = xcalloc((size_t)np + 1, sizeof *cand);
  int ncand = 0;
  /* The low and high watermarks of every partition, in two requests per leader (ListOffsets
   * for the earliest and the latest offset). */
  rd_kafka_topic_partition_list_t *lo = rd_kafka_topic_partition_list_new(np + 1);
  rd_kafka_topic_partition_list_t *hi = rd_kafka_topic_partition_list_new(np + 1);
  for (int i = 0; i < np; i++) {
    int32_t p = md->topics[0].partitions[i].id;
    rd_kafka_topic_partition_list_add(lo, o->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_topic_partition_list_add(hi, o->topic, p)->offset = RD_KAFKA_OFFSET_END;
  }
  int tmo = (int)(ko.timeout_s * 1000);
  rd_kafka_resp_err_t we = np ? rd_kafka_offsets_for_times(ck, lo, tmo) : 0;
  if (!we && np) we = rd_kafka_offsets_for_times(ck, hi, tmo);
  if (we) snprintf(d->why, sizeof d->why, "%s: no watermarks: %s", o->topic, rd_kafka_err2str(we));
  for (int i = 0; i < np && !we; i++) {
    int32_t p = hi->elems[i].partition;
    int64_t low = lo->elems[i].offset, high = hi->elems[i].offset;
    if (lo->elems[i].err || hi->elems[i].err || low < 0 || high < 0) {
      snprintf(d->why, sizeof d->why, "%s [%" PRId32 "]: no watermarks: %s", o->topic, p,
               rd_kafka_err2str(hi->elems[i].err ? hi->elems[i].err : lo->elems[i].err));
      continue;
    }
    int64_t at = stream_next_offset(&g->peek, o->topic, p);
    if (at < low) at = low; /* what lies below the low watermark is gone */
    part *t = find_part(g, p, false);
    bool mine = t && t->owned && !t->lost;
    if (mine) {
      int64_t own = own_position(g, t);
      if (own > at) at = own;
    }
    if (at < high && !known_clean(g, p, at, high))
      cand[ncand++] = (undrained){p, at, high, mine, false};
  }
  rd_kafka_topic_partition_list_destroy(lo);
  rd_kafka_topic_partition_list_destroy(hi);
  rd_kafka_metadata_destroy(md);
  if (ncand > 0) {
    int *has_data = xcalloc((size_t)ncand, sizeof *has_data);
    check_ranges(g, ck, cand, has_data, ncand);
    for (int i = 0; i < ncand; i++) {
      if (has_data[i] == 0) {
        remember_clean(g, &cand[i]);
        continue;
      }
      cand[i].verified = has_data[i] > 0;
      if (d->n < MAX_UNDRAINED) d->u[d->n] = cand[i];
      d->n++;
    }
    free(has_data);
  }
  free(cand);
  rd_kafka_consumer_close(ck);
  rd_kafka_destroy(ck);
  return d->n ? UNDRAINED : d->why[0] ? UNKNOWN : DRAINED;
}

/* One line per partition not drained (the first few); `what` begins each. */
static void drain_lines(const ingester *g, const drain_report *d, drain_st st, const char *what) {
  if (st == UNKNOWN) {
    fprintf(stderr, "athlete ingest [rank %d]: %scannot tell whether %s is drained: %s\n",
            g->c->rank, what, g->o->topic, d->why);
    return;
  }
  for (int i = 0; i < d->n && i < MAX_UNDRAINED; i++) {
    const undrained *u = &d->u[i];
    fprintf(stderr,
            "athlete ingest [rank %d]: %stopic %s partition %" PRId32
            " is not drained: the table's log is at offset %" PRId64
            ", the high watermark is %" PRId64 " (%s%s)\n",
            g->c->rank, what, g->o->topic, u->partition, u->at, u->hi,
            u->mine ? "this member's" : "another member's, or nobody's yet",
            u->verified ? "" : "; could not read it to check");
  }
  if (d->n > MAX_UNDRAINED)
    fprintf(stderr, "athlete ingest [rank %d]: %s... and %d more partitions of %s\n", g->c->rank,
            what, d->n - MAX_UNDRAINED, g->o->topic);
}

/* Commits the open batch at the end of the input: its time is the final commit's (--metrics). */
static void flush_at_end(ingester *g) {
  if (g->open_msgs == 0) return;
  double t = ath_now();
  flush(g);
  g->final_flush_s = ath_now() - t;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static int consume(ingester *g, stopper *sp) {
  pipeline_ctx *c = g->c;
  const ingest_opts *o = g->o;
  if (member_open(g) != ATH_OK) return g->status;
  ath_error lerr = {0};
  const struct rd_kafka_metadata *md = NULL;
  int rc = kafka_metadata(g->rk, o->kafka, o->topic, &md, &lerr);
  if (rc != ATH_OK) return fail(g, "%s", lerr.msg);
  bool missing = md->topic_cnt < 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t terr = md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN;
  rd_kafka_metadata_destroy(md);
  if (missing)
    return fail(g, "topic %s: %s (create it first: athlete topics create, or kafka-mock --topic)",
                o->topic, rd_kafka_err2str(terr));
  /* A member of this group that died (or that the broker has not yet seen leave) holds the
   * first join back until its session times out: that wait is not idleness either. */
  char st[32];
  size_t stn = sizeof st;
  double join_wait = JOIN_WAIT_S;
  if (rd_kafka_conf_get(rd_kafka_conf(g->rk), "session.timeout.ms", st, &stn) == RD_KAFKA_CONF_OK)
    join_wait = fmax(join_wait, atof(st) / 1000.0 + JOIN_WAIT_S);
  if (member_subscribe(g) != ATH_OK) return g->status;
  /* --until-idle: idle, a member waits at most this much longer for a partition that is not
   * drained (another member's: it may be frozen, or stuck in its join, and then the group gives
   * the partition to this one after a session timeout or that member's re-join). At the bound
   * it leaves, exit 0, with a warning: the table's log is truthful, so nothing is lost, and the
   * next run lands the rest; a member never waits forever on another. */
  double drain_bound = fmax(o->until_idle_s, join_wait);
  double next_check = 0;
  bool noted = false, exhausted = false;
  g->last_msg = ath_now();
  while (g->status == ATH_OK && !stop_signal && !stop_heard(c, sp)) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(g->rk, 100);
    double now = ath_now();
    if (m) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        on_message(g, m);
        g->last_msg = g->last_data = now;
      } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        part *t = find_part(g, m->partition, false);
        if (t && t->owned) t->eof = m->offset;
      } else {
        char who[64];
        snprintf(who, sizeof who, "athlete ingest [rank %d]", c->rank);
        ath_error perr = {0};
        if (kmsg_poll_error(g->rk, m, o->topic, who, c->o->quiet, &perr) != ATH_OK)
          fail(g, "%s", perr.msg);
      }
      rd_kafka_message_destroy(m);
    }
    if (g->open_msgs >= o->batch_rows ||
        (g->open_msgs > 0 && (now - g->open_since) * 1000 >= o->batch_ms))
      flush(g);
    /* Before the first assignment, the group join (seconds, on any broker) is not idleness. */
    double idle_after = g->assigned ? o->until_idle_s : fmax(o->until_idle_s, join_wait);
    bool idle = o->until_idle_s > 0 && now - g->last_msg >= idle_after;
    bool stuck = !g->in_group && now - g->out_since >= join_wait;
    if (!idle) noted = false;
    if (stuck && g->rejoins >= MAX_REJOINS && !exhausted) {
      exhausted = true;
      if (!c->o->quiet)
        fprintf(stderr,
                "athlete ingest [rank %d]: warning: still no assignment from group %s after %d "
                "re-joins%s\n",
                c->rank, o->group, MAX_REJOINS,
                o->until_idle_s > 0 ? "" : "; waiting on (librdkafka keeps trying)");
    }
    /* Waiting: another writer's new log entry (its last batch, say) is worth a check at once. */
    if (idle && noted && g->peek.dir[0]) {
      int64_t seen = g->peek.seq;
      ath_error perr = {0};
      if (stream_refresh(&g->peek, &perr) == ATH_OK && g->peek.seq != seen) next_check = now;
    }
    if ((idle || (stuck && !exhausted)) && now >= next_check) {
      next_check = now + DRAIN_EVERY_S;
      if (idle) flush_at_end(g); /* what it holds, so that the other members' checks see it */
      drain_report d;
      drain_st ds = idle ? drain_state(g, &d) : UNDRAINED;
      if (g->status != ATH_OK) break;
      if (idle && ds == DRAINED) break;
      if (stuck && !exhausted) {
        member_rejoin(g, now - g->out_since);
        continue;
      }
      if (idle && now - g->last_msg - idle_after >= drain_bound) {
        drain_lines(g, &d, ds, "warning: leaving, but ");
        fprintf(stderr,
                "athlete ingest [rank %d]: warning: waited %.0f s past idleness for %s to be "
                "drained; the table's log is truthful, so the next ingest lands the rest\n",
                c->rank, now - g->last_msg - idle_after, o->topic);
        break;
      }
      if (idle && !noted && !c->o->quiet) {
        drain_lines(g, &d, ds, "idle, but ");
        fprintf(stderr,
                "athlete ingest [rank %d]: waiting for it, at most %.0f s more (the group may "
                "give it to this member)\n",
                c->rank, drain_bound - (now - g->last_msg - idle_after));
      }
      noted = noted || idle;
    }
    progress(g, false);
  }
  flush_at_end(g); /* the open batch, before the partitions go */
  if (g->status != ATH_OK) stop_tell(c, sp);
  if (g->rk) member_close(g); /* revokes: the rebalance callback flushes (nothing left) */
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
  stream_log_free(&g.peek);
  free(g.checked);
  return rc;
}
