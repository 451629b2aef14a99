/* `kafka-mock`: librdkafka's mock cluster as a long-running broker process (SPEC §10).
 *
 * The mock cluster speaks the real Kafka protocol over TCP on 127.0.0.1 (a random port per
 * broker, kept across a broker's down/up): produce, fetch, consumer groups, idempotence and
 * transactions. It does not implement CreateTopics or DeleteTopics, so topics are created at
 * start (`--topic NAME[:PARTITIONS]`, default 1 partition), by the `topic` control command, or
 * on first use by a producer (the mock's default: 4 partitions). Every partition has
 * min(3, brokers) replicas (the mock ignores a topic's own replication factor), and each keeps
 * only its last 5 MiB of messages (older ones go, as with retention.bytes): give a topic
 * enough partitions to hold what it must keep.
 *
 * The process prints the bootstrap list on stdout, writes it (atomically) to --bootstrap-file,
 * then reads control commands, one a line, from stdin (unless stdin is a terminal of a
 * background job) and from the FIFO --control (created if missing), and answers each on
 * stdout with "ok: ..." or "error: ...". It runs until SIGTERM, SIGINT or `stop`, then exits 0
 * and removes the bootstrap file and the FIFO it created. The commands (also `help`):
 *
 *   broker down ID | broker up ID      take broker ID off the network / bring it back
 *   broker rtt ID MS                   delay broker ID's responses by MS milliseconds
 *   errors REQUEST COUNT ERROR         the next COUNT requests of type REQUEST (Produce, Fetch,
 *                                      Metadata, FindCoordinator, JoinGroup, OffsetCommit, ...)
 *                                      fail with ERROR (NOT_LEADER_FOR_PARTITION, ...), on any
 *                                      broker
 *   broker-errors ID REQUEST COUNT ERROR [MS]   the same on broker ID only, each answer sent
 *                                      MS milliseconds late (ERROR NO_ERROR with MS: requests
 *                                      held back, not failed)
 *   clear REQUEST                      drop the errors still queued for REQUEST
 *   topic NAME[:PARTITIONS]            create a topic
 *   topic-error NAME ERROR             every request on topic NAME fails with ERROR (NO_ERROR
 *                                      clears it)
 *   leader TOPIC PARTITION ID          move a partition's leadership to broker ID
 *   coordinator group|transaction KEY ID   make broker ID the coordinator of KEY
 *   stop                               exit 0 */
#ifndef ATHLETE_KAFKA_MOCK_H
#define ATHLETE_KAFKA_MOCK_H

#include <stdbool.h>

#include "core/status.h"

#define KAFKA_MOCK_MAX_TOPICS 64

typedef struct kafka_mock_opts {
  int brokers; /* default 3 */
  const char *topics[KAFKA_MOCK_MAX_TOPICS];
  int ntopics;
  const char *bootstrap_file; /* NULL: none */
  const char *control;        /* FIFO path, NULL: none */
  bool quiet;
} kafka_mock_opts;

/* Runs the cluster until told to stop. ATH_OK on a clean stop; ATH_EUSAGE for a bad --topic;
 * ATH_ERR when the cluster, the bootstrap file or the FIFO cannot be made. */
int kafka_mock_run(const kafka_mock_opts *o, ath_error *err);

/* Parses NAME[:PARTITIONS] into name (capacity n) and *partitions (0 when not given).
 * Returns ATH_OK or ATH_EUSAGE. */
int kafka_topic_spec(const char *spec, char *name, size_t n, int *partitions, ath_error *err);

#endif
