/* Command-line options: one table drives parsing, validation and --help. */
#ifndef ATHLETE_CLI_OPTIONS_H
#define ATHLETE_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "pipeline/pipeline.h"

/* Option groups a command accepts. */
enum {
  OPTS_COMMON = 1u << 0,   /* --help, --quiet */
  OPTS_PIPELINE = 1u << 1, /* --lake, --formats, --parquet-compression, ... */
  OPTS_SOURCE = 1u << 2,   /* --source */
  OPTS_GEN = 1u << 3,      /* --scale, --seed, --out */
  OPTS_SHOW = 1u << 4,     /* --lake, --limit, LAYER/TABLE */
};

typedef struct cli_args {
  pipeline_opts pipe;
  bool help;
  double scale;
  uint64_t seed;
  const char *out;
  const char *table; /* show: LAYER/TABLE */
  int64_t limit;
} cli_args;

/* Parses argv[1..argc) (argv[0] is the command name) for a command accepting `groups`.
 * Returns ATH_OK or ATH_EUSAGE with a message naming the option. */
int cli_parse(int argc, char **argv, unsigned groups, cli_args *a, ath_error *err);
/* Prints a command's --help from the option table. */
void cli_help(FILE *f, const char *name, const char *summary, const char *usage, unsigned groups);

#endif
