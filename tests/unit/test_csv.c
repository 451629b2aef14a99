/* Unit tests of the CSV reader core: the tokeniser model against libcsv itself, state-map
 * algebra, and every split point of small files against the sequential parse (the MPI driver's
 * plan simulated without MPI), plus the public API on MPI_COMM_SELF. */
#include "test.h"

#include "csv/csv_core.h"
#include "csv/csv_reader.h"
#include "csv_sim.h"

#include <csv.h>
#include <dirent.h>
#include <stdlib.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)rng_state;
}

/* Random bytes from an alphabet rich in CSV syntax. */
static void random_bytes(uint8_t *p, size_t n) {
  static const uint8_t alpha[] = {'a',  'b',  ',', ',',  '"',  '"', '\r',
                                  '\n', '\n', ' ', 0xC3, 0xA9, 0xFF};
  for (size_t i = 0; i < n; i++)
    p[i] = alpha[rnd() % sizeof alpha];
}

/* Checks every 2-way split, every 3-way split (small inputs) or a sample of them, and
 * splits into more pieces than bytes, against the sequential parse. */
static void check_all_splits(const uint8_t *f, size_t S, const char *what) {
  parsed seq = simulate_seq(f, S);
  int bad = 0;
  for (size_t k = 0; k <= S && !bad; k++) {
    int64_t cuts[3] = {0, (int64_t)k, (int64_t)S};
    parsed p = simulate(f, S, cuts, 2);
    if (!same_parse(&seq, &p)) {
      FAILF("%s: 2-way split at %zu differs", what, k);
      bad = 1;
    }
    parsed_free(&p);
  }
  size_t step = S > 150 ? S / 40 + 1 : 1;
  for (size_t i = 0; i <= S && !bad; i += step)
    for (size_t j = i; j <= S && !bad; j += step) {
      int64_t cuts[4] = {0, (int64_t)i, (int64_t)j, (int64_t)S};
      parsed p = simulate(f, S, cuts, 3);
      if (!same_parse(&seq, &p)) {
        FAILF("%s: 3-way split %zu,%zu differs", what, i, j);
        bad = 1;
      }
      parsed_free(&p);
    }
  for (int np = 2; np <= 6 && !bad; np++) { /* the MPI formula r*S/N, with N up to S+3 */
    int n = np == 6 ? (int)S + 3 : np;
    int64_t *cuts = calloc((size_t)n + 1, sizeof *cuts);
    for (int r = 0; r <= n; r++)
      cuts[r] = (int64_t)S * r / n;
    parsed p = simulate(f, S, cuts, n);
    if (!same_parse(&seq, &p)) {
      FAILF("%s: %d ranks differ", what, n);
      bad = 1;
    }
    parsed_free(&p);
    free(cuts);
  }
  parsed_free(&seq);
}

static const char *src_dir(void) {
  const char *s = getenv("ATHLETE_SRC");
  return s ? s : ".";
}

/* Row i of a parse as "f1|f2|..." with nulls as \N (for readable checks). */
static const char *row_text(const batch *b, int64_t i) {
  static char buf[1024];
  size_t o = 0;
  for (int j = 0; j < b->ncols; j++) {
    const column *c = &b->cols[j];
    if (j) buf[o++] = '|';
    if (col_is_null(c, i)) {
      o += (size_t)snprintf(buf + o, sizeof buf - o, "\\N");
    } else if (c->type == COL_STRING) {
      size_t n;
      const uint8_t *s = col_str(c, i, &n);
      o += (size_t)snprintf(buf + o, sizeof buf - o, "%.*s", (int)n, (const char *)s);
    } else {
      o += (size_t)snprintf(buf + o, sizeof buf - o, "%lld", (long long)col_i64(c, i));
    }
  }
  buf[o] = '\0';
  return buf;
}

static parsed parse_str(const char *s) {
  return simulate_seq((const uint8_t *)s, strlen(s));
}

/* ---- the model against libcsv ------------------------------------------------------------- */

enum { REF_MAX = 200 }; /* more than the bytes of any random input */

typedef struct ref_ctx {
  batch *rows;
  int nfields, bad;
  int64_t good, rejected;
  uint8_t fields[REF_MAX][REF_MAX];
  size_t flen[REF_MAX];
} ref_ctx;

static void ref_field(void *s, size_t len, void *data) {
  ref_ctx *r = data;
  memcpy(r->fields[r->nfields], s, len);
  r->flen[r->nfields] = len;
  if (!csv_utf8_valid(s, len)) r->bad = 1;
  r->nfields++;
}

/* Reference record handling: whole-buffer libcsv, field count and per-field UTF-8 checks. */
static void ref_row(int c, void *data) {
  ref_ctx *r = data;
  if (!r->rows) { /* the header: make the schema */
    field_def fd[REF_MAX];
    for (int i = 0; i < r->nfields; i++)
      fd[i] = (field_def){"c", COL_STRING, true};
    r->rows = batch_new(fd, r->nfields);
  } else if (r->bad || r->nfields != r->rows->ncols) {
    r->rejected++;
  } else {
    for (int i = 0; i < r->nfields; i++) {
      if (r->flen[i])
        col_append_str(&r->rows->cols[i], r->fields[i], r->flen[i]);
      else
        col_append_null(&r->rows->cols[i]);
    }
    r->rows->nrows++;
    r->good++;
  }
  r->nfields = r->bad = 0;
}

static int no_space(unsigned char c) {
  return 0;
}

TEST(model_matches_libcsv_on_random_bytes) {
  uint8_t buf[160];
  int bad = 0;
  for (int iter = 0; iter < 20000 && !bad; iter++) {
    size_t n = 1 + rnd() % sizeof buf;
    random_bytes(buf, n);
    buf[0] = 'a'; /* a header exists */
    static ref_ctx ref;
    memset(&ref, 0, sizeof ref);
    struct csv_parser p;
    csv_init(&p, 0);
    csv_set_space_func(&p, no_space);
    csv_parse(&p, buf, n, ref_field, ref_row, &ref);
    bool unterminated = p.pstate == 2 && p.quoted; /* FIELD_BEGUN inside quotes */
    int64_t before = ref.rejected;
    csv_fini(&p, ref_field, ref_row, &ref);
    if (unterminated && ref.rejected == before && ref.rows && ref.good) {
      /* the last record was counted good by the reference but is unterminated */
      for (int i = 0; i < ref.rows->ncols; i++)
        ref.rows->cols[i].n--;
      ref.rows->nrows--, ref.good--, ref.rejected++;
    }
    csv_free(&p);
    parsed got = simulate_seq(buf, n);
    if (!got.rows) { /* a broken header (tested elsewhere) */
      batch_free(ref.rows);
      continue;
    }
    if (!got.ok || !ref.rows || got.rows->nrows != ref.good || got.rejects->nrows != ref.rejected ||
        !same_batch(got.rows, ref.rows)) {
      FAILF("model and libcsv disagree on %zu bytes (iteration %d): got %lld/%lld want %lld/%lld",
            n, iter, (long long)(got.rows ? got.rows->nrows : -1),
            (long long)(got.rejects ? got.rejects->nrows : -1), (long long)ref.good,
            (long long)ref.rejected);
      bad = 1;
    }
    parsed_free(&got);
    batch_free(ref.rows);
  }
}

/* ---- state maps --------------------------------------------------------------------------- */

TEST(smap_matches_run_and_composes_associatively) {
  uint8_t buf[100000];
  for (int iter = 0; iter < 200; iter++) {
    size_t n = 1 + rnd() % (iter < 20 ? sizeof buf : 300);
    random_bytes(buf, n);
    size_t i = rnd() % (n + 1), j = i + rnd() % (n - i + 1);
    csv_smap whole = csv_smap_of(buf, n);
    csv_smap x = csv_smap_of(buf, i), y = csv_smap_of(buf + i, j - i);
    csv_smap z = csv_smap_of(buf + j, n - j);
    csv_smap l = csv_smap_then(csv_smap_then(x, y), z), r = csv_smap_then(x, csv_smap_then(y, z));
    csv_smap id = csv_smap_identity();
    for (int s = 0; s < CSV_NSTATES; s++) {
      CHECK_INT(whole.to[s], csv_run(s, buf, n));
      CHECK_INT(l.to[s], whole.to[s]);
      CHECK_INT(r.to[s], whole.to[s]);
      CHECK_INT(csv_smap_then(id, x).to[s], x.to[s]);
    }
    CHECK_INT(l.lf, whole.lf);
    CHECK_INT(r.lf, whole.lf);
  }
}

/* The block scanner behind csv_run / csv_first_row_state / csv_smap_of against csv_step byte
 * by byte, on inputs dense and sparse in syntax (long ordinary runs cross 64-byte blocks). */
TEST(scanner_matches_bytewise_steps) {
  static const uint8_t sparse[] = {'a', 'b', 'c', 'd', 'e',  'f',  'g', 'h', 'i', 'j',  'k',
                                   'l', 'm', 'n', 'o', 0xC3, 0xA9, ' ', ',', '"', '\n', '\r'};
  uint8_t buf[1000];
  for (int iter = 0; iter < 4000; iter++) {
    size_t n = rnd() % sizeof buf;
    if (iter % 2)
      random_bytes(buf, n);
    else
      for (size_t i = 0; i < n; i++) /* mostly ordinary bytes; the last 4 are syntax */
        buf[i] = sparse[rnd() % 8 ? rnd() % (sizeof sparse - 4) : rnd() % sizeof sparse];
    for (int s = 0; s < CSV_NSTATES; s++) {
      int st = s;
      int64_t first = st == CSV_ROW ? 0 : -1, lf = 0;
      for (size_t i = 0; i < n; i++) {
        st = csv_step(st, buf[i]);
        lf += buf[i] == '\n';
        if (first < 0 && st == CSV_ROW) first = (int64_t)i + 1;
      }
      CHECK_INT(csv_run(s, buf, n), st);
      CHECK_INT(csv_first_row_state(s, buf, n), first);
      csv_smap m = csv_smap_of(buf, n);
      CHECK_INT(m.to[s], st);
      CHECK_INT(m.lf, lf);
    }
  }
}

/* ---- every split point -------------------------------------------------------------------- */

TEST(every_split_of_edge_files) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/data/edge", src_dir());
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  if (!d) return;
  int files = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strstr(e->d_name, ".csv")) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t n = 0;
    uint8_t *f = (uint8_t *)test_read_file(path, &n);
    CHECK(f != NULL);
    if (f) check_all_splits(f, n, e->d_name);
    free(f);
    files++;
  }
  closedir(d);
  CHECK(files >= 12);
}

static const char *const quirky[] = {
    "a,b\n1,\"x\ny\"\n2,\"q\"\"q\"\n3,ab\"c\n\n4, s \r\n5,\"\"\n",
    "a,b\r\n\"1\r\n\",\"x,\"\"y\"\"\"\r\n2,\"\"\"\"\r\n3,z",
    "\xEF\xBB\xBF\r\n\na,b\n\"x\"y,1\n2,2\n\"3\",\"3\"\n",
    "a,b\n1,\"unterminated\n2,2\n3,3\n",
    "a,b\n1\n1,2,3\n\xC3\xA9,\xFF\n\"ok\",\"\xE2\x82\xAC\"",
    "a,b\r1,2\r\r3,\"4\r\"\r",
    "a\n\n\n",
    "\"a\"\"\",\"b\n\"\n\"\"\"\",\"\"\n,\n",
    "a,b\n\"1\"\"\",\"2\" ,3\n4,5\n\"\"\"x\",\"\"\"\"\"\"\"\n",
};

TEST(every_split_of_quirky_strings) {
  for (size_t i = 0; i < sizeof quirky / sizeof *quirky; i++) {
    char what[32];
    snprintf(what, sizeof what, "quirky[%zu]", i);
    check_all_splits((const uint8_t *)quirky[i], strlen(quirky[i]), what);
  }
}

TEST(every_split_of_random_bytes) {
  uint8_t buf[64];
  for (int iter = 0; iter < 300; iter++) {
    size_t n = 1 + rnd() % sizeof buf;
    random_bytes(buf, n);
    buf[0] = 'h';
    check_all_splits(buf, n, "random");
  }
}

/* ---- semantics ---------------------------------------------------------------------------- */

TEST(values_nulls_quotes_and_spaces) {
  parsed p =
      parse_str("\xEF\xBB\xBFid,name\r\n1, Ann \r\n2,\"\"\r\n3,\r\n\"4\",\"a\"\"b,c\r\nd\"\r\n"
                "5,called \"Flash\"\r\n");
  CHECK_STR(p.rows->cols[0].name, "id");
  CHECK_INT(p.rows->nrows, 5);
  CHECK_INT(p.rejects->nrows, 0);
  CHECK_STR(row_text(p.rows, 0), "1| Ann ");
  CHECK_STR(row_text(p.rows, 1), "2|\\N");
  CHECK_STR(row_text(p.rows, 2), "3|\\N");
  CHECK_STR(row_text(p.rows, 3), "4|a\"b,c\r\nd");
  CHECK_STR(row_text(p.rows, 4), "5|called \"Flash\"");
  parsed_free(&p);
}

TEST(lone_cr_ends_a_record_but_not_a_line) {
  parsed p = parse_str("a,b\r1,2\r3\r4,5");
  CHECK_INT(p.rows->nrows, 2);
  CHECK_STR(row_text(p.rows, 1), "4|5");
  CHECK_INT(p.rejects->nrows, 1);
  CHECK_INT(col_i64(&p.rejects->cols[1], 0), 1);
  CHECK_INT(col_i64(&p.rejects->cols[2], 0), 8);
  parsed_free(&p);
}

/* Reject i: line, offset, reason (prefix) and raw. */
static void check_reject(const parsed *p, int64_t i, int64_t line, int64_t off, const char *reason,
                         const char *raw) {
  const batch *r = p->rejects;
  CHECK(i < r->nrows);
  if (i >= r->nrows) return;
  size_t n;
  const uint8_t *s = col_str(&r->cols[3], i, &n);
  CHECK_INT(col_i64(&r->cols[1], i), line);
  CHECK_INT(col_i64(&r->cols[2], i), off);
  CHECK_MEM(s, strlen(reason) < n ? strlen(reason) : n, reason, strlen(reason));
  s = col_str(&r->cols[4], i, &n);
  if (raw) CHECK_MEM(s, n, raw, strlen(raw));
  s = col_str(&r->cols[0], i, &n);
  CHECK_MEM(s, n, "t.csv", 5);
}

TEST(each_reject_reason_with_its_line) {
  parsed p = parse_str("a,b\n\"x\ny\",1\n2\n\n3,\xFF\n4,4,4\n5,\"open\n6,6\n");
  CHECK_INT(p.rows->nrows, 1);
  CHECK_INT(p.rejects->nrows, 4);
  check_reject(&p, 0, 4, 12, "wrong field count: 1 fields, expected 2", "2");
  check_reject(&p, 1, 6, 15, "invalid UTF-8", "3,\xFF");
  check_reject(&p, 2, 7, 19, "wrong field count: 3 fields, expected 2", "4,4,4");
  check_reject(&p, 3, 8, 25, "unterminated quoted field", "5,\"open\n6,6\n");
  parsed_free(&p);
}

TEST(unterminated_quote_raw_is_cut_at_4k) {
  size_t n = 20000;
  char *s = malloc(n + 1);
  memcpy(s, "a,b\n1,2\n3,\"", 11);
  for (size_t i = 11; i < n; i++)
    s[i] = (i % 50) ? 'x' : '\n';
  s[n] = '\0';
  parsed seq = parse_str(s);
  CHECK_INT(seq.rows->nrows, 1);
  check_reject(&seq, 0, 3, 8, "unterminated quoted field", NULL);
  CHECK_INT(seq.rejects->cols[4].offsets[1], CSV_RAW_MAX);
  for (int k = 0; k < 5; k++) { /* a piece boundary anywhere in the swallowed tail truncates */
    int64_t cut = k == 0 ? 9 : (int64_t)(rnd() % n);
    int64_t cuts[4] = {0, cut, cut + (int64_t)(rnd() % (n - (size_t)cut)), (int64_t)n};
    parsed p = simulate((const uint8_t *)s, n, cuts, 3);
    CHECK(same_parse(&seq, &p));
    parsed_free(&p);
  }
  parsed_free(&seq);
  free(s);
}

TEST(header_errors) {
  static const char *const bad[] = {"", "\r\n\n", "a,\"b\n1,2\n", "a,\xFF\n", "a,b,a\n1,2,3\n"};
  static const char *const want[] = {"empty file", "empty file", "unterminated quoted field",
                                     "invalid UTF-8", "duplicate column name 'a'"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char **names = NULL;
    int nc = 0;
    size_t end;
    int64_t lf;
    ath_error err = {0};
    int rc = csv_parse_header((const uint8_t *)bad[i], strlen(bad[i]), true, "h.csv", &names, &nc,
                              &end, &lf, &err);
    CHECK_INT(rc, ATH_ERR);
    CHECK(strstr(err.msg, want[i]) != NULL && strstr(err.msg, "h.csv") != NULL);
  }
  char **names = NULL;
  int nc = 0;
  size_t end;
  int64_t lf;
  CHECK_INT(
      csv_parse_header((const uint8_t *)"a,b", 3, false, "h.csv", &names, &nc, &end, &lf, NULL),
      CSV_NEED_MORE);
}

TEST(utf8_validation) {
  CHECK(csv_utf8_valid((const uint8_t *)"plain ascii text, long enough", 29));
  CHECK(csv_utf8_valid((const uint8_t *)"K\xC3\xA1roly \xE2\x82\xAC \xF0\x9F\x8F\x85", 16));
  CHECK(!csv_utf8_valid((const uint8_t *)"\xC0\xAF", 2));          /* overlong */
  CHECK(!csv_utf8_valid((const uint8_t *)"\xED\xA0\x80", 3));      /* surrogate */
  CHECK(!csv_utf8_valid((const uint8_t *)"\xF4\x90\x80\x80", 4));  /* > U+10FFFF */
  CHECK(!csv_utf8_valid((const uint8_t *)"abcdefgh\xE2\x82", 10)); /* truncated */
  CHECK(!csv_utf8_valid((const uint8_t *)"\x80", 1));
  /* a sequence, a broken one and a cut one at every offset of a longer ASCII buffer (the
   * validator skips ASCII a block at a time) */
  for (size_t len = 1; len <= 70; len++)
    for (size_t at = 0; at + 1 <= len; at++) {
      uint8_t buf[80];
      memset(buf, 'x', sizeof buf);
      memcpy(buf + at, "\xE2\x82\xAC", 3);
      CHECK(csv_utf8_valid(buf, len) == (at + 3 <= len));
      memcpy(buf + at, "\xC0\xAF", 2);
      CHECK(!csv_utf8_valid(buf, len));
    }
}

/* ---- the MPI API on one rank -------------------------------------------------------------- */

TEST(api_reads_edge_files_like_the_core) {
  test_mpi_init();
  char path[1024];
  snprintf(path, sizeof path, "%s/data/edge/bom_crlf.csv", src_dir());
  batch *rows = NULL, *rej = NULL;
  csv_stats st;
  ath_error err = {0};
  const char *req[] = {"id", "description"};
  csv_read_opts o = {.display_name = "bom_crlf.csv", .required = req, .nrequired = 2};
  int rc = csv_read_table(MPI_COMM_SELF, path, &o, &rows, &rej, &st, &err);
  CHECK_INT(rc, ATH_OK);
  if (rc != ATH_OK) return;
  size_t n;
  uint8_t *f = (uint8_t *)test_read_file(path, &n);
  parsed p = simulate_seq(f, n);
  CHECK(same_batch(rows, p.rows) && same_batch(rej, p.rejects));
  CHECK_INT(st.records, rows->nrows);
  CHECK_INT(st.bytes, (int64_t)n);
  CHECK_INT(st.lines, 6);
  parsed_free(&p);
  free(f);
  batch_free(rows);
  batch_free(rej);
}

typedef struct sunk {
  batch *rows;
  int64_t *offset, *line;
  size_t n, cap, calls;
} sunk;

static int sink_rows(void *ctx, const batch *rows, const csv_positions *pos, ath_error *err) {
  sunk *s = ctx;
  if (!s->rows) s->rows = batch_new_like(rows);
  CHECK_INT(pos->n, rows->nrows);
  for (int64_t i = 0; i < rows->nrows; i++) {
    batch_append_row(s->rows, rows, i);
    size_t cap = s->cap;
    grow_array((void **)&s->offset, &cap, s->n + 1, sizeof *s->offset);
    grow_array((void **)&s->line, &s->cap, s->n + 1, sizeof *s->line);
    s->offset[s->n] = pos->offset[i];
    s->line[s->n++] = pos->line[i];
  }
  s->calls++;
  return ATH_OK;
}

/* Through a sink and a small window, every edge file gives the rows of a plain read, each with
 * the offset of its record's first byte and the line of that byte (LF bytes before it + 1). */
TEST(api_sink_gives_rows_with_offsets_and_lines) {
  test_mpi_init();
  const char *files[] = {"bom_crlf.csv",    "blank_lines.csv",  "quoted_newline_boundary.csv",
                         "stray_quote.csv", "invalid_utf8.csv", "no_final_newline.csv"};
  for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/data/edge/%s", src_dir(), files[k]);
    batch *rows = NULL, *rej = NULL, *all = NULL, *rej2 = NULL;
    csv_stats st, st2;
    ath_error err = {0};
    csv_read_opts plain = {.display_name = files[k]};
    CHECK_INT(csv_read_table(MPI_COMM_SELF, path, &plain, &all, &rej2, &st2, &err), ATH_OK);
    sunk s = {0};
    csv_sink sink = {sink_rows, &s};
    csv_read_opts o = {.display_name = files[k], .window = 16, .sink = &sink};
    CHECK_INT(csv_read_table(MPI_COMM_SELF, path, &o, &rows, &rej, &st, &err), ATH_OK);
    if (!rows || !all) continue;
    CHECK_INT(rows->nrows, 0);
    CHECK_INT(st.records, st2.records);
    if (all->nrows > 1) CHECK(s.calls > 1);
    CHECK(all->nrows == 0 || (s.rows && same_batch(s.rows, all)));
    CHECK(same_batch(rej, rej2));
    size_t n;
    char *f = test_read_file(path, &n);
    for (size_t i = 0; i < s.n; i++) {
      int64_t lf = 0;
      for (int64_t b = 0; b < s.offset[i]; b++)
        lf += f[b] == '\n';
      CHECK_INT(s.line[i], lf + 1);
      CHECK(s.offset[i] == 0 || f[s.offset[i] - 1] == '\n' || f[s.offset[i] - 1] == '\r');
    }
    free(f);
    free(s.offset);
    free(s.line);
    batch_free(s.rows);
    batch_free(rows);
    batch_free(rej);
    batch_free(all);
    batch_free(rej2);
  }
}

TEST(api_errors_name_the_file) {
  test_mpi_init();
  batch *rows = NULL, *rej = NULL;
  csv_stats st;
  ath_error err = {0};
  csv_read_opts none = {0};
  int rc = csv_read_table(MPI_COMM_SELF, "/nonexistent/x.csv", &none, &rows, &rej, &st, &err);
  CHECK_INT(rc, ATH_ERR);
  CHECK(strstr(err.msg, "/nonexistent/x.csv") != NULL);
  CHECK(rows == NULL && rej == NULL);
  char path[1024];
  snprintf(path, sizeof path, "%s/data/edge/missing_column.csv", src_dir());
  const char *req[] = {"id", "description"};
  ath_error err2 = {0};
  csv_read_opts o = {.display_name = "missing_column.csv", .required = req, .nrequired = 2};
  rc = csv_read_table(MPI_COMM_SELF, path, &o, &rows, &rej, &st, &err2);
  CHECK_INT(rc, ATH_ERR);
  CHECK(strstr(err2.msg, "missing_column.csv") && strstr(err2.msg, "'description'"));
  snprintf(path, sizeof path, "%s/data/edge/empty.csv", src_dir());
  ath_error err3 = {0};
  o = (csv_read_opts){.display_name = "empty.csv"};
  rc = csv_read_table(MPI_COMM_SELF, path, &o, &rows, &rej, &st, &err3);
  CHECK_INT(rc, ATH_ERR);
  CHECK(strstr(err3.msg, "empty.csv: empty file") != NULL);
  snprintf(path, sizeof path, "%s/data/edge/header_only.csv", src_dir());
  o = (csv_read_opts){.display_name = "header_only.csv"};
  rc = csv_read_table(MPI_COMM_SELF, path, &o, &rows, &rej, &st, &err);
  CHECK_INT(rc, ATH_OK);
  CHECK(rows && rows->nrows == 0 && rows->ncols == 3 && rej && rej->nrows == 0);
  batch_free(rows);
  batch_free(rej);
}
