/* athlete show: a table's schema, row count and first rows, read from its HDF5 file or, for a
 * table written without one (and stream tables), its Parquet files. */
#ifndef ATHLETE_CLI_SHOW_H
#define ATHLETE_CLI_SHOW_H

#include <stdint.h>

#include "core/status.h"

/* `name` is LAYER/TABLE (e.g. gold/avg_stats). Needs MPI initialised. Prints to stdout the
 * first `limit` rows as `format`: "table" (schema, row count, tab-separated rows, NULL for
 * null), "csv" (RFC 4180: a header line, fields quoted when they hold a comma, quote, CR or LF,
 * null as an empty field) or "json" (one array of objects in column order: strings as JSON
 * strings, numbers as the shortest text that reads back as the same double, booleans, null;
 * timestamps as ISO 8601 UTC strings). */
int show_table(const char *lake, const char *name, int64_t limit, const char *format,
               ath_error *err);

#endif
