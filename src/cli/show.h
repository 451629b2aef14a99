/* athlete show: a table's schema, row count and first rows, read from its HDF5 file. */
#ifndef ATHLETE_CLI_SHOW_H
#define ATHLETE_CLI_SHOW_H

#include <stdint.h>

#include "core/status.h"

/* `name` is LAYER/TABLE (e.g. gold/avg_stats). Needs MPI initialised. Prints to stdout. */
int show_table(const char *lake, const char *name, int64_t limit, ath_error *err);

#endif
