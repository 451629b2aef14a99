#include "kafka/json_row.h"

#include "core/status.h"

#include <stdlib.h>
#include <string.h>

/* Bytes that need an escape: '"', '\\' and the control bytes. */
static inline bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

static void reserve(char **buf, size_t *cap, size_t need) {
  if (need > *cap) grow_array((void **)buf, cap, need, 1);
}

void json_append_string(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
  reserve(buf, cap, *len + 6 * n + 2); /* the worst case: every byte as \u00XX */
  char *o = *buf + *len;
  *o++ = '"';
  size_t run = 0; /* bytes copied as they are, in runs */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!needs_escape(c)) continue;
    memcpy(o, s + run, i - run);
    o += i - run;
    run = i + 1;
    *o++ = '\\';
    switch (c) {
    case '"':
    case '\\':
      *o++ = (char)c;
      break;
    case '\b':
      *o++ = 'b';
      break;
    case '\f':
      *o++ = 'f';
      break;
    case '\n':
      *o++ = 'n';
      break;
    case '\r':
      *o++ = 'r';
      break;
    case '\t':
      *o++ = 't';
      break;
    default:
      memcpy(o, "u00", 3);
      o[3] = "0123456789abcdef"[c >> 4];
      o[4] = "0123456789abcdef"[c & 15];
      o += 5;
    }
  }
  memcpy(o, s + run, n - run);
  o += n - run;
  *o++ = '"';
  *len = (size_t)(o - *buf);
}

void json_row_enc_init(json_row_enc *e, const batch *schema) {
  memset(e, 0, sizeof *e);
  e->ncols = schema->ncols;
  e->key_prefix = xcalloc((size_t)e->ncols + 1, sizeof *e->key_prefix);
  e->key_len = xcalloc((size_t)e->ncols + 1, sizeof *e->key_len);
  for (int k = 0; k < e->ncols; k++) {
    const char *name = schema->cols[k].name;
    size_t cap = 0, len = 1;
    char *p = xmalloc(1);
    p[0] = k == 0 ? '{' : ',';
    cap = 1;
    json_append_string(&p, &len, &cap, name, strlen(name));
    reserve(&p, &cap, len + 1);
    p[len++] = ':';
    e->key_prefix[k] = p;
    e->key_len[k] = len;
  }
}

void json_row_enc_free(json_row_enc *e) {
  for (int k = 0; k < e->ncols; k++)
    free(e->key_prefix[k]);
  free(e->key_prefix);
  free(e->key_len);
  free(e->buf);
  memset(e, 0, sizeof *e);
}

void json_row_encode(json_row_enc *e, const batch *b, int64_t i) {
  e->len = 0;
  if (e->ncols == 0) {
    reserve(&e->buf, &e->cap, 2);
    memcpy(e->buf, "{}", 2);
    e->len = 2;
    return;
  }
  for (int k = 0; k < e->ncols; k++) {
    const column *c = &b->cols[k];
    reserve(&e->buf, &e->cap, e->len + e->key_len[k] + 5);
    memcpy(e->buf + e->len, e->key_prefix[k], e->key_len[k]);
    e->len += e->key_len[k];
    if (col_is_null(c, i)) {
      memcpy(e->buf + e->len, "null", 4);
      e->len += 4;
      continue;
    }
    size_t n;
    const uint8_t *s = col_str(c, i, &n);
    json_append_string(&e->buf, &e->len, &e->cap, (const char *)s, n);
  }
  reserve(&e->buf, &e->cap, e->len + 1);
  e->buf[e->len++] = '}';
}

/* ---- decoding ------------------------------------------------------------------------------ */

#include "csv/csv_core.h" /* csv_utf8_valid */

#include <stdio.h>

enum { JSON_MAX_DEPTH = 64 };

typedef struct jp {
  const uint8_t *p, *end;
  const char *why;
} jp;

static void ws(jp *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static bool fail(jp *j, const char *why) {
  if (!j->why) j->why = why;
  return false;
}

static int hexval(uint8_t c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

static bool hex4(jp *j, uint32_t *v) {
  if (j->end - j->p < 4) return fail(j, "truncated \\u escape");
  *v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(j->p[i]);
    if (h < 0) return fail(j, "invalid \\u escape");
    *v = *v << 4 | (uint32_t)h;
  }
  j->p += 4;
  return true;
}

static void put_utf8(json_row_dec *d, size_t *len, uint32_t cp) {
  if (*len + 4 > d->cap) grow_array((void **)&d->buf, &d->cap, *len + 4, 1);
  char *o = d->buf + *len;
  if (cp < 0x80) {
    o[0] = (char)cp;
    *len += 1;
  } else if (cp < 0x800) {
    o[0] = (char)(0xC0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3F));
    *len += 2;
  } else if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    *len += 3;
  } else {
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    *len += 4;
  }
}

/* A string (after its opening quote) into d->buf[0..*len). */
static bool string(jp *j, json_row_dec *d, size_t *len) {
  *len = 0;
  for (;;) {
    const uint8_t *s = j->p;
    while (j->p < j->end && *j->p != '"' && *j->p != '\\' && *j->p >= 0x20)
      j->p++;
    size_t run = (size_t)(j->p - s);
    if (*len + run > d->cap) grow_array((void **)&d->buf, &d->cap, *len + run, 1);
    if (run) memcpy(d->buf + *len, s, run);
    *len += run;
    if (j->p >= j->end) return fail(j, "unterminated string");
    uint8_t c = *j->p++;
    if (c == '"') return true;
    if (c < 0x20) return fail(j, "control character in a string");
    if (j->p >= j->end) return fail(j, "unterminated string");
    uint8_t e = *j->p++;
    uint32_t cp;
    switch (e) {
    case '"':
    case '\\':
    case '/':
      put_utf8(d, len, e);
      break;
    case 'b':
      put_utf8(d, len, '\b');
      break;
    case 'f':
      put_utf8(d, len, '\f');
      break;
    case 'n':
      put_utf8(d, len, '\n');
      break;
    case 'r':
      put_utf8(d, len, '\r');
      break;
    case 't':
      put_utf8(d, len, '\t');
      break;
    case 'u':
      if (!hex4(j, &cp)) return false;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(j, "a lone low surrogate in a \\u escape");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
          return fail(j, "a lone high surrogate in a \\u escape");
        j->p += 2;
        if (!hex4(j, &lo)) return false;
        if (lo < 0xDC00 || lo > 0xDFFF) return fail(j, "a high surrogate without its low half");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      put_utf8(d, len, cp);
      break;
    default:
      return fail(j, "invalid escape in a string");
    }
  }
}

/* A number's literal text: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number(jp *j) {
  const uint8_t *p = j->p;
#define DIGITS(min)                                                                                \
  do {                                                                                             \
    int n_ = 0;                                                                                    \
    while (p < j->end && *p >= '0' && *p <= '9')                                                   \
      p++, n_++;                                                                                   \
    if (n_ < (min)) return fail(j, "invalid number");                                              \
  } while (0)
  if (p < j->end && *p == '-') p++;
  if (p < j->end && *p == '0')
    p++;
  else
    DIGITS(1);
  if (p < j->end && *p == '.') {
    p++;
    DIGITS(1);
  }
  if (p < j->end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < j->end && (*p == '+' || *p == '-')) p++;
    DIGITS(1);
  }
#undef DIGITS
  j->p = p;
  return true;
}

static bool literal(jp *j, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return fail(j, "invalid JSON");
  j->p += n;
  return true;
}

/* Skips any value (an unknown key's). */
static bool skip_value(jp *j, json_row_dec *d, int depth) {
  if (depth > JSON_MAX_DEPTH) return fail(j, "nested too deeply");
  ws(j);
  if (j->p >= j->end) return fail(j, "invalid JSON");
  size_t len;
  switch (*j->p) {
  case '"':
    j->p++;
    return string(j, d, &len);
  case '{':
  case '[': {
    uint8_t close = *j->p == '{' ? '}' : ']';
    bool obj = close == '}';
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) {
      j->p++;
      return true;
    }
    for (;;) {
      if (obj) {
        ws(j);
        if (j->p >= j->end || *j->p != '"') return fail(j, "invalid JSON");
        j->p++;
        if (!string(j, d, &len)) return false;
        ws(j);
        if (j->p >= j->end || *j->p != ':') return fail(j, "invalid JSON");
        j->p++;
      }
      if (!skip_value(j, d, depth + 1)) return false;
      ws(j);
      if (j->p < j->end && *j->p == ',') {
        j->p++;
        continue;
      }
      if (j->p < j->end && *j->p == close) {
        j->p++;
        return true;
      }
      return fail(j, "invalid JSON");
    }
  }
  case 't':
    return literal(j, "true");
  case 'f':
    return literal(j, "false");
  case 'n':
    return literal(j, "null");
  default:
    return number(j);
  }
}

void json_row_dec_init(json_row_dec *d, batch *out) {
  memset(d, 0, sizeof *d);
  d->out = out;
  d->seen = xcalloc((size_t)out->ncols + 1, 1);
}

void json_row_dec_free(json_row_dec *d) {
  free(d->seen);
  free(d->buf);
  memset(d, 0, sizeof *d);
}

static int find_col(const batch *b, const char *name, size_t n) {
  for (int k = 0; k < b->ncols; k++)
    if (strlen(b->cols[k].name) == n && memcmp(b->cols[k].name, name, n) == 0) return k;
  return -1;
}

/* Undoes the cells appended so far to an unfinished row. */
static void undo(json_row_dec *d) {
  batch *b = d->out;
  for (int k = 0; k < b->ncols; k++) {
    column *c = &b->cols[k];
    if (c->type == COL_STRING && c->n > b->nrows) {
      c->n = b->nrows;
      if (!c->valid[c->n]) c->null_count--;
      c->nbytes = (size_t)c->offsets[c->n];
    }
  }
}

bool json_row_decode(json_row_dec *d, const uint8_t *p, size_t n, int64_t *unknown, char *why,
                     size_t whylen) {
  batch *b = d->out;
  jp j = {p, p + n, NULL};
  int64_t skipped = 0;
  bool ok = true;
  if (!csv_utf8_valid(p, n)) {
    snprintf(why, whylen, "not UTF-8");
    return false;
  }
  memset(d->seen, 0, (size_t)b->ncols);
  ws(&j);
  if (j.p >= j.end || *j.p != '{') {
    snprintf(why, whylen, "%s", j.p >= j.end ? "empty message" : "not a JSON object");
    return false;
  }
  j.p++;
  ws(&j);
  bool empty = j.p < j.end && *j.p == '}';
  if (empty) j.p++;
  while (ok && !empty) {
    ws(&j);
    size_t klen;
    if (j.p >= j.end || *j.p != '"') {
      ok = fail(&j, "invalid JSON");
      break;
    }
    j.p++;
    if (!(ok = string(&j, d, &klen))) break;
    int k = find_col(b, d->buf, klen);
    ws(&j);
    if (j.p >= j.end || *j.p != ':') {
      ok = fail(&j, "invalid JSON");
      break;
    }
    j.p++;
    ws(&j);
    if (k < 0) {
      skipped++;
      ok = skip_value(&j, d, 1);
    } else if (d->seen[k]) {
      snprintf(why, whylen, "key \"%s\" given twice", b->cols[k].name);
      undo(d);
      return false;
    } else if (j.p < j.end && (*j.p == '{' || *j.p == '[')) {
      snprintf(why, whylen, "column %s: an %s where a string belongs", b->cols[k].name,
               *j.p == '{' ? "object" : "array");
      undo(d);
      return false;
    } else {
      d->seen[k] = 1;
      column *c = &b->cols[k];
      const uint8_t *start = j.p;
      size_t len;
      if (j.p < j.end && *j.p == '"') {
        j.p++;
        if ((ok = string(&j, d, &len))) col_append_str(c, d->buf, len);
      } else if (j.p < j.end && *j.p == 'n') {
        if ((ok = literal(&j, "null"))) col_append_null(c);
      } else if (j.p < j.end && (*j.p == 't' || *j.p == 'f')) {
        if ((ok = literal(&j, *j.p == 't' ? "true" : "false")))
          col_append_str(c, start, (size_t)(j.p - start));
      } else {
        if ((ok = number(&j))) col_append_str(c, start, (size_t)(j.p - start));
      }
    }
    if (!ok) break;
    ws(&j);
    if (j.p < j.end && *j.p == ',') {
      j.p++;
      continue;
    }
    if (j.p < j.end && *j.p == '}') {
      j.p++;
      break;
    }
    ok = fail(&j, "invalid JSON");
  }
  ws(&j);
  if (ok && j.p != j.end) ok = fail(&j, "data after the JSON object");
  if (!ok) {
    snprintf(why, whylen, "%s", j.why ? j.why : "invalid JSON");
    undo(d);
    return false;
  }
  for (int k = 0; k < b->ncols; k++)
    if (!d->seen[k]) col_append_null(&b->cols[k]);
  b->nrows++;
  *unknown += skipped;
  return true;
}
