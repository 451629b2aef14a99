/* `stream-stats`: gold computed continuously from a results topic, exactly once (SPEC §10).
 *
 * One process (the state is global: every group can gain rows from any partition) consumes
 * every partition of the topic by manual assignment, with group G as the keeper of its
 * committed offsets, and produces to the output topic with a transactional producer
 * (transactional.id "athlete-stream-stats-<G>" unless -X sets one; a second instance fences
 * the first). Result messages (the JSON `produce` writes) decode into bronze rows, which are
 * typed and cleaned as silver types them; a row whose athlete_id silver would reject, and a
 * message that is not a JSON object of the table's columns (or is larger than
 * --max-message-bytes), is a reject. A typed row equal to one seen before, in this run or any
 * earlier one (all columns, as silver's dedupe compares them), is a duplicate: counted, never
 * aggregated. The others are joined with silver athlete_bio (read from the lake at start) and
 * added to gold's exact aggregates (gold.h).
 *
 * A batch ends after --batch-rows messages or --batch-ms milliseconds, on SIGTERM/SIGINT and
 * when --until-idle seconds passed without a message. Its commit: the rejects go to
 * <dir>/_rejects/<seq>.parquet, the batch's checkpoint (the new distinct rows, the changed
 * groups' exact state, the next offsets) to <dir>/<seq>.delta (lake/ckpt.h), then one Kafka
 * transaction holds every changed group's new gold row (key: the JSON array [sport, medal,
 * sex, country_noc]; value: a JSON object of gold's columns) and the consumed offsets. On
 * start the group's committed offsets name the last committed batch: the checkpoints up to it
 * are loaded (the newest .full, then the deltas after it) and any later ones, of batches whose
 * transaction never committed, are removed. dir is <lake>/_checkpoints/stream-stats/<G>. */
#ifndef ATHLETE_PIPELINE_STREAM_STATS_H
#define ATHLETE_PIPELINE_STREAM_STATS_H

#include <stdint.h>

#include "kafka/kafka.h"
#include "pipeline/pipeline.h"

typedef struct stream_stats_opts {
  const kafka_opts *kafka;
  const char *topic;
  const char *out_topic;
  const char *group;
  int64_t batch_rows;        /* cut a batch after this many messages (default 100000) */
  int batch_ms;              /* ... or this many milliseconds after its first (default 1000) */
  double until_idle_s;       /* exit after this long without a message (0: until stopped) */
  int64_t max_message_bytes; /* larger values are rejects (default 1 MiB) */
} stream_stats_opts;

/* Runs on one process (ATH_EUSAGE on more ranks). Returns ATH_OK after a signal or
 * --until-idle; ATH_ERR on a failure (unreachable brokers, a missing topic or bio table,
 * checkpoints that do not match the group's offsets, a fenced producer). *gold receives every
 * group's current gold row (for the summary); the caller frees it. */
int stage_stream_stats(pipeline_ctx *c, const stream_stats_opts *o, batch **gold, ath_error *err);

#endif
