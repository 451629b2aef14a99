/* Exact summation of doubles: a fixed-point two's-complement integer wide enough to hold any
 * finite double exactly (bit 0 is 2^-1074, the smallest subnormal) plus 64 bits of headroom,
 * so 2^64 additions of any finite doubles never overflow. The sum is therefore independent of
 * the order of additions and of how they are split across ranks; it is rounded to double once,
 * correctly (round half to even), at the end. Infinities and NaNs, which have no exact value,
 * are added up separately in floating point (inf + -inf = NaN, order-independent too). */
#ifndef ATHLETE_TRANSFORM_XSUM_H
#define ATHLETE_TRANSFORM_XSUM_H

#include <stdint.h>

#define XSUM_LIMBS 34 /* 2176 bits >= 1074 + 1024 + 64 headroom + sign */

typedef struct xsum {
  uint64_t limb[XSUM_LIMBS]; /* little-endian limbs, two's complement */
  double special;            /* sum of the non-finite inputs (0 when none) */
} xsum;

void xsum_init(xsum *s);
/* Adds v exactly. */
void xsum_add(xsum *s, double v);
/* dst += src, exactly. */
void xsum_merge(xsum *dst, const xsum *src);
/* The sum rounded once to the nearest double (ties to even); ±inf beyond the double range; the
 * non-finite sum when any non-finite value was added. */
double xsum_round(const xsum *s);

/* A fast exact partial sum of "ordinary" doubles (finite, 2^-12 <= |v| < 2^40, or zero: their
 * bits all lie between 2^-64 and 2^92) as a 128-bit fixed-point integer with 64 fraction
 * bits. It holds at most XSUM_FAST_MAX of them (so it cannot overflow); xsum_fold adds it to
 * an xsum. Heights and weights are ordinary, so a group's sums stay in 32 bytes each until
 * the end and the xsum is touched once. */
#define XSUM_FAST_MAX ((int64_t)1 << 23)

typedef struct xsum_fast {
  __int128 v;
  int64_t n;
} xsum_fast;

/* s += f exactly; f becomes empty. */
void xsum_fold(xsum *s, xsum_fast *f);

/* Adds v to f when it is ordinary (folding f into s first when full), else to s. */
static inline void xsum_add_fast(xsum *s, xsum_fast *f, double v) {
  uint64_t bits;
  __builtin_memcpy(&bits, &v, 8);
  int e = (int)((bits >> 52) & 0x7ff) - 1023;
  if (e < -12 || e > 39) {
    if (v != 0) xsum_add(s, v); /* zero adds nothing either way */
    return;
  }
  if (f->n == XSUM_FAST_MAX) xsum_fold(s, f);
  __int128 m = (__int128)((bits & ((1ull << 52) - 1)) | (1ull << 52)) << (e + 12);
  f->v += bits >> 63 ? -m : m;
  f->n++;
}

#endif
