/* athlete: the command line. A command table decides which options a command takes and
 * whether it starts MPI; one option table drives parsing, validation and --help, so they can
 * never disagree. Exit codes: 0 ok, 1 failure, 2 usage error, 3 reject fraction exceeded. */
#include "cli/options.h"
#include "cli/report_html.h"
#include "cli/show.h"
#include "pipeline/progress.h"
#include "core/status.h"
#include "gen/gen.h"
#include "h5/h5table.h"
#include "kafka/mock.h"
#include "kafka/topics.h"
#include "pipeline/pipeline.h"
#include "pipeline/ingest.h"
#include "pipeline/produce.h"
#include "pipeline/stream_stats.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*command_fn)(const cli_args *a, pipeline_ctx *c, ath_error *err);

/* What a command needs started before it runs. */
enum { NEEDS_MPI = 1u << 0, NEEDS_KAFKA = 1u << 1 };

typedef struct command {
  const char *name;
  command_fn run;
  unsigned options; /* OPTS_* mask */
  unsigned needs;   /* NEEDS_*: MPI is initialised, Kafka options checked first (exit 2) */
  const char *summary;
  const char *usage;
} command;

static int cmd_l2b(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  progress_open(c);
  int rc = stage_landing_to_bronze(c, NULL, err);
  return report_finish(c, rc, NULL, err);
}

static int cmd_b2s(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  progress_open(c);
  int rc = stage_bronze_to_silver(c, NULL, NULL, err);
  return report_finish(c, rc, NULL, err);
}

static int cmd_s2g(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  batch *gold = NULL;
  progress_open(c);
  int rc = stage_silver_to_gold(c, NULL, &gold, err);
  rc = report_finish(c, rc, gold, err);
  batch_free(gold);
  return rc;
}

static int cmd_run(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  batch *gold = NULL;
  progress_open(c);
  int rc = pipeline_run(c, &gold, err);
  rc = report_finish(c, rc, gold, err);
  batch_free(gold);
  return rc;
}

static int cmd_gen(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  gen_options g = {.scale = a->scale, .seed = a->seed, .out_dir = a->out};
  gen_stats st = {0};
  double t0 = ath_now();
  int rc = gen_write(&g, &st, err);
  if (rc == ATH_OK && !a->pipe.quiet)
    fprintf(stderr,
            "athlete gen: wrote %s/athlete_bio.csv (%lld rows, %.1f MB) and "
            "%s/athlete_event_results.csv (%lld rows, %.1f MB) in %.2f s\n",
            a->out, (long long)st.bio_rows, (double)st.bio_bytes / 1e6, a->out,
            (long long)st.result_rows, (double)st.result_bytes / 1e6, ath_now() - t0);
  return rc;
}

static int cmd_show(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  return show_table(a->pipe.lake, a->table, a->limit, a->show_format, err);
}

static int cmd_report(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  int rc = report_html_write(a->pipe.lake, a->report_out, err);
  if (rc == ATH_OK && !a->pipe.quiet) fprintf(stderr, "athlete report: wrote %s\n", a->report_out);
  return rc;
}

static int cmd_kafka_mock(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  kafka_mock_opts o = {.brokers = a->mock_brokers,
                       .ntopics = a->ntopics,
                       .bootstrap_file = a->bootstrap_file,
                       .control = a->control,
                       .quiet = a->pipe.quiet};
  memcpy(o.topics, a->topics, sizeof(const char *) * (size_t)a->ntopics);
  return kafka_mock_run(&o, err);
}

static int cmd_topics(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  kafka_topics_opts o = {.kafka = &a->kafka,
                         .action = a->action,
                         .ntopics = a->ntopics,
                         .partitions = a->partitions,
                         .replication = a->replication,
                         .nconfigs = a->nconfigs,
                         .if_not_exists = a->if_not_exists,
                         .if_exists = a->if_exists,
                         .json = a->json,
                         .exclude_internal = a->exclude_internal};
  memcpy(o.topics, a->topics, sizeof(const char *) * (size_t)a->ntopics);
  memcpy(o.configs, a->configs, sizeof(const char *) * (size_t)a->nconfigs);
  return kafka_topics_run(&o, err);
}

static int cmd_produce(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  produce_opts o = {.kafka = &a->kafka,
                    .topic = a->topics[0],
                    .table = a->produce_table,
                    .commit_rejects = a->lake_given,
                    .transaction_ms = a->transaction_ms};
  int rc = stage_produce(c, &o, err);
  return report_finish(c, rc, NULL, err);
}

static int cmd_ingest(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  ingest_opts o = {.kafka = &a->kafka,
                   .topic = a->topics[0],
                   .group = a->group,
                   .table = a->produce_table,
                   .batch_rows = a->batch_rows,
                   .batch_ms = a->batch_ms ? a->batch_ms : 5000,
                   .until_idle_s = a->until_idle_s,
                   .max_message_bytes = a->max_message_bytes};
  int rc = stage_ingest(c, &o, err);
  return report_finish(c, rc, NULL, err);
}

static int cmd_stream_stats(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  stream_stats_opts o = {.kafka = &a->kafka,
                         .topic = a->topics[0],
                         .out_topic = a->out_topic,
                         .group = a->group,
                         .batch_rows = a->batch_rows,
                         .batch_ms = a->batch_ms ? a->batch_ms : 1000,
                         .until_idle_s = a->until_idle_s,
                         .max_message_bytes = a->max_message_bytes};
  batch *gold = NULL;
  int rc = stage_stream_stats(c, &o, &gold, err);
  rc = report_finish(c, rc, gold, err);
  batch_free(gold);
  return rc;
}

static const command commands[] = {
    {"run", cmd_run, OPTS_PIPELINE | OPTS_SOURCE, NEEDS_MPI,
     "landing -> bronze -> silver -> gold in one MPI job (tables stay in memory between stages)",
     "mpirun -np N athlete run --source DIR|URL [--lake DIR] [options]"},
    {"landing-to-bronze", cmd_l2b, OPTS_PIPELINE | OPTS_SOURCE | OPTS_TABLES, NEEDS_MPI,
     "read the two landing CSV files into bronze (raw strings) and rejects",
     "mpirun -np N athlete landing-to-bronze --source DIR|URL [--lake DIR] [--tables LIST] "
     "[options]"},
    {"bronze-to-silver", cmd_b2s, OPTS_PIPELINE, NEEDS_MPI,
     "type, clean and deduplicate bronze into silver",
     "mpirun -np N athlete bronze-to-silver [--lake DIR] [options]"},
    {"silver-to-gold", cmd_s2g, OPTS_PIPELINE, NEEDS_MPI,
     "join silver results with bio and write gold/avg_stats",
     "mpirun -np N athlete silver-to-gold [--lake DIR] [options]"},
    {"gen", cmd_gen, OPTS_GEN, 0,
     "write synthetic athlete_bio.csv and athlete_event_results.csv with every quirk",
     "athlete gen [--scale K] [--seed S] --out DIR"},
    {"show", cmd_show, OPTS_SHOW | OPTS_LAKE, NEEDS_MPI,
     "print a table's schema, row count and first rows",
     "athlete show [--lake DIR] LAYER/TABLE [--limit N] [--format table|csv|json]"},
    {"report", cmd_report, OPTS_HTML | OPTS_LAKE, NEEDS_MPI,
     "write a self-contained HTML page of charts of gold, data quality and the run's costs",
     "athlete report [--lake DIR] [--out FILE.html]"},
    {"kafka-mock", cmd_kafka_mock, OPTS_MOCK, 0,
     "run librdkafka's mock Kafka cluster as a broker process (for laptops and tests)",
     "athlete kafka-mock [--brokers N] [--topic NAME[:PARTITIONS]]... "
     "[--bootstrap-file F] [--control FIFO]"},
    {"topics", cmd_topics, OPTS_KAFKA | OPTS_TOPIC | OPTS_TOPICS, NEEDS_KAFKA,
     "list, describe, create or delete Kafka topics",
     "athlete topics list|describe|create|delete [--topic NAME]... [--brokers LIST] "
     "[-X key=value]... [options]"},
    {"produce", cmd_produce,
     OPTS_KAFKA | OPTS_TOPIC | OPTS_PRODUCE | OPTS_SOURCE | OPTS_LAKE | OPTS_WRITE | OPTS_REPORT |
         OPTS_REJECTS,
     NEEDS_MPI | NEEDS_KAFKA, "send a landing CSV's rows to a Kafka topic, one JSON message a row",
     "mpirun -np N athlete produce --topic T [--table athlete_event_results|athlete_bio] "
     "--source DIR|URL [--brokers LIST] [-X key=value]... [--lake DIR]"},
    {"ingest", cmd_ingest, OPTS_KAFKA | OPTS_TOPIC | OPTS_INGEST | OPTS_LAKE | OPTS_REPORT,
     NEEDS_MPI | NEEDS_KAFKA,
     "land a Kafka topic in a stream table of the lake, exactly once (consumer group member)",
     "[mpirun -np N] athlete ingest --topic T --group G [--lake DIR] [--table NAME] "
     "[--batch-rows N] [--batch-ms MS] [--until-idle S] [--max-message-bytes B] "
     "[--brokers LIST] [-X key=value]..."},
    {"stream-stats", cmd_stream_stats,
     OPTS_KAFKA | OPTS_TOPIC | OPTS_INGEST | OPTS_STATS | OPTS_LAKE | OPTS_REPORT | OPTS_TRANSFORM,
     NEEDS_MPI | NEEDS_KAFKA,
     "gold from a results topic, continuously: changed groups to --out-topic, exactly once",
     "athlete stream-stats --topic T --out-topic O --group G [--lake DIR] [--batch-rows N] "
     "[--batch-ms MS] [--until-idle S] [--max-message-bytes B] [--brokers LIST] "
     "[-X key=value]..."},
};
#define NCOMMANDS (int)(sizeof commands / sizeof *commands)

static void usage(FILE *f) {
  fprintf(f,
          "athlete %s: a native MPI pipeline for the Olympic athlete data lake\n\n"
          "usage: athlete <command> [options]     athlete <command> --help\n\ncommands:\n",
          ATHLETE_VERSION);
  for (int i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-19s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nexit codes: 0 ok, 1 failure, 2 usage error, 3 reject fraction exceeded\n");
}

static const command *find_command(const char *name) {
  for (int i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

/* Runs an MPI command: errors come back from MPI (MPI_ERRORS_RETURN), every rank agrees on
 * the outcome, rank 0 prints the message. */
static int run_mpi(const command *cmd, cli_args *a, int *argc, char ***argv) {
  h5_helper_start(); /* while the process is small, and before MPI_Init */
  int provided;      /* FUNNELED: the HDF5 writer's side job runs on a thread, which calls no MPI */
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  /* The run's timestamp is rank 0's clock (or SOURCE_DATE_EPOCH). */
  MPI_Bcast(&a->pipe.timestamp_us, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  pipeline_ctx c;
  pipeline_ctx_init(&c, MPI_COMM_WORLD, &a->pipe, cmd->name);
  ath_error err = {0};
  int rc = cmd->run(a, &c, &err);
  kafka_redact(err.msg, sizeof err.msg);
  if (rc != ATH_OK && rank == 0) fprintf(stderr, "athlete %s: error: %s\n", cmd->name, err.msg);
  MPI_Finalize();
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? ATH_EUSAGE : ATH_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("athlete %s\n", ATHLETE_VERSION);
    return ATH_OK;
  }
  const command *cmd = find_command(argv[1]);
  if (!cmd) {
    fprintf(stderr, "athlete: unknown command '%s' (try 'athlete --help')\n", argv[1]);
    return ATH_EUSAGE;
  }
  cli_args a;
  ath_error err = {0};
  int rc = cli_parse(argc - 1, argv + 1, cmd->options, &a, &err);
  if (rc == ATH_OK && a.help) {
    cli_help(stdout, cmd->name, cmd->summary, cmd->usage, cmd->options);
    return ATH_OK;
  }
  if (rc != ATH_OK) {
    fprintf(stderr, "athlete %s: %s\n(see 'athlete %s --help')\n", cmd->name, err.msg, cmd->name);
    return rc;
  }
  if (cmd->needs & NEEDS_KAFKA) {
    for (int i = 0; i < a.kafka.nprops; i++)
      if (strcmp(a.kafka.props[i], "list") == 0) { /* -X list, as kcat */
        rd_kafka_conf_properties_show(stdout);
        return ATH_OK;
      }
    rc = kafka_opts_check(&a.kafka, &err);
    if (rc != ATH_OK) {
      kafka_redact(err.msg, sizeof err.msg);
      fprintf(stderr, "athlete %s: %s\n(see 'athlete %s --help')\n", cmd->name, err.msg, cmd->name);
      return rc;
    }
  }
  if (cmd->needs & NEEDS_MPI) return run_mpi(cmd, &a, &argc, &argv);
  rc = cmd->run(&a, NULL, &err);
  kafka_redact(err.msg, sizeof err.msg);
  if (rc != ATH_OK) fprintf(stderr, "athlete %s: error: %s\n", cmd->name, err.msg);
  return rc;
}
