#include "test.h"

#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_TESTS 512

static struct {
  const char *name;
  test_fn fn;
} tests[MAX_TESTS];
static int ntests;
int test_failed;
static char tmpdir[256];

void test_register(const char *name, test_fn fn) {
  if (ntests == MAX_TESTS) {
    fprintf(stderr, "too many tests\n");
    abort();
  }
  tests[ntests].name = name;
  tests[ntests++].fn = fn;
}

static void remove_tmpdir(void) {
  if (!tmpdir[0]) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

const char *test_tmpdir(void) {
  if (!tmpdir[0]) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/athlete-unit-XXXXXX");
    if (!mkdtemp(tmpdir)) {
      perror("mkdtemp");
      abort();
    }
    atexit(remove_tmpdir);
  }
  return tmpdir;
}

/* Under ASan, full (slow-unwinder) stacks for leak reports, so that tests/lsan.supp can match
 * Open MPI's plugin frames; unused without a sanitizer. Our own leaks still show. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "fast_unwind_on_malloc=0";
}

char *test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)(n > 0 ? n : 0) + 1);
  *len = fread(b, 1, (size_t)(n > 0 ? n : 0), f);
  b[*len] = '\0';
  fclose(f);
  return b;
}

static void mpi_finalize(void) {
  MPI_Finalize();
}

void test_mpi_init(void) {
  int done = 0;
  MPI_Initialized(&done);
  if (done) return;
  MPI_Init(NULL, NULL);
  atexit(mpi_finalize);
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  for (int i = 0; i < ntests; i++) {
    if (argc > 1 && strncmp(tests[i].name, argv[1], strlen(argv[1])) != 0) continue;
    test_failed = 0;
    tests[i].fn();
    if (test_failed) {
      fprintf(stderr, "FAIL %s\n", tests[i].name);
      failed++;
    } else {
      fprintf(stderr, "ok   %s\n", tests[i].name);
      passed++;
    }
  }
  fprintf(stderr, "%d passed, %d failed\n", passed, failed);
  return failed ? 1 : (passed ? 0 : 1);
}
