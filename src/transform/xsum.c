#include "transform/xsum.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

void xsum_init(xsum *s) {
  memset(s, 0, sizeof *s);
}

/* Adds (sub = false) or subtracts m * 2^pos (any 64-bit m) to the limbs, carrying through. */
static void add_shifted(xsum *s, uint64_t m, int pos, bool sub) {
  int li = pos / 64, sh = pos % 64;
  uint64_t part[2] = {m << sh, sh ? m >> (64 - sh) : 0};
  uint64_t carry = 0;
  for (int k = li; k < XSUM_LIMBS; k++) {
    uint64_t a = k - li < 2 ? part[k - li] : 0;
    if (k - li >= 2 && !carry) break;
    uint64_t old = s->limb[k], t = a + carry;
    uint64_t c1 = t < a; /* a + carry overflowed */
    if (!sub) {
      s->limb[k] = old + t;
      carry = c1 | (s->limb[k] < old);
    } else {
      s->limb[k] = old - t;
      carry = c1 | (old < t);
    }
  }
}

void xsum_add(xsum *s, double v) {
  if (!isfinite(v)) {
    s->special += v;
    return;
  }
  uint64_t bits;
  memcpy(&bits, &v, 8);
  int e = (int)((bits >> 52) & 0x7ff);
  uint64_t m = bits & ((1ull << 52) - 1);
  if (e) m |= 1ull << 52;
  if (m) add_shifted(s, m, e ? e - 1 : 0, bits >> 63);
}

void xsum_fold(xsum *s, xsum_fast *f) {
  bool neg = f->v < 0;
  unsigned __int128 u = neg ? -(unsigned __int128)f->v : (unsigned __int128)f->v;
  /* Bit 0 of the limbs is 2^-1074, bit 0 of f is 2^-64. */
  if (u) {
    add_shifted(s, (uint64_t)u, 1074 - 64, neg);
    add_shifted(s, (uint64_t)(u >> 64), 1074, neg);
  }
  f->v = 0;
  f->n = 0;
}

void xsum_merge(xsum *dst, const xsum *src) {
  uint64_t carry = 0;
  for (int k = 0; k < XSUM_LIMBS; k++) {
    uint64_t a = dst->limb[k], b = src->limb[k], t = a + b;
    uint64_t c = t < a;
    dst->limb[k] = t + carry;
    carry = c | (dst->limb[k] < t);
  }
  dst->special += src->special;
}

/* 64 bits of the magnitude starting at bit position pos (pos >= 0). */
static uint64_t window(const uint64_t *l, int pos) {
  int li = pos / 64, sh = pos % 64;
  uint64_t lo = l[li] >> sh;
  if (sh && li + 1 < XSUM_LIMBS) lo |= l[li + 1] << (64 - sh);
  return lo;
}

/* True when any bit below position pos is set. */
static bool any_below(const uint64_t *l, int pos) {
  int li = pos / 64, sh = pos % 64;
  for (int k = 0; k < li; k++)
    if (l[k]) return true;
  return sh && (l[li] & ((1ull << sh) - 1));
}

double xsum_round(const xsum *s) {
  if (s->special != 0 || isnan(s->special)) return s->special;
  uint64_t mag[XSUM_LIMBS];
  bool neg = s->limb[XSUM_LIMBS - 1] >> 63;
  uint64_t carry = 1;
  for (int k = 0; k < XSUM_LIMBS; k++) { /* magnitude: negate when negative */
    mag[k] = neg ? ~s->limb[k] + carry : s->limb[k];
    if (neg) carry = carry && mag[k] == 0;
  }
  int top = -1;
  for (int k = XSUM_LIMBS - 1; k >= 0 && top < 0; k--)
    if (mag[k]) top = k * 64 + 63 - __builtin_clzll(mag[k]);
  if (top < 0) return 0.0;
  double r;
  if (top < 53) {
    r = ldexp((double)mag[0], -1074); /* exact: fits the mantissa */
  } else {
    int low = top - 52; /* position of the mantissa's lowest bit */
    uint64_t m = window(mag, low) & ((1ull << 53) - 1);
    bool half = (window(mag, low - 1) & 1), sticky = any_below(mag, low - 1);
    if (half && (sticky || (m & 1))) m++;
    r = ldexp((double)m, low - 1074); /* m == 2^53 after rounding up is still exact */
  }
  return neg ? -r : r;
}
