#include "cli/report_html.h"

#include "core/fsutil.h"
#include "core/json.h"
#include "lake/lake.h"
#include "pipeline/pipeline.h"
#include "viz/svg.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- what the lake holds ------------------------------------------------------------------ */

typedef struct manifest {
  char layer[16];
  char table[256];
  json_value v;
} manifest;

typedef struct lake_view {
  manifest *m;
  int n, cap;
} lake_view;

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = xmalloc(cap);
  size_t got;
  while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) buf = xrealloc(buf, cap *= 2);
  }
  fclose(f);
  *n = len;
  return buf;
}

/* Every committed table of `layer` (name order) with its parsed manifest. */
static void scan_layer(const char *lake, const char *layer, lake_view *lv) {
  char dir[LAKE_PATH_MAX];
  snprintf(dir, sizeof dir, "%s/%s", lake, layer);
  DIR *d = opendir(dir);
  if (!d) return;
  char **names = NULL;
  int n = 0, cap = 0;
  for (struct dirent *e = readdir(d); e; e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) names = xrealloc(names, (size_t)(cap = cap ? cap * 2 : 16) * sizeof *names);
    names[n++] = xstrdup(e->d_name);
  }
  closedir(d);
  if (n) qsort(names, (size_t)n, sizeof *names, name_cmp);
  for (int i = 0; i < n; i++) {
    char p[LAKE_PATH_MAX + 300];
    snprintf(p, sizeof p, "%s/%s/_SUCCESS", dir, names[i]);
    size_t len = 0;
    char *text = NULL;
    if (access(p, F_OK) == 0) {
      snprintf(p, sizeof p, "%s/%s/_manifest.json", dir, names[i]);
      text = slurp(p, &len);
    }
    json_value v;
    char why[128];
    if (text && json_parse(text, len, &v, why, sizeof why) == 0) {
      if (lv->n == lv->cap)
        lv->m = xrealloc(lv->m, (size_t)(lv->cap = lv->cap ? lv->cap * 2 : 16) * sizeof *lv->m);
      manifest *m = &lv->m[lv->n++];
      snprintf(m->layer, sizeof m->layer, "%s", layer);
      snprintf(m->table, sizeof m->table, "%s", names[i]);
      m->v = v;
    } else if (text) {
      fprintf(stderr, "athlete report: warning: %s: %s (table left out)\n", p, why);
    }
    free(text);
    free(names[i]);
  }
  free(names);
}

static const manifest *find_manifest(const lake_view *lv, const char *layer, const char *table) {
  for (int i = 0; i < lv->n; i++)
    if (strcmp(lv->m[i].layer, layer) == 0 && strcmp(lv->m[i].table, table) == 0) return &lv->m[i];
  return NULL;
}

static batch *read_table(const char *lake, const char *layer, const char *table) {
  char dir[LAKE_PATH_MAX + 300], used[LAKE_PATH_MAX + 400];
  lake_table_dir(lake, layer, table, dir, sizeof dir);
  batch *b = NULL;
  ath_error e = {0};
  if (table_read_files(MPI_COMM_SELF, dir, table, &b, used, sizeof used, &e) != ATH_OK) {
    fprintf(stderr, "athlete report: warning: %s/%s: %s (left out)\n", layer, table, e.msg);
    return NULL;
  }
  return b;
}

/* A string cell as a NUL-terminated copy in buf (NULL for null). */
static const char *cell(const batch *b, int col, int64_t i, char *buf, size_t n) {
  if (col < 0 || col_is_null(&b->cols[col], i)) return NULL;
  size_t len;
  const uint8_t *p = col_str(&b->cols[col], i, &len);
  snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), (const char *)p);
  return buf;
}

/* ---- small keyed tallies ------------------------------------------------------------------- */

typedef struct tally {
  char key[128];
  int group;   /* e.g. the sex series */
  double v[8]; /* sums */
} tally;

typedef struct tallies {
  tally *t;
  int n, cap;
} tallies;

static tally *tally_at(tallies *ts, const char *key, int group) {
  for (int i = 0; i < ts->n; i++)
    if (ts->t[i].group == group && strcmp(ts->t[i].key, key) == 0) return &ts->t[i];
  if (ts->n == ts->cap)
    ts->t = xrealloc(ts->t, (size_t)(ts->cap = ts->cap ? ts->cap * 2 : 64) * sizeof *ts->t);
  tally *t = &ts->t[ts->n++];
  memset(t, 0, sizeof *t);
  snprintf(t->key, sizeof t->key, "%s", key);
  t->group = group;
  return t;
}

/* ---- page pieces -------------------------------------------------------------------------- */

static const svg_series sexes[] = {
    {"Female", "#d95f02"}, {"Male", "#1b9e77"}, {"unknown", "#7570b3"}};
static const svg_series medals[] = {
    {"Gold", "#c9a227"}, {"Silver", "#9e9e9e"}, {"Bronze", "#a0522d"}, {"other", "#5c6bc0"}};

static int sex_series(const char *s) {
  return !s ? 2 : strcmp(s, "Female") == 0 ? 0 : strcmp(s, "Male") == 0 ? 1 : 2;
}

static int medal_series(const char *m) {
  for (int k = 0; k < 3; k++)
    if (m && strcmp(m, medals[k].name) == 0) return k;
  return 3;
}

static void figure(FILE *f, const char *heading) {
  fputs("<div class=\"figure\"><h3>", f);
  svg_escape(f, heading);
  fputs("</h3>\n", f);
}

static void para(FILE *f, const char *cls, const char *text) {
  fprintf(f, "<p class=\"%s\">", cls);
  svg_escape(f, text);
  fputs("</p>\n", f);
}

/* Height against weight per sport and sex, over `medal_only` rows or all. */
static void chart_body_size(FILE *f, const batch *g, bool medal_only) {
  int cs = batch_find(g, "sport"), cm = batch_find(g, "medal"), cx = batch_find(g, "sex");
  int ch = batch_find(g, "avg_height"), cw = batch_find(g, "avg_weight"),
      cn = batch_find(g, "n_rows");
  tallies ts = {0};
  char b1[128], b2[64], b3[64];
  for (int64_t i = 0; i < g->nrows; i++) {
    const char *sport = cell(g, cs, i, b1, sizeof b1), *medal = cell(g, cm, i, b2, sizeof b2);
    if (!sport || (medal_only && !medal)) continue;
    tally *t = tally_at(&ts, sport, sex_series(cell(g, cx, i, b3, sizeof b3)));
    double n = (double)col_i64(&g->cols[cn], i);
    t->v[0] += n;
    if (!col_is_null(&g->cols[ch], i)) t->v[1] += col_f64(&g->cols[ch], i) * n, t->v[2] += n;
    if (!col_is_null(&g->cols[cw], i)) t->v[3] += col_f64(&g->cols[cw], i) * n, t->v[4] += n;
  }
  svg_point *pts = xcalloc((size_t)ts.n + 1, sizeof *pts);
  char **labels = xcalloc((size_t)ts.n + 1, sizeof *labels);
  int np = 0;
  for (int i = 0; i < ts.n; i++) {
    tally *t = &ts.t[i];
    if (t->v[2] <= 0 || t->v[4] <= 0) continue;
    double h = t->v[1] / t->v[2], w = t->v[3] / t->v[4];
    labels[np] = xmalloc(256);
    snprintf(labels[np], 256, "%s, %s: %.1f kg, %.1f cm, %.0f rows", t->key, sexes[t->group].name,
             w, h, t->v[0]);
    pts[np] = (svg_point){w, h, t->v[0], t->group, labels[np]};
    np++;
  }
  svg_scatter s = {.id = medal_only ? "chart-size-medal" : "chart-size-all",
                   .title = medal_only ? "Medallists: average height against weight per sport"
                                       : "All results: average height against weight per sport",
                   .x_label = "average weight (kg)",
                   .y_label = "average height (cm)",
                   .size_label = "joined result rows",
                   .series = sexes,
                   .nseries = 3,
                   .points = pts,
                   .npoints = np};
  svg_write_scatter(f, &s);
  for (int i = 0; i < np; i++)
    free(labels[i]);
  free(labels);
  free(pts);
  free(ts.t);
}

static int tally_total_desc(const void *a, const void *b) {
  const tally *x = a, *y = b;
  double tx = x->v[0] + x->v[1] + x->v[2] + x->v[3], ty = y->v[0] + y->v[1] + y->v[2] + y->v[3];
  if (tx != ty) return tx < ty ? 1 : -1;
  return strcmp(x->key, y->key);
}

#define TOP_COUNTRIES 15

static void chart_countries(FILE *f, const batch *g) {
  int cm = batch_find(g, "medal"), cc = batch_find(g, "country_noc"), cn = batch_find(g, "n_rows");
  tallies ts = {0};
  char b1[64], b2[64];
  for (int64_t i = 0; i < g->nrows; i++) {
    const char *medal = cell(g, cm, i, b1, sizeof b1), *noc = cell(g, cc, i, b2, sizeof b2);
    if (!medal || !noc) continue;
    tally_at(&ts, noc, 0)->v[medal_series(medal)] += (double)col_i64(&g->cols[cn], i);
  }
  if (ts.n) qsort(ts.t, (size_t)ts.n, sizeof *ts.t, tally_total_desc);
  int n = ts.n < TOP_COUNTRIES ? ts.n : TOP_COUNTRIES;
  const char **labels = xcalloc((size_t)n + 1, sizeof *labels);
  double *vals = xcalloc((size_t)n * 4 + 1, sizeof *vals);
  for (int i = 0; i < n; i++) {
    labels[i] = ts.t[i].key;
    memcpy(&vals[i * 4], ts.t[i].v, 4 * sizeof *vals);
  }
  svg_bars b = {.id = "chart-countries",
                .title = "Top countries by medal count, split by medal",
                .x_label = "medals (joined result rows with a medal)",
                .labels = labels,
                .nbars = n,
                .segments = medals,
                .nsegments = 4,
                .values = vals,
                .unit = "medals"};
  svg_write_bars(f, &b);
  free(labels);
  free(vals);
  free(ts.t);
}

static int64_t stat_of(const json_value *st, const char *k) {
  return (int64_t)json_num(json_get(st, k), -1);
}

static void fmt_count(FILE *f, int64_t v) {
  if (v < 0)
    fputs("<td>&ndash;</td>", f);
  else
    fprintf(f, "<td>%lld</td>", (long long)v);
}

/* Rows in and out of every stage: a table and a chart of where the rows went. */
static void quality_stages(FILE *f, const lake_view *lv) {
  static const char *layers[] = {"bronze", "silver", "gold"};
  fputs("<table class=\"counts\"><thead><tr><th>stage</th><th>table</th><th>rows in</th>"
        "<th>rows out</th><th>rejected</th><th>duplicates dropped</th>"
        "<th>results without bio</th></tr></thead><tbody>\n",
        f);
  const char *labels[32];
  char lbuf[32][96];
  double vals[32 * 4];
  int nb = 0;
  for (int l = 0; l < 3; l++)
    for (int i = 0; i < lv->n; i++) {
      const manifest *m = &lv->m[i];
      if (strcmp(m->layer, layers[l]) != 0) continue;
      const json_value *st = json_get(&m->v, "stage");
      int64_t rows = (int64_t)json_num(json_get(&m->v, "rows"), -1);
      fprintf(f, "<tr><td>%s</td><td>", layers[l]);
      svg_escape(f, m->table);
      fputs("</td>", f);
      int64_t in = st ? stat_of(st, "rows_in") : -1, out = st ? stat_of(st, "rows_out") : rows;
      int64_t rej = st ? stat_of(st, "rejects") : -1, dup = st ? stat_of(st, "duplicates") : -1;
      int64_t nobio = st ? stat_of(st, "results_without_bio") : -1;
      int64_t joined = st ? stat_of(st, "joined_rows") : -1;
      fmt_count(f, in);
      fmt_count(f, out);
      fmt_count(f, rej);
      fmt_count(f, dup);
      fmt_count(f, nobio);
      fputs("</tr>\n", f);
      if (!st || nb == 32) continue;
      snprintf(lbuf[nb], sizeof lbuf[nb], "%s %s", layers[l], m->table);
      labels[nb] = lbuf[nb];
      double *v = &vals[nb * 4];
      v[0] = (double)(joined >= 0 ? joined : out > 0 ? out : 0);
      v[1] = (double)(rej > 0 ? rej : 0);
      v[2] = (double)(dup > 0 ? dup : 0);
      v[3] = (double)(nobio > 0 ? nobio : 0);
      nb++;
    }
  fputs("</tbody></table>\n", f);
  para(f, "note",
       "Gold's rows in are silver result rows; its rows out are groups. In the chart a gold bar "
       "is the result rows joined with a bio row (every matching pair) and those without one.");
  static const svg_series fate[] = {{"kept (gold: joined)", "#4c78a8"},
                                    {"rejected", "#e45756"},
                                    {"duplicate dropped", "#f58518"},
                                    {"no bio row", "#b279a2"}};
  svg_bars b = {.id = "chart-stages",
                .title = "Where every stage's input rows went",
                .x_label = "rows",
                .labels = labels,
                .nbars = nb,
                .segments = fate,
                .nsegments = 4,
                .values = vals,
                .unit = "rows"};
  svg_write_bars(f, &b);
}

/* A reject reason without the rejected value: "invalid athlete_id 'abc'" -> "invalid
 * athlete_id", "wrong field count: 3 fields, expected 10" -> "wrong field count". */
static void reason_kind(const char *r, char *out, size_t n) {
  size_t k = strcspn(r, ":'");
  while (k > 0 && r[k - 1] == ' ')
    k--;
  snprintf(out, n, "%.*s", (int)(k < n ? k : n - 1), r);
}

static void quality_rejects(FILE *f, const char *lake, const lake_view *lv) {
  tallies ts = {0};
  for (int i = 0; i < lv->n; i++) {
    const manifest *m = &lv->m[i];
    if (strcmp(m->layer, "rejects") != 0) continue;
    batch *b = read_table(lake, "rejects", m->table);
    if (!b) continue;
    int cr = batch_find(b, "reason");
    char buf[256], kind[96], key[128];
    for (int64_t r = 0; cr >= 0 && r < b->nrows; r++) {
      const char *why = cell(b, cr, r, buf, sizeof buf);
      reason_kind(why ? why : "(no reason)", kind, sizeof kind);
      snprintf(key, sizeof key, "%s: %s", m->table, kind);
      tally_at(&ts, key, 0)->v[0] += 1;
    }
    batch_free(b);
  }
  if (ts.n == 0) {
    para(f, "note", "No rejects table holds a row.");
    free(ts.t);
    return;
  }
  const char **labels = xcalloc((size_t)ts.n, sizeof *labels);
  double *vals = xcalloc((size_t)ts.n, sizeof *vals);
  for (int i = 0; i < ts.n; i++)
    labels[i] = ts.t[i].key, vals[i] = ts.t[i].v[0];
  static const svg_series one[] = {{"rejected rows", "#e45756"}};
  svg_bars b = {.id = "chart-rejects",
                .title = "Rejected rows by table and reason",
                .x_label = "rejected rows (rejects/<table>; silver_<table> = rejected by silver)",
                .labels = labels,
                .nbars = ts.n,
                .segments = one,
                .nsegments = 1,
                .values = vals,
                .unit = "rows"};
  svg_write_bars(f, &b);
  free(labels);
  free(vals);
  free(ts.t);
}

/* Seconds per step and peak memory per rank, from the manifest of the last table written. */
static void run_costs(FILE *f, const lake_view *lv) {
  const manifest *last = find_manifest(lv, "gold", TABLE_GOLD);
  for (int i = lv->n - 1; !last && i >= 0; i--)
    if (strcmp(lv->m[i].layer, "rejects") != 0) last = &lv->m[i];
  const json_value *tm = last ? json_get(&last->v, "timings_s") : NULL;
  const json_value *rss = last ? json_get(&last->v, "peak_rss_bytes") : NULL;
  if (!tm || tm->type != JSON_OBJECT || tm->n == 0) {
    para(f, "note", "The lake's manifests record no step timings.");
  } else {
    fputs("<p class=\"note\">From the manifest of ", f);
    svg_escape(f, last->layer);
    fputc('/', f);
    svg_escape(f, last->table);
    fputs(", the last table the run wrote: rank 0's seconds per step of that command.</p>\n", f);
    const char **labels = xcalloc((size_t)tm->n, sizeof *labels);
    double *vals = xcalloc((size_t)tm->n, sizeof *vals);
    for (int i = 0; i < tm->n; i++)
      labels[i] = tm->keys[i], vals[i] = json_num(&tm->items[i], 0);
    static const svg_series secs[] = {{"seconds", "#4c78a8"}};
    svg_bars b = {.id = "chart-steps",
                  .title = "Seconds per step",
                  .x_label = "seconds (wall clock, rank 0)",
                  .labels = labels,
                  .nbars = tm->n,
                  .segments = secs,
                  .nsegments = 1,
                  .values = vals,
                  .unit = "s"};
    svg_write_bars(f, &b);
    free(labels);
    free(vals);
  }
  fputs("</div>\n", f);
  figure(f, "Peak memory per rank");
  if (!rss || rss->type != JSON_ARRAY || rss->n == 0) {
    para(f, "note", "The lake's manifests record no peak memory.");
    return;
  }
  char(*lbuf)[24] = xcalloc((size_t)rss->n, sizeof *lbuf);
  const char **labels = xcalloc((size_t)rss->n, sizeof *labels);
  double *vals = xcalloc((size_t)rss->n, sizeof *vals);
  for (int i = 0; i < rss->n; i++) {
    snprintf(lbuf[i], sizeof lbuf[i], "rank %d", i);
    labels[i] = lbuf[i];
    vals[i] = json_num(&rss->items[i], 0) / 1e6;
  }
  static const svg_series mem[] = {{"peak RSS", "#72b7b2"}};
  svg_bars b = {.id = "chart-memory",
                .title = "Peak memory per rank",
                .x_label = "peak resident set (MB) when the table was committed",
                .labels = labels,
                .nbars = rss->n,
                .segments = mem,
                .nsegments = 1,
                .values = vals,
                .unit = "MB"};
  svg_write_bars(f, &b);
  free(lbuf);
  free(labels);
  free(vals);
}

static const char *style =
    "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:0 16px;"
    "color:#222}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid "
    "#ddd}h3{font-size:1.05em}.figure{overflow-x:auto}.figure svg{width:100%;min-width:480px;"
    "height:auto;display:block}.note{color:#555;font-size:.92em}table.counts{border-collapse:"
    "collapse;font-size:.92em;display:block;overflow-x:auto}table.counts td,table.counts th{"
    "border:1px solid #ddd;padding:3px 8px;text-align:right}table.counts td:nth-child(-n+2),"
    "table.counts th:nth-child(-n+2){text-align:left}.axis-label{fill:#222}.bar-label{fill:#222}";

static void write_page(FILE *f, const char *lake, const lake_view *lv) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">\n<title>athlete report: ",
        f);
  svg_escape(f, lake);
  fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>athlete report</h1>\n", style);
  fputs("<p class=\"note\">Lake <code>", f);
  svg_escape(f, lake);
  fprintf(f, "</code>, %d committed tables; athlete %s. Hover a mark for its values.</p>\n", lv->n,
          ATHLETE_VERSION);

  fputs("<h2 id=\"gold\">Gold: avg_stats</h2>\n", f);
  batch *g = find_manifest(lv, "gold", TABLE_GOLD) ? read_table(lake, "gold", TABLE_GOLD) : NULL;
  if (g) {
    para(f, "note",
         "A sport's mark is the mean of its gold groups' averages weighted by their n_rows "
         "(groups with a null average left out); its area is the number of joined result rows.");
    figure(f, "Average height against average weight per sport, all results");
    chart_body_size(f, g, false);
    fputs("</div>\n", f);
    figure(f, "Average height against average weight per sport, medallists (medal not null)");
    chart_body_size(f, g, true);
    fputs("</div>\n", f);
    figure(f, "Top countries by medal count");
    chart_countries(f, g);
    fputs("</div>\n", f);
    batch_free(g);
  } else {
    para(f, "note", "gold/avg_stats is not committed in this lake: run silver-to-gold first.");
  }

  fputs("<h2 id=\"quality\">Data quality</h2>\n", f);
  figure(f, "Rows in and out of every stage");
  quality_stages(f, lv);
  fputs("</div>\n", f);
  figure(f, "Rejects by reason");
  quality_rejects(f, lake, lv);
  fputs("</div>\n", f);

  fputs("<h2 id=\"run\">The run</h2>\n", f);
  figure(f, "Seconds per step");
  run_costs(f, lv);
  fputs("</div>\n</body></html>\n", f);
}

int report_html_write(const char *lake, const char *out, ath_error *err) {
  static const char *layers[] = {"bronze", "silver", "gold", "rejects"};
  lake_view lv = {0};
  for (int i = 0; i < 4; i++)
    scan_layer(lake, layers[i], &lv);
  int rc = ATH_OK;
  if (lv.n == 0) {
    rc = ath_fail(err, ATH_ERR, "%s: no committed table (run the pipeline first)", lake);
  } else {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) {
      rc = ath_fail(err, ATH_ERR, "out of memory");
    } else {
      write_page(f, lake, &lv);
      fclose(f);
      rc = fs_write_file(out, buf, n, true, NULL, err);
    }
    free(buf);
  }
  for (int i = 0; i < lv.n; i++)
    json_free(&lv.m[i].v);
  free(lv.m);
  return rc;
}
