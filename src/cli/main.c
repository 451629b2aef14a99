/* athlete: the command line. A command table decides which options a command takes and
 * whether it starts MPI; one option table drives parsing, validation and --help, so they can
 * never disagree. Exit codes: 0 ok, 1 failure, 2 usage error, 3 reject fraction exceeded. */
#include "cli/options.h"
#include "core/status.h"
#include "gen/gen.h"
#include "pipeline/pipeline.h"
#include "cli/show.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*command_fn)(const cli_args *a, pipeline_ctx *c, ath_error *err);

typedef struct command {
  const char *name;
  command_fn run;
  unsigned options; /* OPTS_* mask */
  bool mpi;
  const char *summary;
  const char *usage;
} command;

static int cmd_l2b(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  int rc = stage_landing_to_bronze(c, NULL, err);
  return report_finish(c, rc, NULL, err);
}

static int cmd_b2s(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  int rc = stage_bronze_to_silver(c, NULL, NULL, err);
  return report_finish(c, rc, NULL, err);
}

static int cmd_s2g(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  batch *gold = NULL;
  int rc = stage_silver_to_gold(c, NULL, &gold, err);
  rc = report_finish(c, rc, gold, err);
  batch_free(gold);
  return rc;
}

static int cmd_run(const cli_args *a, pipeline_ctx *c, ath_error *err) {
  batch *gold = NULL;
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
  return show_table(a->pipe.lake, a->table, a->limit, err);
}

static const command commands[] = {
    {"run", cmd_run, OPTS_PIPELINE | OPTS_SOURCE, true,
     "landing -> bronze -> silver -> gold in one MPI job (tables stay in memory between stages)",
     "mpirun -np N athlete run --source DIR|URL [--lake DIR] [options]"},
    {"landing-to-bronze", cmd_l2b, OPTS_PIPELINE | OPTS_SOURCE, true,
     "read the two landing CSV files into bronze (raw strings) and rejects",
     "mpirun -np N athlete landing-to-bronze --source DIR|URL [--lake DIR] [options]"},
    {"bronze-to-silver", cmd_b2s, OPTS_PIPELINE, true,
     "type, clean and deduplicate bronze into silver",
     "mpirun -np N athlete bronze-to-silver [--lake DIR] [options]"},
    {"silver-to-gold", cmd_s2g, OPTS_PIPELINE, true,
     "join silver results with bio and write gold/avg_stats",
     "mpirun -np N athlete silver-to-gold [--lake DIR] [options]"},
    {"gen", cmd_gen, OPTS_GEN, false,
     "write synthetic athlete_bio.csv and athlete_event_results.csv with every quirk",
     "athlete gen [--scale K] [--seed S] --out DIR"},
    {"show", cmd_show, OPTS_SHOW, true, "print a table's schema, row count and first rows",
     "athlete show [--lake DIR] LAYER/TABLE [--limit N]"},
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
  MPI_Init(argc, argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  /* The run's timestamp is rank 0's clock (or SOURCE_DATE_EPOCH). */
  MPI_Bcast(&a->pipe.timestamp_us, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
  pipeline_ctx c;
  pipeline_ctx_init(&c, MPI_COMM_WORLD, &a->pipe, cmd->name);
  ath_error err = {0};
  int rc = cmd->run(a, &c, &err);
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
  if (cmd->mpi) return run_mpi(cmd, &a, &argc, &argv);
  rc = cmd->run(&a, NULL, &err);
  if (rc != ATH_OK) fprintf(stderr, "athlete %s: error: %s\n", cmd->name, err.msg);
  return rc;
}
