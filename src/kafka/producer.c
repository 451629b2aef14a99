#include "kafka/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kproducer {
  rd_kafka_t *rk;
  rd_kafka_topic_t *rkt;
  const kafka_opts *o;
  int partitions;
  int timeout_ms; /* message.timeout.ms in effect */
  bool txn;       /* transactional: a transaction is open between calls */
  double txn_began;
  kproducer_reject_fn on_reject;
  void *ctx;
  kproducer_stats st;
  ath_error fatal; /* sticky */
  char first_failure[512];
  unsigned warned; /* bit per kind of client error already printed */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  kproducer *p = opaque;
  if (!m->err) {
    p->st.delivered++;
    p->st.value_bytes += (int64_t)m->len;
  } else if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && p->on_reject) {
    p->st.refused++;
    p->on_reject(p->ctx, m);
  } else {
    p->st.failed++;
    if (!p->first_failure[0]) {
      snprintf(p->first_failure, sizeof p->first_failure, "%s: %s", rd_kafka_err2name(m->err),
               rd_kafka_err2str(m->err));
      kafka_redact(p->first_failure, sizeof p->first_failure);
    }
  }
}

/* Client-level errors: a fatal one sticks; the others (a broker down, a transport error) are
 * retried by librdkafka, so each kind is printed once as a warning. */
static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque) {
  kproducer *p = opaque;
  char msg[1024];
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512];
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof why);
    snprintf(msg, sizeof msg, "fatal producer error: %s: %s", rd_kafka_err2name(orig), why);
    kafka_redact(msg, sizeof msg);
    ath_fail(&p->fatal, ATH_ERR, "%s", msg);
    return;
  }
  unsigned bit = 1u << ((unsigned)(-code) % 32u);
  if (p->warned & bit) return;
  p->warned |= bit;
  snprintf(msg, sizeof msg, "%s (retrying)", reason);
  kafka_redact(msg, sizeof msg);
  fprintf(stderr, "athlete: kafka: warning: %s\n", msg);
}

static void setup(rd_kafka_conf_t *conf) {
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_error_cb(conf, on_error);
}

/* Takes a transactional call's error: retriable ones are retried by the caller, the others
 * stick (after an abort when the transaction needs one). Returns ATH_OK when e is NULL. */
static int txn_error(kproducer *p, const char *what, rd_kafka_error_t *e, ath_error *err) {
  if (!e) return ATH_OK;
  char msg[1024];
  snprintf(msg, sizeof msg, "%s: %s", what, rd_kafka_error_string(e));
  if (rd_kafka_error_txn_requires_abort(e)) {
    rd_kafka_error_t *a = rd_kafka_abort_transaction(p->rk, p->timeout_ms);
    size_t n = strlen(msg);
    snprintf(msg + n, sizeof msg - n, " (transaction aborted%s%s: its messages are not delivered)",
             a ? ": " : "", a ? rd_kafka_error_string(a) : "");
    if (a) rd_kafka_error_destroy(a);
  }
  rd_kafka_error_destroy(e);
  kafka_redact(msg, sizeof msg);
  ath_fail(&p->fatal, ATH_ERR, "%s", msg);
  return ath_fail(err, ATH_ERR, "%s", msg);
}

/* Runs a transactional call, retrying it while it fails retriably, within the timeout. */
static rd_kafka_error_t *with_retries(kproducer *p, rd_kafka_error_t *(*call)(rd_kafka_t *, int)) {
  double deadline = ath_now() + p->o->timeout_s;
  for (;;) {
    rd_kafka_error_t *e = call(p->rk, (int)(p->o->timeout_s * 1000));
    if (!e || !rd_kafka_error_is_retriable(e) || ath_now() > deadline) return e;
    rd_kafka_error_destroy(e);
  }
}

static rd_kafka_error_t *begin(rd_kafka_t *rk, int timeout_ms) {
  return rd_kafka_begin_transaction(rk);
}

static int txn_begin(kproducer *p, ath_error *err) {
  p->txn_began = ath_now();
  return txn_error(p, "begin transaction", with_retries(p, begin), err);
}

int kproducer_commit(kproducer *p, ath_error *err) {
  if (p->fatal.code) return ath_fail(err, p->fatal.code, "%s", p->fatal.msg);
  if (!p->txn) return ATH_OK;
  int rc = txn_error(p, "commit transaction", with_retries(p, rd_kafka_commit_transaction), err);
  return rc == ATH_OK ? txn_begin(p, err) : rc;
}

double kproducer_txn_age(const kproducer *p) {
  return p->txn ? ath_now() - p->txn_began : 0.0;
}

int kproducer_new(const kafka_opts *o, const char *topic, const char *transactional_id,
                  kproducer_reject_fn on_reject, void *ctx, kproducer **out, ath_error *err) {
  char timeout[32];
  snprintf(timeout, sizeof timeout, "%d", (int)(o->timeout_s * 1000));
  const char *const defaults[] = {KPRODUCER_DELIVERY_DEFAULTS,
                                  "linger.ms",
                                  "20",
                                  "batch.size",
                                  "1000000",
                                  "queue.buffering.max.messages",
                                  "200000",
                                  "message.timeout.ms",
                                  timeout,
                                  transactional_id ? "transactional.id" : NULL,
                                  transactional_id,
                                  NULL};
  kproducer *p = xcalloc(1, sizeof *p);
  p->o = o;
  p->on_reject = on_reject;
  p->ctx = ctx;
  *out = NULL;
  int rc = kafka_client_new(o, RD_KAFKA_PRODUCER, defaults, setup, p, &p->rk, err);
  if (rc != ATH_OK) {
    free(p);
    return rc;
  }
  char v[32];
  size_t vn = sizeof v;
  p->timeout_ms =
      rd_kafka_conf_get(rd_kafka_conf(p->rk), "message.timeout.ms", v, &vn) == RD_KAFKA_CONF_OK
          ? atoi(v)
          : (int)(o->timeout_s * 1000);
  /* Asking for the topic by name lets a broker create it (when it and allow.auto.create.topics
   * allow); with auto-creation off the client asks for every topic and looks. */
  vn = sizeof v;
  bool may_create = rd_kafka_conf_get(rd_kafka_conf(p->rk), "allow.auto.create.topics", v, &vn) !=
                        RD_KAFKA_CONF_OK ||
                    strcmp(v, "false") != 0;
  const struct rd_kafka_metadata *md = NULL;
  rc = kafka_metadata(p->rk, o, may_create ? topic : NULL, &md, err);
  if (rc == ATH_OK) {
    const struct rd_kafka_metadata_topic *t = NULL;
    for (int i = 0; i < md->topic_cnt && !t; i++)
      if (strcmp(md->topics[i].topic, topic) == 0) t = &md->topics[i];
    if (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      rc = ath_fail(err, ATH_ERR,
                    "topic '%s' does not exist on %s (create it with 'athlete topics create', or "
                    "start 'athlete kafka-mock --topic %s:PARTITIONS')",
                    topic, kafka_brokers(o), topic);
    else if (t->err)
      rc = ath_fail(err, ATH_ERR, "topic '%s': %s", topic, rd_kafka_err2str(t->err));
    else
      p->partitions = t->partition_cnt;
  }
  if (md) rd_kafka_metadata_destroy(md);
  if (rc == ATH_OK) p->rkt = rd_kafka_topic_new(p->rk, topic, NULL);
  if (rc == ATH_OK && transactional_id) {
    rc = txn_error(p,
                   "init transactions (where the cluster allows no transactions, produce "
                   "--transaction-ms 0 uses the idempotent producer alone)",
                   rd_kafka_init_transactions(p->rk, (int)(o->timeout_s * 1000)), err);
    p->txn = rc == ATH_OK;
    if (rc == ATH_OK) rc = txn_begin(p, err);
  }
  if (rc != ATH_OK) {
    kproducer_free(p);
    return rc;
  }
  *out = p;
  return ATH_OK;
}

int kproducer_partitions(const kproducer *p) {
  return p->partitions;
}

int kproducer_send(kproducer *p, const void *key, size_t klen, const void *value, size_t vlen,
                   const kheader *h, int nh, int64_t id, ath_error *err) {
  if (p->fatal.code) return ath_fail(err, p->fatal.code, "%s", p->fatal.msg);
  rd_kafka_headers_t *hdrs = rd_kafka_headers_new((size_t)nh);
  for (int i = 0; i < nh; i++)
    rd_kafka_header_add(hdrs, h[i].name, -1, h[i].value, (ssize_t)h[i].len);
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, key ? klen : 0), RD_KAFKA_V_VALUE((void *)value, vlen),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(intptr_t)id), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) { /* the message owns the headers now */
      p->st.sent++;
      return ATH_OK;
    }
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) { /* wait for deliveries to make room */
      rd_kafka_poll(p->rk, 50);
      if (p->fatal.code) break;
      continue;
    }
    rd_kafka_headers_destroy(hdrs);
    if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) return KPRODUCER_TOO_LARGE;
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
      char why[512];
      rd_kafka_fatal_error(p->rk, why, sizeof why);
      ath_fail(&p->fatal, ATH_ERR, "fatal producer error: %s", why);
    } else {
      ath_fail(&p->fatal, ATH_ERR, "cannot queue a message: %s", rd_kafka_err2str(e));
    }
    return ath_fail(err, p->fatal.code, "%s", p->fatal.msg);
  }
  rd_kafka_headers_destroy(hdrs);
  return ath_fail(err, p->fatal.code, "%s", p->fatal.msg);
}

void kproducer_poll(kproducer *p) {
  rd_kafka_poll(p->rk, 0);
}

int kproducer_flush(kproducer *p, ath_error *err) {
  if (p->txn && !p->fatal.code) { /* the commit waits for every message of the transaction */
    int rc = txn_error(p, "commit transaction", with_retries(p, rd_kafka_commit_transaction), err);
    p->txn = false;
    if (rc != ATH_OK) return rc;
  }
  /* Every message is delivered or expired within message.timeout.ms of being queued; after a
   * fatal error none will be, so what is left is purged at once. */
  if (!p->fatal.code) rd_kafka_flush(p->rk, p->timeout_ms + 5000);
  if (rd_kafka_outq_len(p->rk) > 0) {
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(p->rk, 1000); /* serves the purged messages' reports */
  }
  if (p->fatal.code) return ath_fail(err, p->fatal.code, "%s", p->fatal.msg);
  return ATH_OK;
}

kproducer_stats kproducer_get_stats(const kproducer *p) {
  return p->st;
}

const char *kproducer_first_failure(const kproducer *p) {
  return p->first_failure;
}

void kproducer_free(kproducer *p) {
  if (!p) return;
  if (p->rkt) rd_kafka_topic_destroy(p->rkt);
  if (p->rk) rd_kafka_destroy(p->rk);
  free(p);
}
