/* What the consuming commands (ingest, stream-stats) keep of a Kafka message besides its
 * value (SPEC §10): the reject row of a message that cannot be used, and the row identity
 * `produce` puts in its headers. */
#ifndef ATHLETE_KAFKA_MSG_ROWS_H
#define ATHLETE_KAFKA_MSG_ROWS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

/* The reject schema: topic STRING, partition INT64, offset INT64, reason STRING, raw STRING
 * (the bytes when they are UTF-8, else null), raw_hex STRING (else null), size INT64 (of the
 * whole value; raw and raw_hex keep its first 4 KiB, cut on a UTF-8 boundary). */
#define KMSG_NREJECT_FIELDS 7
extern const field_def KMSG_REJECT_FIELDS[KMSG_NREJECT_FIELDS];

/* Appends a reject row for the value p[0..n) at topic/partition/offset to r. */
void kmsg_reject(batch *r, const char *topic, int32_t partition, int64_t offset, const void *p,
                 size_t n, const char *why);

/* The athlete.source and athlete.offset headers of m: the row's identity across re-runs of
 * `produce`. False when either is missing or not a decimal offset. */
bool kmsg_lineage(const rd_kafka_message_t *m, const void **src, size_t *srclen, int64_t *off);

/* The consumer settings both consuming commands start from (in a NULL-terminated defaults list
 * of kafka_client_new): group `group`, offsets committed only by the command, the beginning
 * when the group has none, committed transactions only. */
#define KMSG_CONSUMER_DEFAULTS(group, client_id)                                                   \
  "group.id", (group), "enable.auto.commit", "false", "enable.auto.offset.store", "false",         \
      "auto.offset.reset", "earliest", "isolation.level", "read_committed", "client.id",           \
      (client_id)

/* A message that carries a consumer error: ATH_ERR (message in err) when it is fatal, or the
 * topic is unknown or not authorised; otherwise (the client retries it) prints it to stderr
 * prefixed with `who` unless `quiet`, and returns ATH_OK. End-of-partition events are ATH_OK. */
int kmsg_poll_error(rd_kafka_t *rk, const rd_kafka_message_t *m, const char *topic, const char *who,
                    bool quiet, ath_error *err);

#endif
