/* `produce`: a landing CSV into a Kafka topic, one message per bronze row (SPEC §10).
 *
 * Every rank reads its byte range of the table's CSV with the exact partitioner (csv_reader.h),
 * window by window through a sink, and sends each good record as it is parsed from its own
 * idempotent producer (producer.h): value = the row as a JSON object (json_row.h), key = its
 * athlete_id text (no key when null), headers athlete.source (the file's name) and
 * athlete.offset (the record's byte offset, decimal). Structurally broken records, and rows
 * whose message is larger than the client's or the broker's limit, are rejects: committed to
 * rejects/<table>/ with the lake given, otherwise counted and the first ones printed. The
 * ranks then flush, and rank 0 reports the delivery counts of every rank.
 *
 * Each rank's producer is transactional (unless transaction_ms is 0), with the transactional
 * id `<prefix>.<topic>.<table>.<rank>-of-<ranks>` (prefix `athlete-produce`, or the value of
 * -X transactional.id), and commits every transaction_ms: a re-run fences a zombie of the last
 * run, and a broker deduplicates retried batches (see producer.h). */
#ifndef ATHLETE_PIPELINE_PRODUCE_H
#define ATHLETE_PIPELINE_PRODUCE_H

#include <stdbool.h>

#include "kafka/kafka.h"
#include "pipeline/pipeline.h"

typedef struct produce_opts {
  const kafka_opts *kafka;
  const char *topic;
  const char *table;   /* a landing table (default athlete_event_results) */
  bool commit_rejects; /* --lake was given: commit the rejects to it */
  int transaction_ms;  /* commit a transaction this often (0: no transactions) */
} produce_opts;

/* Collective. Returns ATH_OK when every row was delivered or rejected; ATH_ERR when a message
 * was not delivered (naming the undelivered counts per rank), for unreachable brokers, a
 * missing topic, a fatal producer error or a read error; ATH_EREJECTS when more than
 * --max-reject-fraction of the records were rejected (the others were still sent). */
int stage_produce(pipeline_ctx *c, const produce_opts *po, ath_error *err);

#endif
