/* The MPI driver's plan for a partitioned CSV read, simulated without MPI, for the unit tests
 * and the fuzzer: the header, the pieces' state maps composed in order, the tails planned, and
 * each piece parsed from a private copy of exactly the bytes it would read (so a sanitizer
 * sees any overread). */
#ifndef ATHLETE_TESTS_CSV_SIM_H
#define ATHLETE_TESTS_CSV_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "csv/csv_core.h"

typedef struct parsed {
  batch *rows, *rejects;
  int ok;
} parsed;

void parsed_free(parsed *p);
/* Parses f[0..S) as np ranks would with the pieces [cuts[r], cuts[r+1]). rows is NULL when the
 * header cannot be parsed. */
parsed simulate(const uint8_t *f, size_t S, const int64_t *cuts, int np);
/* The sequential parse (one piece). */
parsed simulate_seq(const uint8_t *f, size_t S);
/* Two batches hold the same rows in the same order (values and nulls). */
bool same_batch(const batch *x, const batch *y);
/* Two parses agree (both failed the header, or the same rows and rejects). */
bool same_parse(const parsed *x, const parsed *y);

#endif
