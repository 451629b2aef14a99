/* Internals shared by the generator's files: the PRNG, the buffered output sink, the word
 * tables and the per-athlete attributes. Not part of the public API. */
#ifndef ATHLETE_GEN_INTERNAL_H
#define ATHLETE_GEN_INTERNAL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- PRNG: splitmix64, one state word per stream ------------------------------------------ */

typedef struct gen_rng {
  uint64_t s;
} gen_rng;

static inline uint64_t gen_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t gen_next(gen_rng *r) {
  r->s += 0x9e3779b97f4a7c15ULL;
  return gen_mix(r->s);
}

/* Uniform integer in [0, n) for n < 2^32 (multiply-shift, bias negligible here). */
static inline uint32_t gen_below(gen_rng *r, uint32_t n) {
  return (uint32_t)(((gen_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform integer in [lo, hi]. */
static inline int gen_range(gen_rng *r, int lo, int hi) {
  return lo + (int)gen_below(r, (uint32_t)(hi - lo + 1));
}

/* True with probability ppm / 1e6. */
static inline int gen_chance(gen_rng *r, uint32_t ppm) {
  return gen_below(r, 1000000) < ppm;
}

/* ---- output sink: a large buffer flushed with fwrite; the first error sticks --------------- */

#define GEN_BUF_SIZE (4u << 20)
#define GEN_ROW_MAX  (64u << 10) /* no record is longer; reserved before each record */

typedef struct gen_out {
  FILE *f;
  char *buf;
  size_t len;
  int64_t bytes; /* total bytes handed to the sink */
  int err;       /* errno of the first failed write, 0 while fine */
} gen_out;

void gen_out_flush(gen_out *o);

/* Makes room for one whole record, so a record never straddles a flush. */
static inline void gen_reserve(gen_out *o) {
  if (o->len + GEN_ROW_MAX > GEN_BUF_SIZE) gen_out_flush(o);
}

static inline void gen_put(gen_out *o, const char *s, size_t n) {
  memcpy(o->buf + o->len, s, n);
  o->len += n;
}

static inline void gen_putc(gen_out *o, char c) {
  o->buf[o->len++] = c;
}

static inline void gen_puts(gen_out *o, const char *s) {
  gen_put(o, s, strlen(s));
}

/* Formats v in decimal into dst (at least 20 bytes, not NUL-terminated); returns the length. */
static inline size_t gen_fmt_u64(char *dst, uint64_t v) {
  char tmp[24];
  size_t n = 0, k = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n)
    dst[k++] = tmp[--n];
  return k;
}

/* Writes v in decimal. */
static inline void gen_put_u64(gen_out *o, uint64_t v) {
  o->len += gen_fmt_u64(o->buf + o->len, v);
}

/* Writes a field QUOTE_MINIMAL: quoted (inner quotes doubled) only when it holds a comma, a
 * quote, CR or LF. */
void gen_put_field(gen_out *o, const char *s, size_t n);

/* ---- word tables (gen_tables.c): constant data ---------------------------------------------- */

typedef struct gen_noc {
  const char *code, *country;
} gen_noc;

typedef struct gen_sport {
  const char *name;
  int team;           /* 1: results rows are team members sharing a position */
  const char *events; /* event stems separated by '|' */
} gen_sport;

extern const char *const gen_first_male[], *const gen_first_female[], *const gen_last[];
extern const int gen_n_first_male, gen_n_first_female, gen_n_last;
extern const gen_noc gen_nocs[];
extern const int gen_n_nocs, gen_n_big_nocs; /* the first gen_n_big_nocs are the frequent ones */
extern const gen_sport gen_sports[];
extern const int gen_n_sports;
extern const char *const gen_sentences[];
extern const int gen_n_sentences;
extern const char *const gen_notes[];
extern const int gen_n_notes;
extern const char *const gen_months[12];
extern const char *const gen_nicknames[];
extern const int gen_n_nicknames;

/* ---- athletes: attributes are a pure function of (seed, index) ------------------------------ */

typedef struct gen_athlete {
  uint64_t id; /* athlete_id as written in bio */
  int female;  /* 0 Male, 1 Female */
  int first;   /* index into gen_first_male / gen_first_female */
  int last;    /* index into gen_last */
  int noc;     /* index into gen_nocs */
} gen_athlete;

/* Fills *a with athlete number idx (0-based; ids of idx >= the bio row count exist nowhere). */
void gen_athlete_of(uint64_t seed, int64_t idx, gen_athlete *a);

/* Writes "<first> <last>" into buf (cap bytes, NUL-terminated); returns its length. */
size_t gen_athlete_name(const gen_athlete *a, char *buf, size_t cap);

/* Writes the name as the clean-duplicate twin of a record: bytes >= 0x80 removed when it has
 * any (`Károly` → `Kroly`), else `é` inserted after its first byte. Both clean to the same. */
void gen_put_name_twin(gen_out *o, const char *name, size_t n);

/* Writes the name with invalid UTF-8 bytes after its first byte (variant picks which). */
void gen_put_name_bad_utf8(gen_out *o, const char *name, size_t n, int variant);

/* ---- quirks: each record draws at most one ------------------------------------------------- */

enum gen_quirk {
  Q_NONE,
  Q_DUP_EXACT,
  Q_DUP_CLEAN,
  Q_STRAY_QUOTE,
  Q_SPACES,
  Q_BAD_ID,
  Q_BAD_NUMBER,
  Q_BLANK,
  Q_WRONG_FIELDS,
  Q_BAD_UTF8,
  Q_COUNT
};

/* Picks the quirk of record number `row`: records 2, 5, 8, ... force each quirk with a nonzero
 * rate once, in order; otherwise one draw against the cumulative rates ppm[Q_COUNT]. */
static inline int gen_pick_quirk(gen_rng *r, int64_t row, const uint32_t *ppm) {
  uint32_t u = gen_below(r, 1000000);
  if (row >= 2 && (row - 2) % 3 == 0 && (row - 2) / 3 + 1 < Q_COUNT) {
    int q = (int)((row - 2) / 3 + 1);
    if (ppm[q]) return q;
  }
  for (int q = 1; q < Q_COUNT; q++) {
    if (u < ppm[q]) return q;
    u -= ppm[q];
  }
  return Q_NONE;
}

/* ---- the two files ------------------------------------------------------------------------- */

typedef struct gen_file_job {
  uint64_t seed;
  int64_t rows;     /* records to write */
  int64_t bio_rows; /* bio record count (the results file draws athletes from it) */
  gen_out out;
} gen_file_job;

/* Write the whole file into job->out (header included); errors stick in job->out.err. */
void gen_bio_file(gen_file_job *job);
void gen_results_file(gen_file_job *job);

#endif
