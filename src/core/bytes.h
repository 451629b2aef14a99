/* Unaligned native-endian loads (memcpy compiles to one move), shared by the hash functions. */
#ifndef ATHLETE_CORE_BYTES_H
#define ATHLETE_CORE_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint32_t load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

#endif
