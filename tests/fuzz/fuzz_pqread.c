/* libFuzzer target: the Parquet reader on arbitrary bytes (a memory-backed file). Whatever the
 * bytes, opening and reading must end in ATH_OK with consistent rows or in an error with a
 * message: never a crash, a hang or an out-of-bounds access. */
#define _GNU_SOURCE /* memfd_create */
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz.parquet", 0);
  if (fd < 0 || write(fd, data, size) != (ssize_t)size) abort();
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  pq_reader *r = NULL;
  ath_error err = {0};
  if (pq_reader_open(path, &r, &err) == ATH_OK) {
    int64_t rows = pq_reader_rows(r);
    if (rows >= 0 && rows < 1000000) {
      batch *b = batch_new(pq_reader_fields(r), pq_reader_ncols(r));
      ath_error e2 = {0};
      int rc = pq_read_rows(r, 0, rows, b, &e2);
      if (rc == ATH_OK && b->nrows != rows) abort();
      if (rc != ATH_OK && e2.msg[0] == '\0') abort();
      batch_free(b);
    }
    pq_reader_close(r);
  } else if (err.msg[0] == '\0') {
    abort();
  }
  close(fd);
  return 0;
}
