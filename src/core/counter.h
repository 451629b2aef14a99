/* Counters that the working thread adds to while another thread reads them: the live progress
 * display (pipeline/progress.c) reads what the CSV reader has done so far. */
#ifndef ATHLETE_CORE_COUNTER_H
#define ATHLETE_CORE_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct live_counter {
  _Atomic int64_t bytes, rows;
} live_counter;

static inline void live_add(live_counter *c, int64_t bytes, int64_t rows) {
  if (!c) return;
  atomic_fetch_add_explicit(&c->bytes, bytes, memory_order_relaxed);
  atomic_fetch_add_explicit(&c->rows, rows, memory_order_relaxed);
}

#endif
