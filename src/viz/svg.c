#include "viz/svg.h"

#include <math.h>
#include <string.h>

#define W         640 /* every chart's viewBox width; the page scales it */
#define LABEL_MAX 44  /* bar labels longer than this are cut (with "...") */

void svg_escape(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    case '\'':
      fputs("&#39;", f);
      break;
    default:
      if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n') fputc(*s, f);
    }
  }
}

int svg_ticks(double lo, double hi, int most, double *first, double *step) {
  if (!(hi > lo)) hi = lo + 1;
  double raw = (hi - lo) / (most > 1 ? most - 1 : 1);
  double p = pow(10, floor(log10(raw))), s = p;
  static const double mult[] = {1, 2, 5, 10};
  for (int i = 0; i < 4; i++) {
    s = mult[i] * p;
    if (ceil(hi / s) - floor(lo / s) + 1 <= most) break;
  }
  *first = floor(lo / s) * s;
  *step = s;
  return (int)llround((ceil(hi / s) * s - *first) / s) + 1;
}

/* A tick value as text: no trailing zeros, no "-0". */
static void tick_text(double v, double step, char *out, size_t n) {
  if (fabs(v) < step * 1e-9) v = 0;
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  snprintf(out, n, "%.*f", dec, v);
}

static void open_svg(FILE *f, const char *id, const char *title, int h) {
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"");
  svg_escape(f, id);
  fprintf(f, "\" class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"", W, h);
  svg_escape(f, id);
  fputs("-t\" font-family=\"system-ui, sans-serif\" font-size=\"12\">\n<title id=\"", f);
  svg_escape(f, id);
  fputs("-t\">", f);
  svg_escape(f, title);
  fputs("</title>\n", f);
}

/* Legend swatches from (x0, y), wrapped to the chart's width; with f NULL only measures.
 * Returns the lines used; *xend (when not NULL) gets the x after the last swatch. */
static int legend(FILE *f, const svg_series *s, int n, double x0, double y, int circles,
                  double *xend) {
  double x = x0;
  int lines = 1;
  for (int i = 0; i < n; i++) {
    double w = 17 + 7.0 * (double)strlen(s[i].name ? s[i].name : "") + 18;
    if (x > x0 && x + w > W - 8) x = x0, y += 18, lines++;
    if (f && circles)
      fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\" fill-opacity=\"0.7\"/>",
              x + 6, y - 4, s[i].color);
    else if (f)
      fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>", x, y - 10,
              s[i].color);
    if (f) {
      fprintf(f, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">", x + 17, y);
      svg_escape(f, s[i].name);
      fputs("</text>\n", f);
    }
    x += w;
  }
  if (xend) *xend = x;
  return lines;
}

void svg_write_scatter(FILE *f, const svg_scatter *s) {
  const int h = 440, ml = 64, mr = 20, mt = 16, mb = 76;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, smax = 0;
  for (int i = 0; i < s->npoints; i++) {
    const svg_point *p = &s->points[i];
    x0 = fmin(x0, p->x), x1 = fmax(x1, p->x), y0 = fmin(y0, p->y), y1 = fmax(y1, p->y);
    smax = fmax(smax, p->size);
  }
  if (s->npoints == 0) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double xf, xs, yf, ys;
  int nx = svg_ticks(x0, x1, 7, &xf, &xs), ny = svg_ticks(y0, y1, 7, &yf, &ys);
  double xl = xf, xh = xf + xs * (nx - 1), yl = yf, yh = yf + ys * (ny - 1);
  double pw = W - ml - mr, ph = h - mt - mb;
#define SX(v) (ml + ((v)-xl) / (xh - xl) * pw)
#define SY(v) (mt + ph - ((v)-yl) / (yh - yl) * ph)
  open_svg(f, s->id, s->title, h);
  fputs("<g class=\"axis\" stroke=\"#ccc\">\n", f);
  for (int i = 0; i < nx; i++)
    fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\"/>", SX(xf + i * xs),
            SX(xf + i * xs), mt, mt + ph);
  for (int i = 0; i < ny; i++)
    fprintf(f, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", ml, ml + pw,
            SY(yf + i * ys), SY(yf + i * ys));
  fputs("\n</g>\n<g class=\"ticks\" fill=\"#444\">\n", f);
  char t[32];
  for (int i = 0; i < nx; i++) {
    tick_text(xf + i * xs, xs, t, sizeof t);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", SX(xf + i * xs),
            mt + ph + 16, t);
  }
  for (int i = 0; i < ny; i++) {
    tick_text(yf + i * ys, ys, t, sizeof t);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", ml - 6,
            SY(yf + i * ys) + 4, t);
  }
  fprintf(f, "\n</g>\n<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
          ml + pw / 2, mt + ph + 36);
  svg_escape(f, s->x_label);
  fprintf(f,
          "</text>\n<text class=\"axis-label\" transform=\"translate(16 %.1f) rotate(-90)\" "
          "text-anchor=\"middle\">",
          mt + ph / 2);
  svg_escape(f, s->y_label);
  fputs("</text>\n<g class=\"marks\">\n", f);
  for (int i = 0; i < s->npoints; i++) {
    const svg_point *p = &s->points[i];
    double r = 2.5 + 13 * sqrt(smax > 0 ? p->size / smax : 0);
    fprintf(f,
            "<circle class=\"mark\" data-series=\"%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" "
            "fill=\"%s\" fill-opacity=\"0.55\" stroke=\"%s\"><title>",
            p->series, SX(p->x), SY(p->y), r, s->series[p->series].color,
            s->series[p->series].color);
    svg_escape(f, p->label);
    fputs("</title></circle>\n", f);
  }
  fputs("</g>\n", f);
  double lx;
  legend(f, s->series, s->nseries, ml, h - 12, 1, &lx);
  fprintf(f, "<text class=\"legend\" x=\"%.1f\" y=\"%d\" fill=\"#444\">circle area: ", lx, h - 12);
  svg_escape(f, s->size_label);
  fputs("</text>\n</svg>\n", f);
#undef SX
#undef SY
}

void svg_write_bars(FILE *f, const svg_bars *b) {
  const int row = 22, mt = 8, mr = 56;
  size_t longest = 0;
  for (int i = 0; i < b->nbars; i++)
    if (b->labels[i] && strlen(b->labels[i]) > longest) longest = strlen(b->labels[i]);
  int ml = 12 + (int)(longest > LABEL_MAX ? LABEL_MAX : longest) * 7;
  int mb = 44 + (b->nsegments > 1 ? 2 + 18 * legend(NULL, b->segments, b->nsegments, ml, 0, 0, NULL)
                                  : 0);
  int h = mt + (b->nbars ? b->nbars : 1) * row + mb;
  double vmax = 0;
  for (int i = 0; i < b->nbars; i++) {
    double tot = 0;
    for (int k = 0; k < b->nsegments; k++)
      tot += b->values[i * b->nsegments + k];
    vmax = fmax(vmax, tot);
  }
  double first, step;
  int nt = svg_ticks(0, vmax > 0 ? vmax : 1, 6, &first, &step);
  double hi = first + step * (nt - 1), pw = W - ml - mr, ph = (b->nbars ? b->nbars : 1) * row;
#define SX(v) (ml + (v) / hi * pw)
  open_svg(f, b->id, b->title, h);
  fputs("<g class=\"axis\" stroke=\"#ccc\">\n", f);
  char t[32];
  for (int i = 0; i < nt; i++)
    fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\"/>", SX(first + i * step),
            SX(first + i * step), mt, mt + ph);
  fputs("\n</g>\n<g class=\"ticks\" fill=\"#444\">\n", f);
  for (int i = 0; i < nt; i++) {
    tick_text(first + i * step, step, t, sizeof t);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", SX(first + i * step),
            mt + ph + 16, t);
  }
  fprintf(f, "\n</g>\n<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
          ml + pw / 2, mt + ph + 34);
  svg_escape(f, b->x_label);
  fputs("</text>\n<g class=\"marks\">\n", f);
  for (int i = 0; i < b->nbars; i++) {
    double y = mt + i * row + 3, x = 0;
    fprintf(f, "<text class=\"bar-label\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", ml - 6,
            y + 12);
    if (b->labels[i] && strlen(b->labels[i]) > LABEL_MAX) { /* the tooltip holds it whole */
      char cut[LABEL_MAX + 1];
      snprintf(cut, sizeof cut, "%.*s...", LABEL_MAX - 3, b->labels[i]);
      svg_escape(f, cut);
    } else {
      svg_escape(f, b->labels[i]);
    }
    fputs("</text>", f);
    for (int k = 0; k < b->nsegments; k++) {
      double v = b->values[i * b->nsegments + k];
      if (v <= 0) continue;
      fprintf(f,
              "<rect class=\"mark\" data-series=\"%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" "
              "height=\"%d\" fill=\"%s\"><title>",
              k, SX(x), y, SX(x + v) - SX(x) > 0.5 ? SX(x + v) - SX(x) : 0.5, row - 6,
              b->segments[k].color);
      svg_escape(f, b->labels[i]);
      if (b->nsegments > 1) {
        fputs(", ", f);
        svg_escape(f, b->segments[k].name);
      }
      fprintf(f, ": %g", v);
      if (b->unit) fprintf(f, " %s", b->unit);
      fputs("</title></rect>", f);
      x += v;
    }
    fprintf(f, "<text class=\"bar-value\" x=\"%.1f\" y=\"%.1f\" fill=\"#444\">%.4g</text>\n",
            SX(x) + 4, y + 12, x);
  }
  fputs("</g>\n", f);
  if (b->nsegments > 1) legend(f, b->segments, b->nsegments, ml, mt + ph + 58, 0, NULL);
  fputs("</svg>\n", f);
#undef SX
}
