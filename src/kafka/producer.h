/* A producer for one topic, with every delivery report counted (SPEC §10 `produce`).
 *
 * Settings it starts from (-F and -X override them, see kafka.h): enable.idempotence=true,
 * acks=all, partitioner=murmur2_random (keys land where Java clients put them), linger.ms=20,
 * batch.size=1000000, queue.buffering.max.messages=200000, and message.timeout.ms = the
 * options' --timeout, so every message is delivered or reported failed within that time after
 * it was queued; kproducer_flush is bounded by it too.
 *
 * Transactions. Given a transactional id, the producer also runs its messages in transactions
 * (kproducer_commit ends one and begins the next; kproducer_flush commits the last): on top of
 * idempotence, a broker then deduplicates retried batches by their sequence numbers for this
 * id (librdkafka's mock cluster does so only for transactional producers), a second producer
 * with the same id fences the first, and read_committed consumers see whole batches only. A
 * commit that fails retriably is retried within the timeout; one that needs an abort aborts the
 * transaction and is an error naming the reason (its messages are not delivered).
 *
 * Errors stick (as in the Parquet writer): after a fatal producer error (the idempotent
 * producer's rd_kafka_fatal_error) every send returns it and flush reports it. Per-message
 * failures do not stop the producer: each is counted, the first reason kept. A message the
 * client or the broker refuses as too large is not a failure but a reject: kproducer_send
 * returns KPRODUCER_TOO_LARGE for the client's limit, and the reject callback receives the
 * broker's refusals from their delivery reports. */
#ifndef ATHLETE_KAFKA_PRODUCER_H
#define ATHLETE_KAFKA_PRODUCER_H

#include <stdint.h>

#include "kafka/kafka.h"

/* The delivery settings every athlete producer starts from (in a defaults list of
 * kafka_client_new): idempotence, acks from all replicas, keys placed as Java clients place
 * them. */
#define KPRODUCER_DELIVERY_DEFAULTS                                                                \
  "enable.idempotence", "true", "acks", "all", "partitioner", "murmur2_random"

/* kproducer_send: the client refused the message as larger than message.max.bytes. */
#define KPRODUCER_TOO_LARGE 100

typedef struct kproducer_stats {
  int64_t sent;        /* messages queued */
  int64_t delivered;   /* delivery reports without error */
  int64_t failed;      /* delivery reports with an error (purged at the end included) */
  int64_t refused;     /* delivery reports refusing the message as too large */
  int64_t value_bytes; /* bytes of the delivered values */
} kproducer_stats;

/* A broker refused message m as too large (m->_private is the id given to kproducer_send). */
typedef void (*kproducer_reject_fn)(void *ctx, const rd_kafka_message_t *m);

typedef struct kheader {
  const char *name;
  const void *value;
  size_t len;
} kheader;

typedef struct kproducer kproducer;

/* Connects (metadata within --timeout: unreachable brokers and a missing topic are errors
 * naming them) and returns a producer for `topic`; with `transactional_id` (NULL: none) it
 * initialises transactions and begins the first. `on_reject` may be NULL. */
int kproducer_new(const kafka_opts *o, const char *topic, const char *transactional_id,
                  kproducer_reject_fn on_reject, void *ctx, kproducer **out, ath_error *err);
/* Transactional producers: commits the open transaction (waiting for its messages) and
 * begins the next. Returns ATH_OK or the (sticky) error. No-op without transactions. */
int kproducer_commit(kproducer *p, ath_error *err);
/* Seconds since the open transaction began (0 without transactions). */
double kproducer_txn_age(const kproducer *p);
/* Partitions of the topic, from the metadata read at start. */
int kproducer_partitions(const kproducer *p);

/* Queues one message (key may be NULL; bytes are copied), polling for delivery reports while
 * the local queue is full. Returns ATH_OK, KPRODUCER_TOO_LARGE (the message was not queued),
 * or the sticky error. */
int kproducer_send(kproducer *p, const void *key, size_t klen, const void *value, size_t vlen,
                   const kheader *h, int nh, int64_t id, ath_error *err);
/* Serves delivery reports that are ready (never blocks). */
void kproducer_poll(kproducer *p);
/* Waits until every queued message is delivered or has failed, at most message.timeout.ms and
 * a margin; what is still queued then is purged and counted as failed; a transactional
 * producer commits its last transaction. Returns the sticky error, if any (undelivered
 * messages are not an error here: see the stats). */
int kproducer_flush(kproducer *p, ath_error *err);
kproducer_stats kproducer_get_stats(const kproducer *p);
/* The first per-message failure ("" when none). */
const char *kproducer_first_failure(const kproducer *p);
void kproducer_free(kproducer *p);

#endif
