/* The CSV reader's partitioned parse, simulated without MPI (see csv_sim.h). */
#include "csv_sim.h"

#include <stdlib.h>
#include <string.h>

void parsed_free(parsed *p) {
  batch_free(p->rows);
  batch_free(p->rejects);
}

/* Parses file bytes f[0..S) as ranks would with the pieces [cuts[r], cuts[r+1]): header first,
 * pieces clipped to the data, state maps composed in order, tails planned, and each piece
 * given a private copy of exactly the bytes it would read (so ASan sees any overread). */
parsed simulate(const uint8_t *f, size_t S, const int64_t *cuts, int np) {
  parsed out = {0};
  char **names = NULL;
  int ncols = 0;
  size_t end = 0;
  int64_t hlf = 0;
  size_t bom = csv_bom_len(f, S);
  ath_error err = {0};
  if (csv_parse_header(f + bom, S - bom, true, "t.csv", &names, &ncols, &end, &hlf, &err))
    return out;
  int64_t ds = (int64_t)(bom + end);
  field_def *fd = calloc((size_t)ncols, sizeof *fd);
  for (int i = 0; i < ncols; i++)
    fd[i] = (field_def){names[i], COL_STRING, true};
  out.rows = batch_new(fd, ncols);
  out.rejects = csv_rejects_new();
  free(fd);
  csv_names_free(names, ncols);
  csv_piece_info *info = calloc((size_t)np, sizeof *info);
  int64_t *a = calloc((size_t)np, sizeof *a), *b = calloc((size_t)np, sizeof *b);
  int *start = calloc((size_t)np, sizeof *start);
  int64_t *line = calloc((size_t)np, sizeof *line);
  csv_smap prefix = csv_smap_identity();
  for (int r = 0; r < np; r++) {
    a[r] = cuts[r] > ds ? cuts[r] : ds;
    b[r] = cuts[r + 1] > ds ? cuts[r + 1] : ds;
    csv_smap m = csv_smap_of(f + a[r], (size_t)(b[r] - a[r]));
    start[r] = prefix.to[CSV_ROW];
    line[r] = 1 + hlf + prefix.lf;
    int64_t first = csv_first_row_state(start[r], f + a[r], (size_t)(b[r] - a[r]));
    info[r] = (csv_piece_info){first < 0 ? -1 : a[r] + first, m.lf, m.to[start[r]], 0};
    prefix = csv_smap_then(prefix, m);
  }
  out.ok = 1;
  for (int r = 0; r < np; r++) {
    int64_t tail_end, read_end;
    csv_plan_tail(info, np, r, b[r], (int64_t)S, &tail_end, &read_end);
    size_t len = (size_t)(read_end - a[r]);
    uint8_t *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, f + a[r], len);
    csv_chunk ch = {copy, a[r], (int64_t)len, b[r], start[r], line[r], read_end < tail_end};
    int64_t nrec = 0, nrej = 0;
    if (csv_parse_chunk(&ch, "t.csv", out.rows, out.rejects, &nrec, &nrej, &err)) out.ok = 0;
    free(copy);
  }
  if (!batch_sync_rows(out.rows)) out.ok = 0;
  free(info), free(a), free(b), free(start), free(line);
  return out;
}

parsed simulate_seq(const uint8_t *f, size_t S) {
  int64_t cuts[2] = {0, (int64_t)S};
  return simulate(f, S, cuts, 1);
}

/* True when two batches hold the same rows in the same order (values and nulls). */
bool same_batch(const batch *x, const batch *y) {
  if (x->ncols != y->ncols || x->nrows != y->nrows) return false;
  for (int j = 0; j < x->ncols; j++) {
    const column *c = &x->cols[j], *d = &y->cols[j];
    for (int64_t i = 0; i < x->nrows; i++) {
      if (col_is_null(c, i) != col_is_null(d, i)) return false;
      if (c->type != COL_STRING) {
        if (col_i64(c, i) != col_i64(d, i)) return false;
        continue;
      }
      size_t n1, n2;
      const uint8_t *s1 = col_str(c, i, &n1), *s2 = col_str(d, i, &n2);
      if (n1 != n2 || (n1 && memcmp(s1, s2, n1) != 0)) return false;
    }
  }
  return true;
}

bool same_parse(const parsed *x, const parsed *y) {
  if (!x->rows || !y->rows) return x->rows == y->rows;
  return x->ok && y->ok && same_batch(x->rows, y->rows) && same_batch(x->rejects, y->rejects);
}
