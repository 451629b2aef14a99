/* `ingest`: a Kafka topic into a stream table, exactly once (SPEC §10).
 *
 * Each process (each MPI rank) is its own member of the consumer group G, with manual offsets
 * (enable.auto.commit=false, read_committed). On assignment a member claims its partitions in
 * the table's commit log, removes their orphan files and seeks each partition to the offset
 * after the last one the log records (the group's committed offset is ignored: it is written
 * after each durable batch, for monitoring tools, and never read). Messages decode into the
 * table's bronze columns (json_row.h) plus three lineage columns: _source and _source_offset
 * (the athlete.source and athlete.offset headers: the row's identity) and _kafka_offset. A row
 * whose identity is already in the table, or in the open batch, is dropped; a message that
 * cannot be decoded, or is larger than --max-message-bytes, is a reject (topic, partition,
 * offset, reason, raw text or raw_hex, size). A batch is cut after --batch-rows messages or
 * --batch-ms milliseconds, before partitions are revoked, on SIGTERM/SIGINT, when --until-idle
 * seconds passed without a message, and when another rank stopped (on an error, every rank
 * stops after committing what it holds): one Parquet file per partition, one commit log entry
 * (stream.h), then the group commit. A batch whose commit finds that another writer took over
 * one of its partitions, or landed some of its rows meanwhile, is not committed: the
 * partitions taken over lose their rows (the new owner reads them) and are paused, the rows
 * landed meanwhile become duplicates, and what is left is committed.
 *
 * Membership. A member that has had no assignment for a join wait (session.timeout.ms + 20 s:
 * a JoinGroup the broker never answered, as kafka-mock has been seen to do) closes its handle
 * and joins again with a fresh one (a new member id), at most 3 times. --until-idle leaves only
 * once the topic is drained: every partition's next offset in the table's log (or, for its own
 * partitions, the member's position) has reached the high watermark, or what lies between holds
 * no data message (only transaction markers, read by a short-lived unsubscribed consumer). While
 * it is not, the member waits on (not idle), re-joining when it has no assignment, at most
 * max(--until-idle, join wait) more; then it leaves, exit 0, with a warning naming each
 * partition, the log's offset and the high watermark (the log stays truthful: the next run
 * lands the rest). */
#ifndef ATHLETE_PIPELINE_INGEST_H
#define ATHLETE_PIPELINE_INGEST_H

#include <stdint.h>

#include "kafka/kafka.h"
#include "pipeline/pipeline.h"

typedef struct ingest_opts {
  const kafka_opts *kafka;
  const char *topic;
  const char *group;
  const char *table;         /* athlete_event_results (default) or athlete_bio */
  int64_t batch_rows;        /* cut a batch after this many messages (default 100000) */
  int batch_ms;              /* ... or this many milliseconds after its first (default 5000) */
  double until_idle_s;       /* exit after this long without a message or an assignment (0: run
                                until stopped); before the first assignment at least the
                                session timeout + 20 s, for the group join; and only once the
                                topic is drained, or after a bounded wait (above) */
  int64_t max_message_bytes; /* larger values are rejects (default 1 MiB) */
} ingest_opts;

/* Collective only at its end (each rank consumes on its own). Returns ATH_OK after a signal,
 * --until-idle, or the end of the input with --until-idle; ATH_ERR naming the rank on a
 * failure (unreachable brokers, a missing topic, a write error, a damaged log). */
int stage_ingest(pipeline_ctx *c, const ingest_opts *io, ath_error *err);

#endif
