/* Command-line options: one table drives parsing, validation and --help. */
#ifndef ATHLETE_CLI_OPTIONS_H
#define ATHLETE_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "kafka/kafka.h"
#include "pipeline/pipeline.h"

/* Option groups a command accepts. */
enum {
  OPTS_COMMON = 1u << 0,    /* --help, --quiet */
  OPTS_LAKE = 1u << 1,      /* --lake */
  OPTS_WRITE = 1u << 2,     /* --formats, --parquet-compression, --zstd-level */
  OPTS_REPORT = 1u << 3,    /* --progress, --metrics */
  OPTS_TRANSFORM = 1u << 4, /* --keep-chars, --shuffle-round-mb */
  OPTS_REJECTS = 1u << 5,   /* --max-reject-fraction */
  OPTS_SOURCE = 1u << 6,    /* --source */
  OPTS_GEN = 1u << 7,       /* --scale, --seed, --out */
  OPTS_SHOW = 1u << 8,      /* --limit, LAYER/TABLE */
  OPTS_KAFKA = 1u << 9,     /* --brokers LIST, -X, -F, --timeout */
  OPTS_TOPIC = 1u << 10,    /* --topic NAME */
  OPTS_PRODUCE = 1u << 11,  /* --table; exactly one --topic */
  OPTS_TOPICS = 1u << 12,   /* ACTION, --partitions, --replication-factor, --config, ... */
  OPTS_MOCK = 1u << 13,     /* --brokers N, --topic NAME[:P[:R]], --bootstrap-file, --control */
  OPTS_INGEST = 1u << 14,   /* --group, --batch-rows, --batch-ms, --until-idle, ...; one --topic */
  OPTS_TABLES = 1u << 15,   /* --tables LIST */
  OPTS_STATS = 1u << 16,    /* --out-topic NAME */
  OPTS_HTML = 1u << 17,     /* report: --out FILE */
  OPTS_PIPELINE = OPTS_LAKE | OPTS_WRITE | OPTS_REPORT | OPTS_TRANSFORM | OPTS_REJECTS,
};

#define CLI_MAX_LIST 64

typedef struct cli_args {
  pipeline_opts pipe;
  bool help;
  bool lake_given; /* --lake was on the command line */
  double scale;
  uint64_t seed;
  const char *out;
  const char *table; /* show: LAYER/TABLE */
  int64_t limit;
  const char *show_format; /* show --format: table (default), csv or json */
  const char *report_out;  /* report --out (default report.html) */
  /* Kafka commands */
  kafka_opts kafka;
  const char *topics[CLI_MAX_LIST]; /* --topic, in order */
  int ntopics;
  const char *produce_table; /* produce, ingest --table */
  const char *group;         /* ingest, stream-stats --group */
  const char *out_topic;     /* stream-stats --out-topic */
  int64_t batch_rows, max_message_bytes;
  int batch_ms; /* 0: the command's default */
  double until_idle_s;
  int transaction_ms; /* produce --transaction-ms */
  const char *action; /* topics: list|describe|create|delete */
  int partitions, replication;
  const char *configs[CLI_MAX_LIST]; /* topics create --config k=v */
  int nconfigs;
  bool if_not_exists, if_exists, json, exclude_internal;
  int mock_brokers;
  const char *bootstrap_file, *control;
} cli_args;

/* Parses argv[1..argc) (argv[0] is the command name) for a command accepting `groups`.
 * Returns ATH_OK or ATH_EUSAGE with a message naming the option. */
int cli_parse(int argc, char **argv, unsigned groups, cli_args *a, ath_error *err);
/* Prints a command's --help from the option table. */
void cli_help(FILE *f, const char *name, const char *summary, const char *usage, unsigned groups);

#endif
