#include "core/json.h"
#include "core/status.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void json_write_string(FILE *f, const char *s, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"':
      fputs("\\\"", f);
      break;
    case '\\':
      fputs("\\\\", f);
      break;
    case '\n':
      fputs("\\n", f);
      break;
    case '\r':
      fputs("\\r", f);
      break;
    case '\t':
      fputs("\\t", f);
      break;
    default:
      if (c < 0x20)
        fprintf(f, "\\u%04x", c);
      else
        fputc(c, f);
    }
  }
  fputc('"', f);
}

void json_write_cstr(FILE *f, const char *s) {
  if (!s)
    fputs("null", f);
  else
    json_write_string(f, s, strlen(s));
}

void json_number_text(double v, char *out, size_t n) {
  double a = v < 0 ? -v : v;
  bool plain_ok = a == 0 || (a >= 1e-4 && a < 1e17);
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, n, "%.*g", prec, v);
    if (strtod(out, NULL) != v) continue;
    if (!plain_ok || !strchr(out, 'e') || prec == 17) return;
  }
}

void json_timestamp_text(int64_t us, char *out, size_t n) {
  time_t s = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, n, "%s.%06lldZ", buf, (long long)(us % 1000000));
}

/* ---- reading ---------------------------------------------------------------------------- */
typedef struct jparser {
  const char *p, *start, *end;
  char *why;
  size_t whylen;
  int depth;
} jparser;

static int jfail(jparser *j, const char *what) {
  if (j->why && j->whylen && !j->why[0])
    snprintf(j->why, j->whylen, "%s at byte %lld", what, (long long)(j->p - j->start));
  return -1;
}

static void jspace(jparser *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int jhex4(jparser *j, unsigned *out) {
  if (j->end - j->p < 4) return jfail(j, "short \\u escape");
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = j->p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return jfail(j, "bad \\u escape");
    v = v * 16 + (unsigned)d;
  }
  j->p += 4;
  *out = v;
  return 0;
}

static size_t utf8_put(unsigned cp, char *o) {
  if (cp < 0x80) return o[0] = (char)cp, 1;
  if (cp < 0x800) return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3F)), 2;
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (char)(0x80 | (cp >> 6 & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A string literal (j->p at its opening quote) into a new NUL-terminated buffer. */
static int jstring(jparser *j, char **out) {
  j->p++;
  const char *q = j->p;
  while (q < j->end && *q != '"')
    q += *q == '\\' ? 2 : 1;
  if (q >= j->end) return jfail(j, "unterminated string");
  char *o = xmalloc((size_t)(q - j->p) + 1), *w = o; /* escapes never grow the text */
  while (*j->p != '"') {
    char c = *j->p++;
    if ((unsigned char)c < 0x20) return free(o), jfail(j, "control character in a string");
    if (c != '\\') {
      *w++ = c;
      continue;
    }
    c = *j->p++;
    unsigned cp;
    switch (c) {
    case '"':
    case '\\':
    case '/':
      *w++ = c;
      break;
    case 'b':
      *w++ = '\b';
      break;
    case 'f':
      *w++ = '\f';
      break;
    case 'n':
      *w++ = '\n';
      break;
    case 'r':
      *w++ = '\r';
      break;
    case 't':
      *w++ = '\t';
      break;
    case 'u':
      if (jhex4(j, &cp) != 0) return free(o), -1;
      if (cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair: \uD83D\uDE00 */
        unsigned lo;
        if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
          return free(o), jfail(j, "lone surrogate");
        j->p += 2;
        if (jhex4(j, &lo) != 0) return free(o), -1;
        if (lo < 0xDC00 || lo > 0xDFFF) return free(o), jfail(j, "lone surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return free(o), jfail(j, "lone surrogate");
      }
      w += utf8_put(cp, w);
      break;
    default:
      return free(o), jfail(j, "bad escape");
    }
  }
  j->p++;
  *w = '\0';
  *out = o;
  return 0;
}

static int jvalue(jparser *j, json_value *v);

static int jitems(jparser *j, json_value *v, char close) {
  int cap = 0;
  j->p++;
  jspace(j);
  if (j->p < j->end && *j->p == close) return j->p++, 0;
  for (;;) {
    if (v->n == cap) {
      cap = cap ? cap * 2 : 8;
      v->items = xrealloc(v->items, (size_t)cap * sizeof *v->items);
      if (close == '}') v->keys = xrealloc(v->keys, (size_t)cap * sizeof *v->keys);
    }
    jspace(j);
    if (close == '}') {
      if (j->p >= j->end || *j->p != '"') return jfail(j, "expected a key");
      if (jstring(j, &v->keys[v->n]) != 0) return -1;
      jspace(j);
      if (j->p >= j->end || *j->p != ':') return free(v->keys[v->n]), jfail(j, "expected ':'");
      j->p++;
    }
    memset(&v->items[v->n], 0, sizeof v->items[0]);
    int rc = jvalue(j, &v->items[v->n]);
    v->n++; /* freed with the rest on failure */
    if (rc != 0) return -1;
    jspace(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    if (j->p < j->end && *j->p == close) return j->p++, 0;
    return jfail(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static int jword(jparser *j, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) return jfail(j, "invalid JSON");
  j->p += n;
  return 0;
}

static int jvalue(jparser *j, json_value *v) {
  jspace(j);
  if (j->p >= j->end) return jfail(j, "unexpected end");
  char c = *j->p;
  int rc;
  switch (c) {
  case '{':
  case '[':
    if (++j->depth > 64) return jfail(j, "nested too deep");
    v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
    rc = jitems(j, v, c == '{' ? '}' : ']');
    j->depth--;
    return rc;
  case '"':
    v->type = JSON_STRING;
    return jstring(j, &v->str);
  case 't':
  case 'f':
    v->type = JSON_BOOL;
    v->num = c == 't';
    return jword(j, c == 't' ? "true" : "false");
  case 'n':
    v->type = JSON_NULL;
    return jword(j, "null");
  default: {
    char buf[64];
    size_t k = 0;
    while (j->p + k < j->end && k < sizeof buf - 1 && strchr("+-0123456789.eE", j->p[k]))
      k++;
    if (k == 0 || k == sizeof buf - 1) return jfail(j, "invalid JSON");
    memcpy(buf, j->p, k);
    buf[k] = '\0';
    char *e;
    v->type = JSON_NUMBER;
    v->num = strtod(buf, &e);
    if (*e) return jfail(j, "invalid number");
    j->p += k;
    return 0;
  }
  }
}

int json_parse(const char *text, size_t n, json_value *out, char *why, size_t whylen) {
  jparser j = {text, text, text + n, why, whylen, 0};
  if (why && whylen) why[0] = '\0';
  memset(out, 0, sizeof *out);
  int rc = jvalue(&j, out);
  if (rc == 0) {
    jspace(&j);
    if (j.p != j.end) rc = jfail(&j, "text after the value");
  }
  if (rc != 0) json_free(out);
  return rc;
}

void json_free(json_value *v) {
  if (!v) return;
  for (int i = 0; i < v->n; i++) {
    json_free(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->str);
  memset(v, 0, sizeof *v);
}

const json_value *json_get(const json_value *v, const char *key) {
  if (!v || v->type != JSON_OBJECT) return NULL;
  for (int i = 0; i < v->n; i++)
    if (strcmp(v->keys[i], key) == 0) return &v->items[i];
  return NULL;
}

double json_num(const json_value *v, double dflt) {
  return v && v->type == JSON_NUMBER ? v->num : dflt;
}
