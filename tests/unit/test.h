/* A tiny unit-test harness: TEST(name) { ... } registers a test; CHECK* macros print both
 * values and the location on failure and mark the test failed (the test goes on). Each
 * tests/unit/test_<name>.c becomes one executable run by CTest as unit_<name>; run it with a
 * test name (or a prefix) to run only those tests. */
#ifndef ATHLETE_TEST_H
#define ATHLETE_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
extern int test_failed;

#define TEST(name)                                                                                 \
  static void test_##name(void);                                                                   \
  __attribute__((constructor)) static void register_##name(void) {                                 \
    test_register(#name, test_##name);                                                             \
  }                                                                                                \
  static void test_##name(void)

#define FAILF(...)                                                                                 \
  do {                                                                                             \
    fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                              \
    fprintf(stderr, __VA_ARGS__);                                                                  \
    fputc('\n', stderr);                                                                           \
    test_failed = 1;                                                                               \
  } while (0)

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) FAILF("CHECK(%s) failed", #cond);                                                 \
  } while (0)

#define CHECK_INT(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (a_ != b_) FAILF("%s == %s: %lld != %lld", #a, #b, a_, b_);                                 \
  } while (0)

#define CHECK_STR(a, b)                                                                            \
  do {                                                                                             \
    const char *a_ = (a), *b_ = (b);                                                               \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                         \
      FAILF("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");         \
  } while (0)

#define CHECK_MEM(a, alen, b, blen)                                                                \
  do {                                                                                             \
    size_t al_ = (size_t)(alen), bl_ = (size_t)(blen);                                             \
    if (al_ != bl_ || memcmp((a), (b), al_) != 0)                                                  \
      FAILF("%s == %s: \"%.*s\" (%zu) != \"%.*s\" (%zu)", #a, #b, (int)al_, (const char *)(a),     \
            al_, (int)bl_, (const char *)(b), bl_);                                                \
  } while (0)

/* Initialises MPI once (a singleton world of one rank), finalised at exit. */
void test_mpi_init(void);

/* Reads a whole file into a NUL-terminated heap buffer (caller frees); *len gets its size.
 * NULL when it cannot be opened. */
char *test_read_file(const char *path, size_t *len);

/* Returns a fresh empty temporary directory (valid until exit; removed at exit). */
const char *test_tmpdir(void);

#endif
