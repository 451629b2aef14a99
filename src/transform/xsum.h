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

#endif
