#include "transform/silver.h"

#include "shuffle/shuffle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const field_def SILVER_REJECT_FIELDS[5] = {
    {"source_file", COL_STRING, false}, {"line", COL_INT64, true},
    {"byte_offset", COL_INT64, true},   {"reason", COL_STRING, false},
    {"raw", COL_STRING, false},
};

#define RAW_MAX    4096 /* raw reject text is cut to this many bytes (SPEC §4) */
#define REASON_RAW 200  /* at most this many bytes of the bad id are quoted in the reason */

/* ---- keep table ---------------------------------------------------------------------------- */

void silver_options_default(silver_options *o) {
  memset(o->keep, 0, sizeof o->keep);
  for (int c = 'A'; c <= 'Z'; c++)
    o->keep[c] = o->keep[c + 32] = 1;
  for (int c = '0'; c <= '9'; c++)
    o->keep[c] = 1;
  for (const char *p = " ,.'\"-"; *p; p++)
    o->keep[(uint8_t)*p] = 1;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads one (possibly escaped) character of the keep spec at *p into *out, advancing *p.
 * Returns ATH_OK or ATH_EUSAGE. */
static int keep_char(const char **p, int *out, ath_error *err) {
  const char *s = *p;
  if (*s != '\\') {
    *out = (uint8_t)*s;
    *p = s + 1;
    return ATH_OK;
  }
  switch (s[1]) {
  case '\\':
  case '-':
    *out = s[1];
    break;
  case 's':
    *out = ' ';
    break;
  case 't':
    *out = '\t';
    break;
  case 'n':
    *out = '\n';
    break;
  case 'r':
    *out = '\r';
    break;
  case 'x': {
    int hi = s[2] ? hexval(s[2]) : -1, lo = hi >= 0 && s[3] ? hexval(s[3]) : -1;
    if (lo < 0) return ath_fail(err, ATH_EUSAGE, "--keep-chars: \\x needs two hex digits");
    *out = hi * 16 + lo;
    *p = s + 4;
    return ATH_OK;
  }
  case '\0':
    return ath_fail(err, ATH_EUSAGE, "--keep-chars: trailing backslash");
  default:
    return ath_fail(err, ATH_EUSAGE, "--keep-chars: unknown escape \\%c", s[1]);
  }
  *p = s + 2;
  return ATH_OK;
}

int silver_parse_keep_chars(const char *spec, silver_options *o, ath_error *err) {
  uint8_t keep[256] = {0};
  if (!spec || !*spec) return ath_fail(err, ATH_EUSAGE, "--keep-chars: empty set");
  const char *p = spec;
  while (*p) {
    int lo = 0, hi = 0;
    int rc = keep_char(&p, &lo, err);
    if (rc != ATH_OK) return rc;
    hi = lo;
    if (p[0] == '-' && p[1]) { /* a range; a dash at the very end is literal */
      p++;
      rc = keep_char(&p, &hi, err);
      if (rc != ATH_OK) return rc;
      if (hi < lo)
        return ath_fail(err, ATH_EUSAGE, "--keep-chars: range end 0x%02x below start 0x%02x", hi,
                        lo);
    }
    for (int c = lo; c <= hi; c++)
      keep[c] = 1;
  }
  memcpy(o->keep, keep, sizeof keep);
  return ATH_OK;
}

/* ---- typing -------------------------------------------------------------------------------- */

typedef enum col_kind { KIND_TEXT, KIND_ID, KIND_NUM, KIND_BOOL } col_kind;

static col_kind kind_of(const char *table, const char *col) {
  if (strcmp(table, "athlete_bio") != 0 && strcmp(table, "athlete_event_results") != 0)
    return KIND_TEXT;
  if (!strcmp(col, "athlete_id") || !strcmp(col, "edition_id") || !strcmp(col, "result_id"))
    return KIND_ID;
  if (!strcmp(col, "height") || !strcmp(col, "weight")) return KIND_NUM;
  if (!strcmp(col, "isTeamSport")) return KIND_BOOL;
  return KIND_TEXT;
}

static col_type type_of(col_kind k) {
  return k == KIND_ID     ? COL_INT64
         : k == KIND_NUM  ? COL_DOUBLE
         : k == KIND_BOOL ? COL_BOOL
                          : COL_STRING;
}

static inline bool is_trim(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const uint8_t *trim(const uint8_t *p, size_t *len) {
  size_t n = *len;
  while (n && is_trim(*p))
    p++, n--;
  while (n && is_trim(p[n - 1]))
    n--;
  *len = n;
  return p;
}

/* True and *v when the (untrimmed) field is ASCII digits fitting in int64 after trimming. */
static bool parse_id(const uint8_t *p, size_t len, int64_t *v) {
  p = trim(p, &len);
  if (len == 0) return false;
  uint64_t x = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned d = (unsigned)p[i] - '0';
    if (d > 9) return false;
    if (x > (uint64_t)(INT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *v = (int64_t)x;
  return true;
}

bool silver_parse_id(const uint8_t *p, size_t len, int64_t *v) {
  return parse_id(p, len, v);
}

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* True and *v (correctly rounded) when the trimmed field matches [0-9]+(\.[0-9]+)?. Short
 * values take the exact fast path (integer mantissa below 2^53 divided by an exact power of
 * ten: one rounding); longer ones go through strtod on a NUL-terminated copy in *scratch. */
static bool parse_num(const uint8_t *p, size_t len, double *v, char **scratch, size_t *cap) {
  p = trim(p, &len);
  size_t i = 0, dot = len;
  while (i < len && p[i] >= '0' && p[i] <= '9')
    i++;
  if (i == 0) return false;
  if (i < len) {
    if (p[i] != '.' || i + 1 == len) return false;
    dot = i++;
    while (i < len && p[i] >= '0' && p[i] <= '9')
      i++;
    if (i < len) return false;
  }
  size_t frac = dot == len ? 0 : len - dot - 1;
  if (len - (frac ? 1 : 0) <= 15 && frac <= 22) { /* < 10^15 < 2^53: exact mantissa */
    uint64_t m = 0;
    for (size_t k = 0; k < len; k++)
      if (k != dot) m = m * 10 + (uint64_t)(p[k] - '0');
    *v = (double)m / POW10[frac];
    return true;
  }
  grow_array((void **)scratch, cap, len + 1, 1);
  memcpy(*scratch, p, len);
  (*scratch)[len] = 0;
  *v = strtod(*scratch, NULL);
  return true;
}

/* True and *v for true/false in any case after trimming. */
static bool parse_bool(const uint8_t *p, size_t len, bool *v) {
  p = trim(p, &len);
  if (len == 4 && strncasecmp((const char *)p, "true", 4) == 0) return *v = true, true;
  if (len == 5 && strncasecmp((const char *)p, "false", 5) == 0) return *v = false, true;
  return false;
}

/* Stores value v (8 bytes) as element r of the offsets buffer, reused for the values. */
static inline void put8(int64_t *slot, const void *v) {
  memcpy(slot, v, 8);
}

/* Types column c (bronze STRING) of kind k in place, keeping the rows with take[i] set. The
 * silver column reuses c's buffers: text is cleaned within its own bytes, and an id or number
 * goes into the offsets buffer (8 bytes a row, like the offsets). Every write lands at or
 * before the byte or row being read, and each row's end offset is read before the slot is
 * overwritten. A null stays null (zero value, empty string range). */
static void type_column(column *c, col_kind k, const uint8_t *take, const int64_t *ids,
                        const silver_options *o, char **scratch, size_t *cap) {
  int64_t n = c->n, r = 0, nulls = 0, start = 0;
  int64_t *off = c->offsets;
  uint8_t *bytes = c->bytes, *valid = c->valid;
  if (k == KIND_TEXT) {
    uint8_t keep[256]; /* a local copy: the byte stores below cannot alias it */
    memcpy(keep, o->keep, sizeof keep);
    size_t nb = 0;
    for (int64_t i = 0; i < n; i++) {
      int64_t end = off[i + 1];
      if (take[i]) {
        bool ok = valid[i];
        for (int64_t j = ok ? start : end; j < end; j++) { /* a null keeps an empty range */
          uint8_t ch = bytes[j];
          bytes[nb] = ch;
          nb += keep[ch];
        }
        valid[r] = ok;
        nulls += !ok;
        off[++r] = (int64_t)nb;
      }
      start = end;
    }
    c->nbytes = nb;
    c->n = r;
    c->null_count = nulls;
    return;
  }
  uint8_t *flags = k == KIND_BOOL ? xmalloc(c->cap ? c->cap : 1) : NULL;
  for (int64_t i = 0; i < n; i++) {
    int64_t end = off[i + 1];
    if (take[i]) {
      const uint8_t *p = bytes + start;
      size_t len = (size_t)(end - start);
      bool ok = false;
      if (ids) {
        ok = true;
        put8(&off[r], &ids[i]);
      } else if (k == KIND_ID) {
        int64_t v = 0;
        ok = valid[i] && parse_id(p, len, &v);
        v = ok ? v : 0;
        put8(&off[r], &v);
      } else if (k == KIND_NUM) {
        double v = 0;
        ok = valid[i] && parse_num(p, len, &v, scratch, cap);
        v = ok ? v : 0.0;
        put8(&off[r], &v);
      } else {
        bool v = false;
        ok = valid[i] && parse_bool(p, len, &v);
        flags[r] = ok && v;
      }
      valid[r++] = ok;
      nulls += !ok;
    }
    start = end;
  }
  free(c->bytes);
  c->bytes = NULL;
  c->nbytes = c->bytes_cap = 0;
  if (flags) {
    free(off);
    c->values = flags;
  } else {
    c->values = off;
  }
  c->offsets = NULL;
  c->type = type_of(k);
  c->n = r;
  c->null_count = nulls;
}

/* ---- rejects ------------------------------------------------------------------------------- */

typedef struct strbuf {
  char *p;
  size_t n, cap;
} strbuf;

static void sb_put(strbuf *s, const void *p, size_t n) {
  grow_array((void **)&s->p, &s->cap, s->n + n + 1, 1);
  if (n) memcpy(s->p + s->n, p, n);
  s->n += n;
}

/* Length of p[0..n) cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *p, size_t n, size_t max) {
  if (n <= max) return n;
  while (max > 0 && ((uint8_t)p[max] & 0xC0) == 0x80)
    max--;
  return max;
}

/* Writes row i of the bronze batch into s as one CSV line (minimal quoting, null as empty). */
static void csv_line(const batch *b, int64_t i, strbuf *s) {
  s->n = 0;
  for (int k = 0; k < b->ncols; k++) {
    const column *c = &b->cols[k];
    if (k) sb_put(s, ",", 1);
    if (col_is_null(c, i)) continue;
    size_t len;
    const char *p = (const char *)col_str(c, i, &len);
    if (len && !memchr(p, ',', len) && !memchr(p, '"', len) && !memchr(p, '\n', len) &&
        !memchr(p, '\r', len)) {
      sb_put(s, p, len);
      continue;
    }
    sb_put(s, "\"", 1);
    for (const char *q; (q = memchr(p, '"', len)); len -= (size_t)(q + 1 - p), p = q + 1)
      sb_put(s, p, (size_t)(q + 1 - p)), sb_put(s, "\"", 1);
    sb_put(s, p, len);
    sb_put(s, "\"", 1);
  }
}

/* Appends the reject record of bronze row i (athlete_id column aid) to rejects. */
static void add_reject(batch *rejects, const batch *b, int64_t i, int aid, const char *table,
                       strbuf *line, strbuf *reason) {
  const column *c = &b->cols[aid];
  reason->n = 0;
  if (col_is_null(c, i)) {
    sb_put(reason, "missing athlete_id", 18);
  } else {
    size_t len;
    const char *p = (const char *)col_str(c, i, &len);
    sb_put(reason, "invalid athlete_id '", 20);
    sb_put(reason, p, utf8_cut(p, len, REASON_RAW));
    sb_put(reason, "'", 1);
  }
  csv_line(b, i, line);
  col_append_str(&rejects->cols[0], table, strlen(table));
  col_append_null(&rejects->cols[1]);
  col_append_null(&rejects->cols[2]);
  col_append_str(&rejects->cols[3], reason->p, reason->n);
  col_append_str(&rejects->cols[4], line->p, utf8_cut(line->p, line->n, RAW_MAX));
  rejects->nrows++;
}

static bool reject_schema_ok(const batch *r) {
  if (r->ncols != 5) return false;
  for (int k = 0; k < 5; k++)
    if (r->cols[k].type != SILVER_REJECT_FIELDS[k].type ||
        strcmp(r->cols[k].name, SILVER_REJECT_FIELDS[k].name) != 0)
      return false;
  return true;
}

/* Checks the inputs of silver_transform; returns the athlete_id column (or -1 when the table
 * has no typing) in *aid. */
static int check_inputs(const batch *bronze, const char *table, batch *rejects, int *aid,
                        ath_error *err) {
  for (int k = 0; k < bronze->ncols; k++)
    if (bronze->cols[k].type != COL_STRING)
      return ath_fail(err, ATH_ERR, "silver %s: bronze column %s is %s, not string", table,
                      bronze->cols[k].name, col_type_name(bronze->cols[k].type));
  *aid = -1;
  if (kind_of(table, "athlete_id") == KIND_ID) {
    *aid = batch_find(bronze, "athlete_id");
    if (*aid < 0) return ath_fail(err, ATH_ERR, "silver %s: no athlete_id column", table);
  }
  if (rejects && !reject_schema_ok(rejects))
    return ath_fail(err, ATH_ERR, "silver %s: rejects batch has the wrong schema", table);
  return ATH_OK;
}

int silver_transform(batch **bronze_io, const char *table, const silver_options *o, batch **silver,
                     batch *rejects, ath_error *err) {
  batch *bronze = *bronze_io;
  *bronze_io = NULL;
  *silver = NULL;
  int aid = -1, nc = bronze->ncols;
  int rc = check_inputs(bronze, table, rejects, &aid, err);
  if (rc != ATH_OK) {
    batch_free(bronze);
    return rc;
  }
  int64_t n = bronze->nrows, kept = 0;
  uint8_t *take = xmalloc((size_t)(n > 0 ? n : 1));
  int64_t *ids = aid >= 0 ? xmalloc((size_t)(n > 0 ? n : 1) * sizeof *ids) : NULL;
  strbuf line = {0}, reason = {0};
  for (int64_t i = 0; i < n; i++) {
    int64_t v = 0;
    size_t len = 0;
    const column *c = aid >= 0 ? &bronze->cols[aid] : NULL;
    const uint8_t *p = c && !col_is_null(c, i) ? col_str(c, i, &len) : NULL;
    take[i] = !c || (p && parse_id(p, len, &v));
    if (ids) ids[i] = v;
    if (!take[i] && rejects) add_reject(rejects, bronze, i, aid, table, &line, &reason);
    kept += take[i];
  }
  char *scratch = NULL;
  size_t scap = 0;
  for (int k = 0; k < nc; k++) {
    column *c = &bronze->cols[k];
    type_column(c, kind_of(table, c->name), take, k == aid ? ids : NULL, o, &scratch, &scap);
    c->nullable = true;
  }
  bronze->nrows = kept;
  free(scratch);
  free(take);
  free(ids);
  free(line.p);
  free(reason.p);
  *silver = bronze;
  return ATH_OK;
}

/* ---- dedupe -------------------------------------------------------------------------------- */

/* An empty open-addressing table of row indices (-1 = free) for n entries: *cap slots, a power
 * of two at least 2n. */
static int64_t *index_table(int64_t n, size_t *cap) {
  *cap = 16;
  while (*cap < (size_t)n * 2)
    *cap *= 2;
  int64_t *slot = xmalloc(*cap * sizeof *slot);
  memset(slot, 0xff, *cap * sizeof *slot);
  return slot;
}

/* Sets dup[i] for every row of b equal to an earlier one (in row order), clears it for first
 * occurrences; hash[i] is hash_row(b, i). Rows are compared in full whenever their 64-bit
 * hashes match. */
static void mark_later_copies(const batch *b, const uint64_t *hash, uint8_t *dup) {
  int64_t n = b->nrows;
  size_t cap;
  int64_t *slot = index_table(n, &cap);
  for (int64_t i = 0; i < n; i++) {
    uint64_t h = hash[i];
    size_t s = (size_t)(hash_i64((int64_t)h) & (cap - 1));
    dup[i] = 0;
    for (; slot[s] >= 0 && !dup[i]; s = (s + 1) & (cap - 1))
      dup[i] = hash[slot[s]] == h && row_equal(b, slot[s], b, i);
    if (!dup[i]) slot[s] = i;
  }
  free(slot);
}

/* Sets rep[j] for every hash h[j] that occurs more than once in h[0..n). */
static void mark_repeated(const uint64_t *h, int64_t n, uint8_t *rep) {
  size_t cap;
  int64_t *slot = index_table(n, &cap);
  for (int64_t j = 0; j < n; j++) {
    size_t s = (size_t)(hash_i64((int64_t)h[j]) & (cap - 1));
    for (; slot[s] >= 0 && h[slot[s]] != h[j]; s = (s + 1) & (cap - 1))
      ;
    if (slot[s] >= 0)
      rep[slot[s]] = rep[j] = 1;
    else
      slot[s] = j;
  }
  free(slot);
}

/* A row tag: the rank a row comes from and its index there. */
#define TAG_SHIFT 40
#define TAG_ROW   (((uint64_t)1 << TAG_SHIFT) - 1)

/* A batch of one non-null INT64 column holding v[0..n). */
static batch *int64_batch(const char *name, const uint64_t *v, int64_t n) {
  field_def f = {name, COL_INT64, false};
  batch *b = batch_new(&f, 1);
  column *c = &b->cols[0];
  col_reserve(c, (size_t)n, 0);
  if (n) memcpy(c->values, v, (size_t)n * sizeof *v);
  memset(c->valid, 1, (size_t)n);
  c->n = b->nrows = n;
  return b;
}

/* Collective: for each j < n with sel[j], sends row index (tag[j] & TAG_ROW) back to rank
 * tag[j] >> TAG_SHIFT, which sets flags[index] = value. */
static int tell_sources(MPI_Comm comm, const uint64_t *tag, const uint8_t *sel, int64_t n,
                        size_t round_bytes, uint8_t *flags, uint8_t value, ath_error *err) {
  int64_t m = 0;
  for (int64_t j = 0; j < n; j++)
    m += sel[j];
  uint64_t *idx = xmalloc((size_t)(m > 0 ? m : 1) * sizeof *idx);
  int *dest = xmalloc((size_t)(m > 0 ? m : 1) * sizeof *dest);
  for (int64_t j = 0, k = 0; j < n; j++)
    if (sel[j]) {
      idx[k] = tag[j] & TAG_ROW;
      dest[k++] = (int)(tag[j] >> TAG_SHIFT);
    }
  batch *out = int64_batch("row", idx, m), *back = NULL;
  int rc = shuffle_batch(comm, out, dest, round_bytes, &back, err);
  if (rc == ATH_OK)
    for (int64_t i = 0; i < back->nrows; i++)
      flags[col_i64(&back->cols[0], i)] = value;
  batch_free(out);
  batch_free(back);
  free(idx);
  free(dest);
  return rc;
}

/* Collective: sends the rows of b with sel[i] set (every row when sel is NULL) to the owner of
 * their hash (hash mod size), each tagged with its rank and row; *got receives the rows (in
 * source rank order, each source in row order) and *gtag their tags. */
static int send_to_owners(MPI_Comm comm, const batch *b, const uint64_t *hash, const uint8_t *sel,
                          size_t round_bytes, batch **got, uint64_t **gtag, ath_error *err) {
  int size, rank;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  int64_t m = 0;
  for (int64_t i = 0; i < b->nrows; i++)
    m += !sel || sel[i];
  batch *part = sel ? batch_new_like(b) : NULL;
  int *dest = xmalloc((size_t)(m > 0 ? m : 1) * sizeof *dest);
  uint64_t *tag = xmalloc((size_t)(m > 0 ? m : 1) * sizeof *tag);
  for (int64_t i = 0, j = 0; i < b->nrows; i++) {
    if (sel && !sel[i]) continue;
    if (part) batch_append_row(part, b, i);
    dest[j] = (int)(hash[i] % (uint64_t)size);
    tag[j++] = (uint64_t)rank << TAG_SHIFT | (uint64_t)i;
  }
  int rc = shuffle_batch_tagged(comm, part ? part : b, dest, tag, round_bytes, got, gtag, err);
  batch_free(part);
  free(dest);
  free(tag);
  return rc;
}

/* Collective: sets cand[i] for the rows of b whose hash occurs more than once anywhere (only
 * they can be duplicates). Each row's hash (with its tag) goes to the owner rank, which marks
 * the repeated ones and tells their sources. */
static int find_candidates(MPI_Comm comm, const batch *b, const uint64_t *hash, size_t round_bytes,
                           uint8_t *cand, ath_error *err) {
  batch *hb = int64_batch("hash", hash, b->nrows), *got = NULL;
  uint64_t *gtag = NULL;
  int rc = send_to_owners(comm, hb, hash, NULL, round_bytes, &got, &gtag, err);
  batch_free(hb);
  if (rc == ATH_OK) {
    int64_t g = got->nrows;
    uint8_t *rep = xcalloc((size_t)(g > 0 ? g : 1), 1);
    mark_repeated(got->cols[0].values, g, rep);
    rc = tell_sources(comm, gtag, rep, g, round_bytes, cand, 1, err);
    free(rep);
  }
  batch_free(got);
  free(gtag);
  return rc;
}

/* Collective: the candidates' owners compare them in full, in global order, and tell each
 * source which of its rows repeat an earlier row: keep[i] is cleared for those. */
static int settle_candidates(MPI_Comm comm, const batch *b, const uint64_t *hash,
                             const uint8_t *cand, size_t round_bytes, uint8_t *keep,
                             ath_error *err) {
  batch *got = NULL;
  uint64_t *gtag = NULL;
  int rc = send_to_owners(comm, b, hash, cand, round_bytes, &got, &gtag, err);
  if (rc == ATH_OK) {
    int64_t g = got->nrows;
    uint64_t *gh = xmalloc((size_t)(g > 0 ? g : 1) * sizeof *gh);
    uint8_t *dup = xmalloc((size_t)(g > 0 ? g : 1));
    for (int64_t i = 0; i < g; i++)
      gh[i] = hash_row(got, i);
    mark_later_copies(got, gh, dup);
    rc = tell_sources(comm, gtag, dup, g, round_bytes, keep, 0, err);
    free(gh);
    free(dup);
  }
  batch_free(got);
  free(gtag);
  return rc;
}

int silver_dedupe(MPI_Comm comm, batch *b, size_t round_bytes, int64_t *dropped, ath_error *err) {
  int64_t n = b->nrows;
  *dropped = 0;
  uint64_t *hash = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *hash);
  uint8_t *cand = xcalloc((size_t)(n > 0 ? n : 1), 1);
  uint8_t *keep = xmalloc((size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++)
    hash[i] = hash_row(b, i);
  memset(keep, 1, (size_t)(n > 0 ? n : 1));
  int rc = find_candidates(comm, b, hash, round_bytes, cand, err);
  if (rc == ATH_OK) rc = settle_candidates(comm, b, hash, cand, round_bytes, keep, err);
  if (rc == ATH_OK) {
    for (int64_t i = 0; i < n; i++)
      *dropped += !keep[i];
    if (*dropped) batch_keep_rows(b, keep);
  }
  free(hash);
  free(cand);
  free(keep);
  return rc;
}
