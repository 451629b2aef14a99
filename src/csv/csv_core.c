#include "csv/csv_core.h"

#include <csv.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

/* ---- the tokeniser model ------------------------------------------------------------------ */

/* Byte classes of the model. */
enum { CL_OTHER = 0, CL_QUOTE, CL_COMMA, CL_TERM, NCLASSES };

static const uint8_t next_state[CSV_NSTATES][NCLASSES] = {
    [CSV_ROW] = {CSV_UNQ, CSV_QUO, CSV_SEP, CSV_ROW},
    [CSV_SEP] = {CSV_UNQ, CSV_QUO, CSV_SEP, CSV_ROW},
    [CSV_UNQ] = {CSV_UNQ, CSV_UNQ, CSV_SEP, CSV_ROW},
    [CSV_QUO] = {CSV_QUO, CSV_QQ, CSV_QUO, CSV_QUO},
    [CSV_QQ] = {CSV_QUO, CSV_QUO, CSV_SEP, CSV_ROW},
};

/* trans[s][c]: the state after byte c in state s (built once from next_state). */
static uint8_t trans[CSV_NSTATES][256];
static int trans_ready;

static int byte_class(int c) {
  if (c == '"') return CL_QUOTE;
  if (c == ',') return CL_COMMA;
  if (c == '\r' || c == '\n') return CL_TERM;
  return CL_OTHER;
}

static void trans_init(void) {
  if (trans_ready) return;
  for (int s = 0; s < CSV_NSTATES; s++)
    for (int c = 0; c < 256; c++)
      trans[s][c] = next_state[s][byte_class(c)];
  trans_ready = 1;
}

__attribute__((constructor)) static void csv_core_init(void) {
  trans_init();
}

int csv_step(int s, uint8_t c) {
  return trans[s][c];
}

static inline unsigned popcount64(uint64_t m) {
  m = m - ((m >> 1) & 0x5555555555555555ull);
  m = (m & 0x3333333333333333ull) + ((m >> 2) & 0x3333333333333333ull);
  m = (m + (m >> 4)) & 0x0F0F0F0F0F0F0F0Full;
  return (unsigned)((m * 0x0101010101010101ull) >> 56);
}

#if defined(__SSE2__)
/* The 64-bit mask of the 64 bytes in v0..v3 equal to c (bit i = byte i). */
static inline uint64_t eq_mask64(__m128i v0, __m128i v1, __m128i v2, __m128i v3, __m128i c) {
  return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, c)) |
         (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, c)) << 16 |
         (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v2, c)) << 32 |
         (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v3, c)) << 48;
}
#endif

/* The scanner behind every pass over the bytes: runs the model from *st over p[0..n), 16 bytes
 * at a time (SSE2 compares give masks of '"', ',', CR and LF), stepping only at the bytes that
 * can change the state:
 *   - in QUO, a '"' (then QQ, whose next byte is one table step);
 *   - otherwise (ROW, SEP, UNQ) a CR/LF (-> ROW) or an opening '"', one that starts a field:
 *     right after ',' or CR/LF, or at the current position in ROW or SEP (-> QUO).
 * Between those steps the state is ROW, SEP or UNQ and only a byte's own class matters, so at a
 * block's end it follows from the last byte (',' -> SEP, else UNQ).
 * With `stop`, it stops at the first byte after which the state is ROW and returns its index
 * (n if none); otherwise it returns n. *st gets the state after the bytes read (through the
 * stop byte), *lf the LF bytes and *high whether any byte >= 0x80 lies before the returned
 * index. */
static size_t scan(unsigned *st_io, const uint8_t *p, size_t n, bool stop, int64_t *lf_out,
                   bool *high_out) {
  unsigned st = *st_io, high = 0;
  int64_t lf = 0;
  size_t k = 0;
#if defined(__SSE2__)
  const __m128i vq = _mm_set1_epi8('"'), vc = _mm_set1_epi8(','), vr = _mm_set1_epi8('\r'),
                vn = _mm_set1_epi8('\n');
  for (; k + 64 <= n; k += 64) {
    const __m128i *q = (const __m128i *)(const void *)(p + k);
    __m128i v0 = _mm_loadu_si128(q), v1 = _mm_loadu_si128(q + 1), v2 = _mm_loadu_si128(q + 2),
            v3 = _mm_loadu_si128(q + 3);
    uint64_t mq = eq_mask64(v0, v1, v2, v3, vq), ml = eq_mask64(v0, v1, v2, v3, vn),
             mc = eq_mask64(v0, v1, v2, v3, vc), mt = ml | eq_mask64(v0, v1, v2, v3, vr);
    bool mh = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3))) != 0;
    uint64_t open = mq & ((mc | mt) << 1); /* quotes right after ',' or CR/LF */
    unsigned from = 0;                     /* bytes [k, k + from) are read */
    while (from < 64) {
      unsigned i;
      if (st == CSV_QQ) {
        i = from;
        st = trans[st][p[k + i]];
      } else if (st == CSV_QUO) {
        uint64_t m = mq >> from << from;
        if (!m) break;
        i = (unsigned)__builtin_ctzll(m);
        st = CSV_QQ;
      } else {
        uint64_t here = st == CSV_ROW || st == CSV_SEP ? 1ull << from : 0;
        uint64_t m = (mt | (mq & (open | here))) >> from << from;
        if (!m) {
          st = mc >> 63 ? CSV_SEP : CSV_UNQ;
          break;
        }
        i = (unsigned)__builtin_ctzll(m);
        st = mq >> i & 1 ? CSV_QUO : CSV_ROW;
      }
      from = i + 1;
      if (stop && st == CSV_ROW) {
        uint64_t below = (1ull << i) - 1;
        if (ml & below) lf += popcount64(ml & below);
        if (mh) /* the block has a byte >= 0x80: is it before the stop? */
          for (unsigned j = 0; j < i && !high; j++)
            high = p[k + j] >= 0x80;
        *st_io = st, *lf_out = lf, *high_out = high;
        return k + i;
      }
    }
    if (ml) lf += popcount64(ml);
    high |= mh;
  }
#endif
  for (; k < n; k++) {
    st = trans[st][p[k]];
    if (stop && st == CSV_ROW) break;
    lf += p[k] == '\n';
    high |= p[k] & 0x80;
  }
  *st_io = st, *lf_out = lf, *high_out = high != 0;
  return k;
}

int csv_run(int s, const uint8_t *p, size_t n) {
  unsigned st = (unsigned)s;
  int64_t lf;
  bool high;
  scan(&st, p, n, false, &lf, &high);
  return (int)st;
}

int64_t csv_first_row_state(int s, const uint8_t *p, size_t n) {
  if (s == CSV_ROW) return 0;
  unsigned st = (unsigned)s;
  int64_t lf;
  bool high;
  size_t i = scan(&st, p, n, true, &lf, &high);
  return st == CSV_ROW ? (int64_t)i + 1 : -1;
}

static int64_t count_lf(const uint8_t *p, size_t n) {
  int64_t lf = 0;
  for (size_t i = 0; i < n; i++)
    lf += p[i] == '\n';
  return lf;
}

csv_smap csv_smap_identity(void) {
  csv_smap m = {.lf = 0};
  for (int s = 0; s < CSV_NSTATES; s++)
    m.to[s] = (uint8_t)s;
  return m;
}

/* Runs every start state over p[0..n) as a few "tracks": start states that have reached the
 * same state share one track from then on (the machine is deterministic), checked between
 * blocks, so a well-synchronising file costs about one table lookup per byte. */
csv_smap csv_smap_of(const uint8_t *p, size_t n) {
  enum { BLOCK = 1 << 14 };
  uint8_t cur[CSV_NSTATES];
  int track[CSV_NSTATES], ntracks = CSV_NSTATES;
  int64_t lf = 0;
  for (int s = 0; s < CSV_NSTATES; s++)
    cur[s] = (uint8_t)s, track[s] = s;
  for (size_t off = 0; off < n; off += BLOCK) {
    size_t len = n - off < BLOCK ? n - off : BLOCK;
    for (int t = 0; t < ntracks; t++) {
      unsigned st = cur[t];
      int64_t blk_lf;
      bool high;
      scan(&st, p + off, len, false, &blk_lf, &high);
      cur[t] = (uint8_t)st;
      if (t == 0) lf += blk_lf;
    }
    /* merge tracks that now hold the same state */
    int remap[CSV_NSTATES], kept = 0;
    for (int t = 0; t < ntracks; t++) {
      int same = -1;
      for (int u = 0; u < kept && same < 0; u++)
        if (cur[u] == cur[t]) same = u;
      if (same < 0) cur[kept] = cur[t], same = kept++;
      remap[t] = same;
    }
    for (int s = 0; s < CSV_NSTATES; s++)
      track[s] = remap[track[s]];
    ntracks = kept;
  }
  csv_smap m = {.lf = lf};
  for (int s = 0; s < CSV_NSTATES; s++)
    m.to[s] = cur[track[s]];
  return m;
}

csv_smap csv_smap_then(csv_smap first, csv_smap second) {
  csv_smap m = {.lf = first.lf + second.lf};
  for (int s = 0; s < CSV_NSTATES; s++)
    m.to[s] = second.to[first.to[s]];
  return m;
}

void csv_plan_tail(const csv_piece_info *all, int n, int k, int64_t b, int64_t size,
                   int64_t *tail_end, int64_t *read_end) {
  const csv_piece_info *me = &all[k];
  *tail_end = *read_end = b;
  if (me->end_state == CSV_ROW || me->first_row < 0 || me->first_row >= b) return;
  *tail_end = size;
  for (int r = k + 1; r < n; r++)
    if (all[r].first_row >= 0) {
      *tail_end = all[r].first_row;
      break;
    }
  *read_end = *tail_end;
  if (*tail_end == size && all[n - 1].end_state == CSV_QUO && size - b > CSV_RAW_MAX)
    *read_end = b + CSV_RAW_MAX;
}

/* ---- byte checks -------------------------------------------------------------------------- */

size_t csv_bom_len(const uint8_t *p, size_t n) {
  return n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0;
}

/* Length of the valid multi-byte sequence at p[0..n) (p[0] >= 0x80), or 0 when invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n) {
  uint8_t c = p[0];
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF; /* bounds of the second byte */
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else
    return 0;
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return len;
}

bool csv_utf8_valid(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    if (i + 16 <= n) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
      unsigned m = (unsigned)_mm_movemask_epi8(v);
      if (!m) {
        i += 16;
        continue;
      }
      i += (unsigned)__builtin_ctz(m); /* the first byte >= 0x80 */
      size_t len = utf8_seq(p + i, n - i);
      if (!len) return false;
      i += len;
      continue;
    }
#endif
    if (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (!(w & 0x8080808080808080ull)) {
        i += 8;
        continue;
      }
    }
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    size_t len = utf8_seq(p + i, n - i);
    if (!len) return false;
    i += len;
  }
  return true;
}

/* ---- rejects ------------------------------------------------------------------------------ */

const field_def CSV_REJECT_FIELDS[5] = {
    /* line and byte_offset are null for rows rejected after bronze (the silver stage). */
    {"source_file", COL_STRING, false}, {"line", COL_INT64, true},
    {"byte_offset", COL_INT64, true},   {"reason", COL_STRING, false},
    {"raw", COL_STRING, false},
};

batch *csv_rejects_new(void) {
  return batch_new(CSV_REJECT_FIELDS, 5);
}

void csv_reject_add(batch *rj, const char *source, int64_t line, int64_t offset, const char *reason,
                    const uint8_t *raw, size_t len) {
  if (len > CSV_RAW_MAX) {
    len = CSV_RAW_MAX;
    while (len > CSV_RAW_MAX - 4 && (raw[len] & 0xC0) == 0x80)
      len--;
  }
  col_append_str(&rj->cols[0], source, strlen(source));
  col_append_i64(&rj->cols[1], line);
  col_append_i64(&rj->cols[2], offset);
  col_append_str(&rj->cols[3], reason, strlen(reason));
  col_append_str(&rj->cols[4], raw, len);
  rj->nrows++;
}

/* ---- record parsing through libcsv -------------------------------------------------------- */

typedef struct parse_ctx {
  batch *rows;
  int ncols;
  int nfields; /* fields seen in the current record */
  int nends;   /* record ends libcsv reported for the current record */
} parse_ctx;

bool csv_libcsv_only = false;

static void col_pop(column *c);

/* The tail of column c gets len bytes at p (no capacity check: see split_rfc4180). */
static inline void put_bytes(column *c, const uint8_t *p, size_t len) {
  memcpy(c->bytes + c->nbytes, p, len);
  c->nbytes += len;
}

static inline void end_field(column *c, size_t start) {
  size_t len = c->nbytes - start;
  c->valid[c->n] = len != 0;
  c->null_count += len == 0;
  c->offsets[++c->n] = (int64_t)c->nbytes;
}

/* Splits one record (no terminator) into ctx's columns without libcsv, for records in RFC 4180
 * form: unquoted fields hold no quote; a quoted field's quotes are doubled inside and its
 * closing quote is followed by a comma or the record's end. On such records libcsv (no
 * options, no space characters) gives exactly these fields: unquoted bytes as they are, quoted
 * content with "" made ", an empty field (quoted or not) empty, a trailing comma one more empty
 * field. Anything else (a stray quote, text after a closing quote: SPEC §3's quirks) returns
 * false with nothing appended, and the record goes to libcsv. tests/fuzz/fuzz_csv.c checks both
 * ways give the same rows. */
static bool split_rfc4180(parse_ctx *ctx, const uint8_t *rec, size_t len) {
  int nf = 0;
  size_t i = 0;
  for (;;) {
    column *c = nf < ctx->ncols ? &ctx->rows->cols[nf] : NULL;
    if (c && ((size_t)c->n >= c->cap || c->nbytes + (len - i) > c->bytes_cap))
      col_reserve(c, 1, len - i); /* room for all that is left of the record */
    size_t start = c ? c->nbytes : 0, e;
    if (i < len && rec[i] == '"') {
      size_t j = i + 1;
      for (;;) {
        const uint8_t *q = memchr(rec + j, '"', len - j);
        if (!q) goto quirk; /* unterminated: libcsv decides */
        size_t k = (size_t)(q - rec);
        if (k + 1 < len && rec[k + 1] == '"') { /* "" inside: one quote */
          if (c) put_bytes(c, rec + j, k + 1 - j);
          j = k + 2;
          continue;
        }
        if (k + 1 < len && rec[k + 1] != ',') goto quirk; /* text after the closing quote */
        if (c) put_bytes(c, rec + j, k - j);
        e = k + 1;
        break;
      }
    } else {
      e = i;
      while (e < len && rec[e] != ',') {
        if (rec[e] == '"') goto quirk; /* a stray quote: kept literally by libcsv */
        e++;
      }
      if (c) put_bytes(c, rec + i, e - i);
    }
    if (c) end_field(c, start);
    nf++;
    if (e >= len) break;
    i = e + 1;
    continue;
  quirk:
    if (c) c->nbytes = start;
    for (int k = 0; k < nf && k < ctx->ncols; k++)
      col_pop(&ctx->rows->cols[k]);
    return false;
  }
  ctx->nfields = nf;
  return true;
}

static int never_space(unsigned char c) {
  return 0;
}

/* libcsv field callback: appends straight into the next column (no per-field allocation; the
 * columns are reserved from the slice size, so the common case is a copy and three stores). */
static void on_field(void *s, size_t len, void *data) {
  parse_ctx *ctx = data;
  int k = ctx->nfields++;
  if (k >= ctx->ncols) return;
  column *c = &ctx->rows->cols[k];
  if ((size_t)c->n < c->cap && c->nbytes + len <= c->bytes_cap) {
    if (len) memcpy(c->bytes + c->nbytes, s, len);
    c->nbytes += len;
    c->valid[c->n] = len != 0;
    c->null_count += len == 0;
    c->offsets[++c->n] = (int64_t)c->nbytes;
  } else if (len == 0)
    col_append_null(c);
  else
    col_append_str(c, s, len);
}

static void on_row(int c, void *data) {
  ((parse_ctx *)data)->nends++;
}

static void col_pop(column *c) {
  c->n--;
  if (!c->valid[c->n]) c->null_count--;
  if (c->type == COL_STRING) c->nbytes = (size_t)c->offsets[c->n];
}

static void parser_init(struct csv_parser *p) {
  csv_init(p, 0);
  csv_set_space_func(p, never_space);
  csv_set_blk_size(p, 1 << 12);
}

/* Feeds one record (no terminator) to libcsv. Returns ATH_OK, or ATH_ERR when libcsv fails
 * or reports other record ends than the model predicts. */
static int parse_record(struct csv_parser *p, parse_ctx *ctx, const uint8_t *rec, size_t len,
                        const char *source, int64_t offset, ath_error *err) {
  ctx->nfields = ctx->nends = 0;
  if (csv_parse(p, rec, len, on_field, on_row, ctx) != len || csv_fini(p, on_field, on_row, ctx))
    return ath_fail(err, ATH_ERR, "%s: byte %lld: csv parser: %s", source, (long long)offset,
                    csv_strerror(csv_error(p)));
  if (ctx->nends != 1)
    return ath_fail(err, ATH_ERR, "%s: byte %lld: internal error: tokeniser model disagrees",
                    source, (long long)offset);
  return ATH_OK;
}

/* Checks one record and appends it to rows, or to rejects. */
static int take_record(struct csv_parser *p, parse_ctx *ctx, batch *rejects, const uint8_t *rec,
                       size_t len, bool ascii, const char *source, int64_t line, int64_t offset,
                       int64_t *nrecords, int64_t *nrejects, ath_error *err) {
  if (!ascii && !csv_utf8_valid(rec, len)) {
    csv_reject_add(rejects, source, line, offset, "invalid UTF-8", rec, len);
    (*nrejects)++;
    return ATH_OK;
  }
  int rc = ATH_OK;
  if (csv_libcsv_only || !split_rfc4180(ctx, rec, len))
    rc = parse_record(p, ctx, rec, len, source, offset, err);
  if (rc != ATH_OK) return rc;
  if (ctx->nfields == ctx->ncols) {
    ctx->rows->nrows++;
    (*nrecords)++;
    return ATH_OK;
  }
  for (int i = 0; i < ctx->nfields && i < ctx->ncols; i++)
    col_pop(&ctx->rows->cols[i]);
  char reason[96];
  snprintf(reason, sizeof reason, "wrong field count: %d fields, expected %d", ctx->nfields,
           ctx->ncols);
  csv_reject_add(rejects, source, line, offset, reason, rec, len);
  (*nrejects)++;
  return ATH_OK;
}

void csv_positions_free(csv_positions *p) {
  free(p->offset);
  free(p->line);
  *p = (csv_positions){0};
}

static void add_position(csv_positions *p, int64_t offset, int64_t line) {
  if (p->n == p->cap) {
    size_t cap = p->cap;
    grow_array((void **)&p->offset, &cap, p->n + 1, sizeof *p->offset);
    grow_array((void **)&p->line, &p->cap, p->n + 1, sizeof *p->line);
  }
  p->offset[p->n] = offset;
  p->line[p->n++] = line;
}

void csv_reject_unterminated(csv_records *r, const uint8_t *p, size_t n, int64_t offset) {
  csv_reject_add(r->rejects, r->source, r->line, offset, "unterminated quoted field", p, n);
  r->nrejects++;
  r->done = true;
}

int csv_parse_window(csv_records *r, const uint8_t *p, size_t n, int64_t base, bool more,
                     size_t *used, ath_error *err) {
  struct csv_parser cp;
  parser_init(&cp);
  parse_ctx ctx = {.rows = r->rows, .ncols = r->rows->ncols};
  size_t i = 0;
  int rc = ATH_OK;
  while (rc == ATH_OK && !r->done) {
    for (; i < n && (p[i] == '\r' || p[i] == '\n'); i++)
      r->line += p[i] == '\n';
    if (i >= n) break;
    int64_t offset = base + (int64_t)i;
    if (offset >= r->own_end) {
      r->done = true;
      break;
    }
    unsigned st = CSV_ROW;
    int64_t lf;
    bool high;
    size_t j = i + scan(&st, p + i, n - i, true, &lf, &high);
    if (j == n && more) break; /* the record goes on in the next window */
    if (j == n && (st == CSV_QUO || r->truncated)) {
      csv_reject_unterminated(r, p + i, j - i, offset);
      i = j;
      break;
    }
    int64_t before = r->rows->nrows;
    rc = take_record(&cp, &ctx, r->rejects, p + i, j - i, !high, r->source, r->line, offset,
                     &r->nrecords, &r->nrejects, err);
    if (r->pos && r->rows->nrows > before) add_position(r->pos, offset, r->line);
    r->line += lf;
    i = j;
  }
  if (!more) r->done = true;
  csv_free(&cp);
  *used = i;
  return rc;
}

int csv_parse_chunk(const csv_chunk *ch, const char *source, batch *rows, batch *rejects,
                    int64_t *nrecords, int64_t *nrejects, ath_error *err) {
  const uint8_t *b = ch->buf;
  size_t n = (size_t)ch->len;
  int64_t first = csv_first_row_state(ch->start_state, b, n);
  if (first < 0) return ATH_OK;
  csv_records r = {.source = source,
                   .rows = rows,
                   .rejects = rejects,
                   .own_end = ch->own_end,
                   .truncated = ch->truncated,
                   .line = ch->start_line + count_lf(b, (size_t)first)};
  size_t used;
  int rc = csv_parse_window(&r, b + first, n - (size_t)first, ch->base + first, false, &used, err);
  *nrecords += r.nrecords;
  *nrejects += r.nrejects;
  return rc;
}

/* ---- the header --------------------------------------------------------------------------- */

typedef struct names_ctx {
  char **names;
  size_t cap;
  int n;
} names_ctx;

static void on_name(void *s, size_t len, void *data) {
  names_ctx *nc = data;
  grow_array((void **)&nc->names, &nc->cap, (size_t)nc->n + 1, sizeof *nc->names);
  char *name = xmalloc(len + 1);
  if (len) memcpy(name, s, len);
  name[len] = '\0';
  nc->names[nc->n++] = name;
}

void csv_names_free(char **names, int ncols) {
  if (!names) return;
  for (int i = 0; i < ncols; i++)
    free(names[i]);
  free(names);
}

/* Fails unless the column names are distinct. */
static int check_names(names_ctx *nc, const char *source, ath_error *err) {
  for (int i = 0; i < nc->n; i++) {
    for (int j = 0; j < i; j++)
      if (strcmp(nc->names[i], nc->names[j]) == 0)
        return ath_fail(err, ATH_ERR, "%s: line 1: duplicate column name '%s'", source,
                        nc->names[i]);
  }
  return ATH_OK;
}

int csv_parse_header(const uint8_t *p, size_t n, bool at_eof, const char *source, char ***names,
                     int *ncols, size_t *end, int64_t *lf, ath_error *err) {
  size_t i = 0;
  int64_t nl = 0;
  for (; i < n && (p[i] == '\r' || p[i] == '\n'); i++)
    nl += p[i] == '\n';
  int64_t line = 1 + nl;
  if (i == n) {
    if (!at_eof) return CSV_NEED_MORE;
    return ath_fail(err, ATH_ERR, "%s: empty file (no header row)", source);
  }
  size_t j = i;
  unsigned st = CSV_ROW;
  for (; j < n; j++) {
    st = trans[st][p[j]];
    if (st == CSV_ROW) break;
    nl += p[j] == '\n';
  }
  if (j == n && !at_eof) return CSV_NEED_MORE;
  if (st == CSV_QUO)
    return ath_fail(err, ATH_ERR, "%s: line %lld: unterminated quoted field in the header", source,
                    (long long)line);
  if (!csv_utf8_valid(p + i, j - i))
    return ath_fail(err, ATH_ERR, "%s: line %lld: invalid UTF-8 in the header", source,
                    (long long)line);
  struct csv_parser cp;
  parser_init(&cp);
  names_ctx nc = {0};
  int rc = ATH_OK;
  if (csv_parse(&cp, p + i, j - i, on_name, NULL, &nc) != j - i ||
      csv_fini(&cp, on_name, NULL, &nc))
    rc = ath_fail(err, ATH_ERR, "%s: header: csv parser: %s", source, csv_strerror(csv_error(&cp)));
  csv_free(&cp);
  if (rc == ATH_OK) rc = check_names(&nc, source, err);
  if (rc != ATH_OK) {
    csv_names_free(nc.names, nc.n);
    return rc;
  }
  *names = nc.names;
  *ncols = nc.n;
  *end = j < n ? j + 1 : n;
  *lf = nl + (j < n && p[j] == '\n');
  return ATH_OK;
}
