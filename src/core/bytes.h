/* Bytes: unaligned native-endian loads (memcpy compiles to one move), shared by the hash
 * functions; and little-endian writing and reading, for the formats the project defines
 * (checkpoints, gold's portable group records), the same on any host. */
#ifndef ATHLETE_CORE_BYTES_H
#define ATHLETE_CORE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
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

static inline uint32_t le_load32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void le_store32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* A growing buffer written little-endian (its memory is the caller's: free(b.p)). */
typedef struct le_buf {
  uint8_t *p;
  size_t len, cap;
} le_buf;

/* Appends the low `nbytes` bytes of v, least significant first. */
void le_put(le_buf *b, uint64_t v, int nbytes);
void le_put_bytes(le_buf *b, const void *p, size_t n);

/* Reads what le_put wrote. Running past the end sets `bad` and reads zeros / NULL. */
typedef struct le_reader {
  const uint8_t *p;
  size_t n, at;
  bool bad;
} le_reader;

uint64_t le_get(le_reader *r, int nbytes);
/* The next n bytes (NULL when fewer are left). */
const uint8_t *le_get_bytes(le_reader *r, size_t n);

#endif
