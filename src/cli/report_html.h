/* athlete report: one self-contained HTML page (no scripts, no network, inline CSS and SVG)
 * with charts of gold and of the data quality and cost of the run that wrote the lake, read
 * from its committed tables and their manifests. */
#ifndef ATHLETE_CLI_REPORT_HTML_H
#define ATHLETE_CLI_REPORT_HTML_H

#include "core/status.h"

/* Writes the page for `lake` to `out` (replaced atomically). Needs MPI initialised (tables are
 * read with MPI_COMM_SELF). Returns ATH_ERR when the lake holds no committed table. */
int report_html_write(const char *lake, const char *out, ath_error *err);

#endif
