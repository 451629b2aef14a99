/* `topics list|describe|create|delete` (SPEC §10).
 *
 * list and describe read the cluster's metadata; describe prints Kafka's own
 * `kafka-topics.sh --describe` layout (without TopicId, which librdkafka's metadata does not
 * carry), one line per topic and one per partition:
 *
 *   Topic: NAME<TAB>PartitionCount: P<TAB>ReplicationFactor: R<TAB>Configs: k=v,...
 *   <TAB>Topic: NAME<TAB>Partition: 0<TAB>Leader: 1<TAB>Replicas: 1,2,3<TAB>Isr: 1,2,3
 *
 * (Configs lists the non-default settings DescribeConfigs returns; it is empty where the
 * cluster does not implement DescribeConfigs.) `--json` prints one JSON document instead.
 * create and delete go through the Admin API (CreateTopics, DeleteTopics) on the controller,
 * bounded by --timeout. A cluster whose metadata names a controller that is none of its
 * brokers (librdkafka's mock names controller 0), or whose brokers do not support the request,
 * fails at once, naming the missing API and the remedy, instead of waiting out the timeout. */
#ifndef ATHLETE_KAFKA_TOPICS_H
#define ATHLETE_KAFKA_TOPICS_H

#include <stdbool.h>

#include "kafka/kafka.h"

#define KAFKA_TOPICS_MAX 64

typedef struct kafka_topics_opts {
  const kafka_opts *kafka;
  const char *action; /* list, describe, create, delete */
  const char *topics[KAFKA_TOPICS_MAX];
  int ntopics;
  int partitions;                        /* create: 0 = the broker's default */
  int replication;                       /* create: 0 = the broker's default */
  const char *configs[KAFKA_TOPICS_MAX]; /* create: k=v */
  int nconfigs;
  bool if_not_exists, if_exists, json, exclude_internal;
} kafka_topics_opts;

/* Runs the action, printing its result on stdout. ATH_OK; ATH_EUSAGE for a bad action or
 * missing --topic; ATH_ERR for an unreachable cluster, an unknown topic (describe, delete
 * without --if-exists), an existing one (create without --if-not-exists) or a failed request. */
int kafka_topics_run(const kafka_topics_opts *o, ath_error *err);

#endif
