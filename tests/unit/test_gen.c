/* Unit tests of the synthetic data generator. The files are checked by scanning them with an
 * independent RFC 4180 reader written here (Python csv semantics: a quote inside an unquoted
 * field is literal), never by trusting the generator's own counters. */
#include "gen/gen.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

static const char *const BIO_HEADER =
    "athlete_id,name,sex,born,height,weight,country,country_noc,description,special_notes";
static const char *const RES_HEADER =
    "edition,edition_id,country_noc,sport,event,result_id,athlete,athlete_id,pos,medal,"
    "isTeamSport";

/* ---- reading the files back ---------------------------------------------------------------- */

typedef struct field {
  char *s; /* unquoted value, NUL-terminated, malloc'd */
  size_t n;
  int quoted, stray_quote;
} field;

typedef struct record {
  size_t start, end; /* raw bytes of the record, line terminator excluded */
  int nf;
  field f[16];
} record;

typedef struct table {
  char *buf; /* the whole file */
  size_t len;
  record *rec;
  int nrec, blank_lines, lf_only_ends, crlf_ends;
  int quoted_comma, quoted_quote, quoted_lf, quoted_crlf, bad_quote_close;
} table;

static void add_char(field *f, size_t *cap, char c) {
  if (f->n + 2 > *cap) f->s = realloc(f->s, *cap = *cap * 2 + 16);
  f->s[f->n++] = c;
  f->s[f->n] = '\0';
}

/* Parses one field starting at *p; leaves *p on the byte after it (',' or line end or EOF). */
static void parse_field(table *t, size_t *p, field *f) {
  size_t cap = 0, i = *p;
  const char *b = t->buf;
  memset(f, 0, sizeof *f);
  add_char(f, &cap, 'x');
  f->n = 0;
  f->s[0] = '\0';
  if (i < t->len && b[i] == '"') {
    f->quoted = 1;
    for (i++; i < t->len; i++) {
      if (b[i] == '"' && i + 1 < t->len && b[i + 1] == '"') {
        t->quoted_quote++;
        add_char(f, &cap, b[i++]);
      } else if (b[i] == '"') {
        i++;
        break;
      } else {
        if (b[i] == '\n') (i > 0 && b[i - 1] == '\r') ? t->quoted_crlf++ : t->quoted_lf++;
        if (b[i] == ',') t->quoted_comma++;
        add_char(f, &cap, b[i]);
      }
    }
    if (i < t->len && b[i] != ',' && b[i] != '\r' && b[i] != '\n') t->bad_quote_close++;
  }
  for (; i < t->len && b[i] != ',' && b[i] != '\n' && !(b[i] == '\r' && b[i + 1] == '\n'); i++) {
    if (b[i] == '"') f->stray_quote = 1;
    add_char(f, &cap, b[i]);
  }
  *p = i;
}

/* Parses records from offset `from` to the end; the first record is the header. */
static void parse_table(table *t, size_t from) {
  size_t i = from, cap = 0;
  while (i < t->len) {
    if (t->buf[i] == '\n' || (t->buf[i] == '\r' && t->buf[i + 1] == '\n')) {
      t->blank_lines++;
      i += t->buf[i] == '\r' ? 2 : 1;
      continue;
    }
    if ((size_t)t->nrec == cap) t->rec = realloc(t->rec, (cap = cap * 2 + 64) * sizeof *t->rec);
    record *r = &t->rec[t->nrec++];
    r->start = i;
    r->nf = 0;
    for (;;) {
      field f;
      parse_field(t, &i, &f);
      if (r->nf < 16)
        r->f[r->nf] = f;
      else
        free(f.s);
      r->nf++;
      if (i < t->len && t->buf[i] == ',') {
        i++;
        continue;
      }
      break;
    }
    r->end = i;
    if (i < t->len && t->buf[i] == '\r')
      t->crlf_ends++, i += 2;
    else if (i < t->len)
      t->lf_only_ends++, i++;
  }
}

static int load(table *t, const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  memset(t, 0, sizeof *t);
  t->buf = test_read_file(path, &t->len);
  if (!t->buf) return -1;
  parse_table(t, t->len >= 3 && memcmp(t->buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0);
  return 0;
}

static void unload(table *t) {
  for (int i = 0; i < t->nrec; i++)
    for (int k = 0; k < t->rec[i].nf && k < 16; k++)
      free(t->rec[i].f[k].s);
  free(t->rec);
  free(t->buf);
}

static int generate(const char *dir, double scale, uint64_t seed, gen_stats *st) {
  gen_options o = {.scale = scale, .seed = seed, .out_dir = dir};
  ath_error err = {0};
  int rc = gen_write(&o, st, &err);
  if (rc != ATH_OK) fprintf(stderr, "  gen_write: %s\n", err.msg);
  return rc;
}

/* ---- value predicates (SPEC §4) ------------------------------------------------------------- */

static int valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t k = c < 0x80                   ? 0
               : (c >= 0xc2 && c <= 0xdf) ? 1
               : (c >= 0xe0 && c <= 0xef) ? 2
               : (c >= 0xf0 && c <= 0xf4) ? 3
                                          : 9;
    if (k == 9 || (k && i + k >= n)) return 0;
    for (size_t j = 1; j <= k; j++)
      if ((s[i + j] & 0xc0) != 0x80) return 0;
    if (k == 2 && c == 0xe0 && s[i + 1] < 0xa0) return 0;
    if (k == 2 && c == 0xed && s[i + 1] >= 0xa0) return 0;
    i += k + 1;
  }
  return 1;
}

static int all_digits(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* [0-9]+(\.[0-9]+)? after trimming spaces. */
static int numeric(const char *s) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%s", s);
  char *dot = strchr(tmp, '.');
  if (dot) *dot = '\0';
  return all_digits(tmp) && (!dot || all_digits(dot + 1));
}

static int has_edge_space(const field *f) {
  return f->n && (f->s[0] == ' ' || f->s[f->n - 1] == ' ' || f->s[f->n - 1] == '\t');
}

/* Bytes silver cleaning keeps in text: ASCII letters, digits, space , . ' " - */
static int kept(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         strchr(" ,.'\"-", c) != NULL;
}

/* ---- duplicates ------------------------------------------------------------------------------ */

typedef struct keyed {
  char *key, *raw;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : strcmp(x->raw, y->raw);
}

/* Counts records equal to the previous one in key order: exact (same raw bytes) and
 * after-cleaning-only (same cleaned fields, different raw bytes). */
static void count_duplicates(const table *t, int nfields, int *exact, int *clean_only) {
  keyed *k = calloc((size_t)t->nrec, sizeof *k);
  int n = 0;
  for (int i = 1; i < t->nrec; i++) {
    const record *r = &t->rec[i];
    if (r->nf != nfields) continue;
    size_t len = r->end - r->start, kl = 0;
    k[n].raw = strndup(t->buf + r->start, len);
    k[n].key = malloc(len + (size_t)nfields + 1);
    for (int f = 0; f < nfields; f++) {
      for (size_t j = 0; j < r->f[f].n; j++)
        if (kept((unsigned char)r->f[f].s[j])) k[n].key[kl++] = r->f[f].s[j];
      k[n].key[kl++] = '\x01';
    }
    k[n++].key[kl] = '\0';
  }
  qsort(k, (size_t)n, sizeof *k, cmp_keyed);
  *exact = *clean_only = 0;
  for (int i = 1; i < n; i++) {
    if (strcmp(k[i].key, k[i - 1].key) != 0) continue;
    if (strcmp(k[i].raw, k[i - 1].raw) == 0)
      (*exact)++;
    else
      (*clean_only)++;
  }
  for (int i = 0; i < n; i++)
    free(k[i].key), free(k[i].raw);
  free(k);
}

/* ---- the shared sample --------------------------------------------------------------------- */

#define SAMPLE_SCALE 0.05
#define SAMPLE_SEED  42

static table bio, res;
static gen_stats sample_stats;

/* Generates the sample once and parses both files; returns 0 when they could be read. */
static int sample(void) {
  static int state; /* 0 not yet, 1 ok, -1 failed */
  if (state) return state > 0 ? 0 : -1;
  char dir[512];
  snprintf(dir, sizeof dir, "%s/sample", test_tmpdir());
  state = -1;
  if (generate(dir, SAMPLE_SCALE, SAMPLE_SEED, &sample_stats) != ATH_OK) return -1;
  if (load(&bio, dir, "athlete_bio.csv") || load(&res, dir, "athlete_event_results.csv")) return -1;
  state = 1;
  return 0;
}

static int files_equal(const char *a, const char *b) {
  size_t na, nb;
  char *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
  int eq = x && y && na == nb && memcmp(x, y, na) == 0;
  free(x);
  free(y);
  return eq;
}

static int same_outputs(const char *d1, const char *d2) {
  static const char *const names[] = {"athlete_bio.csv", "athlete_event_results.csv"};
  int same = 1;
  for (int i = 0; i < 2; i++) {
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/%s", d1, names[i]);
    snprintf(b, sizeof b, "%s/%s", d2, names[i]);
    same &= files_equal(a, b);
  }
  return same;
}

/* ---- tests ----------------------------------------------------------------------------------- */

TEST(gen_same_seed_same_bytes) {
  char a[512], b[512], c[512];
  snprintf(a, sizeof a, "%s/det-a", test_tmpdir());
  snprintf(b, sizeof b, "%s/det-b/nested", test_tmpdir());
  snprintf(c, sizeof c, "%s/det-c", test_tmpdir());
  CHECK_INT(generate(a, 0.01, 7, NULL), ATH_OK);
  CHECK_INT(generate(b, 0.01, 7, NULL), ATH_OK);
  CHECK_INT(generate(c, 0.01, 8, NULL), ATH_OK);
  CHECK(same_outputs(a, b));
  CHECK(!same_outputs(a, c));
}

TEST(gen_row_counts_follow_scale) {
  const double scales[] = {0.0, 0.001, 0.0123};
  for (int i = 0; i < 3; i++) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/count-%d", test_tmpdir(), i);
    gen_stats st = {0};
    CHECK_INT(generate(dir, scales[i], 3, &st), ATH_OK);
    table b, r;
    CHECK(load(&b, dir, "athlete_bio.csv") == 0 && load(&r, dir, "athlete_event_results.csv") == 0);
    CHECK_INT(b.nrec - 1, llround(scales[i] * GEN_BIO_REAL_ROWS));
    CHECK_INT(r.nrec - 1, llround(scales[i] * GEN_RESULTS_REAL_ROWS));
    CHECK_INT(st.bio_rows, b.nrec - 1);
    CHECK_INT(st.result_rows, r.nrec - 1);
    CHECK_INT(st.bio_bytes, b.len);
    CHECK_INT(st.result_bytes, r.len);
    unload(&b);
    unload(&r);
  }
}

TEST(gen_file_shapes) {
  if (sample()) {
    FAILF("no sample");
    return;
  }
  CHECK(bio.len > 3 && memcmp(bio.buf, "\xef\xbb\xbf", 3) != 0);
  CHECK(res.len > 3 && memcmp(res.buf, "\xef\xbb\xbf", 3) == 0);
  CHECK_MEM(bio.buf, strlen(BIO_HEADER), BIO_HEADER, strlen(BIO_HEADER));
  CHECK_MEM(res.buf + 3, strlen(RES_HEADER), RES_HEADER, strlen(RES_HEADER));
  CHECK_INT(bio.rec[0].nf, 10);
  CHECK_INT(res.rec[0].nf, 11);
  CHECK_INT(bio.lf_only_ends, 0); /* CRLF file */
  CHECK(bio.crlf_ends > bio.nrec - 2);
  CHECK_INT(res.crlf_ends, 0); /* LF file */
  CHECK(memcmp(bio.buf + bio.len - 2, "\r\n", 2) == 0);
  CHECK(res.buf[res.len - 1] != '\n'); /* the last record lacks its newline */
  CHECK_INT(bio.bad_quote_close + res.bad_quote_close, 0);
  CHECK_INT(bio.nrec - 1, llround(SAMPLE_SCALE * GEN_BIO_REAL_ROWS));
  CHECK_INT(res.nrec - 1, llround(SAMPLE_SCALE * GEN_RESULTS_REAL_ROWS));
}

/* Counts records with a wrong field count and with invalid UTF-8. */
static void count_broken(const table *t, int nfields, int *wrong, int *bad_utf8) {
  *wrong = *bad_utf8 = 0;
  for (int i = 1; i < t->nrec; i++) {
    const record *r = &t->rec[i];
    *wrong += r->nf != nfields;
    *bad_utf8 += !valid_utf8((const unsigned char *)t->buf + r->start, r->end - r->start);
  }
}

TEST(gen_bio_quirks) {
  if (sample()) {
    FAILF("no sample");
    return;
  }
  int bad_id = 0, spaces = 0, stray = 0, non_ascii = 0, leading_country = 0, nonnum = 0;
  int forms[4] = {0}; /* 60-64, "72, 74", 1.8e2, 183cm */
  for (int i = 1; i < bio.nrec; i++) {
    const record *r = &bio.rec[i];
    if (r->nf != 10) continue;
    bad_id += !all_digits(r->f[0].s);
    spaces += has_edge_space(&r->f[0]) || has_edge_space(&r->f[1]) || has_edge_space(&r->f[4]) ||
              has_edge_space(&r->f[5]);
    for (int k = 0; k < 10; k++)
      stray += r->f[k].stray_quote && r->f[k].s[0] != '"';
    for (size_t k = 0; k < r->f[1].n; k++)
      non_ascii += (unsigned char)r->f[1].s[k] >= 0x80;
    leading_country += r->f[6].s[0] == ' ' && !r->f[6].quoted;
    for (int k = 4; k <= 5; k++) {
      if (!r->f[k].n || numeric(r->f[k].s)) continue;
      nonnum++;
      forms[0] += strcmp(r->f[k].s, "60-64") == 0;
      forms[1] += strcmp(r->f[k].s, "72, 74") == 0 && r->f[k].quoted;
      forms[2] += strcmp(r->f[k].s, "1.8e2") == 0;
      forms[3] += strcmp(r->f[k].s, "183cm") == 0;
    }
  }
  int wrong, bad_utf8, exact, clean_only;
  count_broken(&bio, 10, &wrong, &bad_utf8);
  count_duplicates(&bio, 10, &exact, &clean_only);
  fprintf(stderr,
          "  bio: bad_id %d spaces %d stray %d nonnum %d wrong %d utf8 %d dup %d/%d "
          "blank %d qLF %d qCRLF %d qquote %d\n",
          bad_id, spaces, stray, nonnum, wrong, bad_utf8, exact, clean_only, bio.blank_lines,
          bio.quoted_lf, bio.quoted_crlf, bio.quoted_quote);
  CHECK(bad_id > 0 && spaces > 0 && stray > 0 && non_ascii > 0 && nonnum > 0);
  CHECK(forms[0] > 0 && forms[1] > 0 && forms[2] > 0 && forms[3] > 0);
  CHECK(leading_country > (bio.nrec - 1) / 2);
  CHECK(wrong > 0 && bad_utf8 > 0 && exact > 0 && clean_only > 0);
  CHECK(bio.blank_lines > 0);
  CHECK(bio.quoted_comma > 0 && bio.quoted_quote > 0 && bio.quoted_lf > 0 && bio.quoted_crlf > 0);
  /* broken records are rare */
  CHECK(wrong + bad_utf8 < (bio.nrec - 1) / 100);
}

TEST(gen_results_quirks) {
  if (sample()) {
    FAILF("no sample");
    return;
  }
  int bad_id = 0, spaces = 0, stray = 0, non_ascii_event = 0, medals = 0, heat_pos = 0;
  for (int i = 1; i < res.nrec; i++) {
    const record *r = &res.rec[i];
    if (r->nf != 11) continue;
    bad_id += !all_digits(r->f[7].s);
    spaces += has_edge_space(&r->f[1]) || has_edge_space(&r->f[5]) || has_edge_space(&r->f[6]) ||
              has_edge_space(&r->f[7]);
    stray += r->f[6].stray_quote;
    non_ascii_event += r->f[4].quoted && strstr(r->f[4].s, "\xc3\x97") != NULL; /* × */
    medals += r->f[9].n > 0;
    heat_pos += strstr(r->f[8].s, " h") != NULL;
  }
  int wrong, bad_utf8, exact, clean_only;
  count_broken(&res, 11, &wrong, &bad_utf8);
  count_duplicates(&res, 11, &exact, &clean_only);
  fprintf(stderr,
          "  results: bad_id %d spaces %d stray %d wrong %d utf8 %d dup %d/%d blank %d "
          "medals %d\n",
          bad_id, spaces, stray, wrong, bad_utf8, exact, clean_only, res.blank_lines, medals);
  CHECK(bad_id > 0 && spaces > 0 && stray > 0 && non_ascii_event > 0 && heat_pos > 0);
  CHECK(wrong > 0 && bad_utf8 > 0 && exact > 0 && clean_only > 0);
  CHECK(res.blank_lines > 0);
  CHECK(medals > 0 && medals < (res.nrec - 1) / 4); /* most rows have no medal */
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Loads the valid athlete ids of column col into a sorted array; returns its length. */
static int sorted_ids(const table *t, int nfields, int col, int64_t **out) {
  int64_t *ids = malloc(sizeof *ids * (size_t)t->nrec);
  int n = 0;
  for (int i = 1; i < t->nrec; i++)
    if (t->rec[i].nf == nfields && all_digits(t->rec[i].f[col].s))
      ids[n++] = strtoll(t->rec[i].f[col].s, NULL, 10);
  qsort(ids, (size_t)n, sizeof *ids, cmp_i64);
  *out = ids;
  return n;
}

TEST(gen_results_join_bio) {
  if (sample()) {
    FAILF("no sample");
    return;
  }
  int64_t *bio_ids, *res_ids;
  int nb = sorted_ids(&bio, 10, 0, &bio_ids), nr = sorted_ids(&res, 11, 7, &res_ids);
  int matched = 0, max_per_athlete = 0, run = 0, seven_digits = 0;
  for (int i = 0; i < nr; i++) {
    matched += bsearch(&res_ids[i], bio_ids, (size_t)nb, sizeof *bio_ids, cmp_i64) != NULL;
    run = i && res_ids[i] == res_ids[i - 1] ? run + 1 : 1;
    if (run > max_per_athlete) max_per_athlete = run;
  }
  for (int i = 0; i < nb; i++)
    seven_digits += bio_ids[i] >= 1000000;
  double unmatched = 1.0 - (double)matched / nr;
  fprintf(stderr, "  join: %d of %d results match a bio row (%.2f%% unmatched)\n", matched, nr,
          100 * unmatched);
  CHECK(unmatched > 0.005 && unmatched < 0.05); /* ~2% have no bio row */
  CHECK(max_per_athlete >= 3);                  /* several results per athlete */
  CHECK(seven_digits > 0);
  free(bio_ids);
  free(res_ids);
}

TEST(gen_bad_options) {
  ath_error err = {0};
  gen_options o = {.scale = -1, .seed = 1, .out_dir = test_tmpdir()};
  CHECK_INT(gen_write(&o, NULL, &err), ATH_EUSAGE);
  o.scale = NAN;
  CHECK_INT(gen_write(&o, NULL, &err), ATH_EUSAGE);
  o.scale = 0.001;
  o.out_dir = NULL;
  CHECK_INT(gen_write(&o, NULL, &err), ATH_EUSAGE);
  char file[512], dir[600];
  snprintf(file, sizeof file, "%s/plainfile", test_tmpdir());
  FILE *f = fopen(file, "w");
  if (f) fclose(f);
  snprintf(dir, sizeof dir, "%s/sub", file);
  o.out_dir = dir;
  ath_error_clear(&err);
  CHECK_INT(gen_write(&o, NULL, &err), ATH_ERR);
  CHECK(strstr(err.msg, "plainfile") != NULL);
}
