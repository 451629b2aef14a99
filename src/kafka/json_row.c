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
