#include "core/bytes.h"
#include "core/status.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LE_HOST 1 /* the host's byte order is the format's: a copy does */
#else
#define LE_HOST 0
#endif

void le_put(le_buf *b, uint64_t v, int nbytes) {
  if (b->len + (size_t)nbytes > b->cap)
    grow_array((void **)&b->p, &b->cap, b->len + (size_t)nbytes, 1);
  if (LE_HOST) {
    memcpy(b->p + b->len, &v, (size_t)nbytes);
    b->len += (size_t)nbytes;
    return;
  }
  for (int i = 0; i < nbytes; i++)
    b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

void le_put_bytes(le_buf *b, const void *p, size_t n) {
  grow_array((void **)&b->p, &b->cap, b->len + n + 1, 1);
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
}

uint64_t le_get(le_reader *r, int nbytes) {
  if (r->bad || r->n - r->at < (size_t)nbytes) {
    r->bad = true;
    return 0;
  }
  uint64_t v = 0;
  if (LE_HOST) {
    memcpy(&v, r->p + r->at, (size_t)nbytes);
    r->at += (size_t)nbytes;
    return v;
  }
  for (int i = 0; i < nbytes; i++)
    v |= (uint64_t)r->p[r->at++] << (8 * i);
  return v;
}

const uint8_t *le_get_bytes(le_reader *r, size_t n) {
  if (r->bad || r->n - r->at < n) {
    r->bad = true;
    return NULL;
  }
  r->at += n;
  return r->p + r->at - n;
}
