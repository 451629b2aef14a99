/* libFuzzer target: the CSV partitioner. The first two bytes pick two cut points (as fractions
 * of the rest); the rest is a file. Parsed as 1, 2 and 3 ranks would parse it (state maps
 * composed, tails planned, each piece reading only its bytes), the records and rejects must be
 * exactly the sequential parse's (SPEC §6), and the sequential parse the same with every record
 * split by libcsv. A difference aborts: libFuzzer saves the input. */
#include "csv_sim.h"
#include "csv/csv_core.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  const uint8_t *f = data + 2;
  size_t S = size - 2;
  int64_t c1 = (int64_t)(S * data[0] / 255), c2 = (int64_t)(S * data[1] / 255);
  if (c1 > c2) {
    int64_t t = c1;
    c1 = c2;
    c2 = t;
  }
  parsed seq = simulate_seq(f, S);
  /* The project's RFC 4180 splitter and libcsv agree on every record. */
  csv_libcsv_only = true;
  parsed lib = simulate_seq(f, S);
  csv_libcsv_only = false;
  if (!same_parse(&seq, &lib)) {
    fprintf(stderr, "fuzz_csv: the RFC 4180 splitter and libcsv split differently\n");
    abort();
  }
  parsed_free(&lib);
  int64_t two[3] = {0, c1, (int64_t)S}, three[4] = {0, c1, c2, (int64_t)S};
  parsed p2 = simulate(f, S, two, 2), p3 = simulate(f, S, three, 3);
  if (!same_parse(&seq, &p2) || !same_parse(&seq, &p3)) {
    fprintf(stderr, "fuzz_csv: a split at %lld / %lld parses differently\n", (long long)c1,
            (long long)c2);
    abort();
  }
  parsed_free(&seq);
  parsed_free(&p2);
  parsed_free(&p3);
  return 0;
}
