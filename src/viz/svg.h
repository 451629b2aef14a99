/* SVG charts for `athlete report`, written straight to a FILE: a scatter plot and a
 * (stacked) horizontal bar chart, each with axes, ticks, axis labels with units, a legend and a
 * <title> tooltip on every mark. Marks carry class="mark" (and data-series) so that tests can
 * count them in the DOM. Text is escaped for XML; numbers are printed with %g. */
#ifndef ATHLETE_VIZ_SVG_H
#define ATHLETE_VIZ_SVG_H

#include <stddef.h>
#include <stdio.h>

/* Writes s (NUL-terminated; NULL writes nothing) escaped for XML text and attributes. */
void svg_escape(FILE *f, const char *s);

/* "Nice" axis ticks covering [lo, hi]: step 1, 2 or 5 times a power of ten, at most `most`
 * ticks; *first and *step receive the first tick and the spacing; returns the tick count. */
int svg_ticks(double lo, double hi, int most, double *first, double *step);

typedef struct svg_series {
  const char *name;
  const char *color; /* CSS colour */
} svg_series;

typedef struct svg_point {
  double x, y, size; /* size: the mark's area is proportional to it */
  int series;
  const char *label; /* the mark's tooltip */
} svg_point;

typedef struct svg_scatter {
  const char *id, *title, *x_label, *y_label, *size_label;
  const svg_series *series;
  int nseries;
  const svg_point *points;
  int npoints;
} svg_scatter;

/* A scatter plot: one circle per point. */
void svg_write_scatter(FILE *f, const svg_scatter *s);

typedef struct svg_bars {
  const char *id, *title, *x_label;
  const char *const *labels; /* one per bar, shown left of it */
  int nbars;
  const svg_series *segments; /* one per stacked segment */
  int nsegments;
  const double *values; /* nbars * nsegments, row-major: bar i, segment k at [i*nsegments+k] */
  const char *unit;     /* after each value in the tooltips, e.g. "s" or "MB" */
} svg_bars;

/* A horizontal bar chart, segments stacked left to right; a rect per non-zero segment and the
 * bar's total printed at its end. */
void svg_write_bars(FILE *f, const svg_bars *b);

#endif
