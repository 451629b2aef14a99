/* What the consuming commands (ingest, stream-stats) keep of a Kafka message besides its
 * value (SPEC §10): the reject row of a message that cannot be used, and the row identity
 * `produce` puts in its headers. */
#ifndef ATHLETE_KAFKA_MSG_ROWS_H
#define ATHLETE_KAFKA_MSG_ROWS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/batch.h"

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

#endif
