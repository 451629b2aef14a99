/* The live progress bar of the batch stages (SPEC §8, --progress): on rank 0, when stderr is a
 * terminal (or, under Open MPI's mpirun, which hands ranks a pipe for stderr, when mpirun's own
 * stderr is), a thread redraws one line in place a few times a second: the step,
 * a bar of bytes done of the total where the total is known, MB/s and rows/s, the time spent
 * in the step and an estimate of what is left. The step lines of report_progress print above
 * it. Otherwise (pipes, batch logs, --progress always) nothing here draws and the output stays
 * one line per step. */
#ifndef ATHLETE_PIPELINE_PROGRESS_H
#define ATHLETE_PIPELINE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/counter.h"
#include "pipeline/pipeline.h"

/* Decides the mode (rank 0) and starts the drawing thread when the bar is on. */
void progress_open(pipeline_ctx *c);
/* Stops the thread and clears the bar's line; safe to call when nothing was opened. */
void progress_close(void);
/* True while the bar is drawn. */
bool progress_bar_on(void);
/* A new step: `label` ("bronze: read athlete_bio.csv"), its total in bytes (0: not known).
 * Returns the counter the step adds its bytes and rows to (on rank 0 with the bar on; else
 * NULL), whose values are multiplied by `scale` (the rank count, when every rank does an equal
 * share and only rank 0's share is counted). */
live_counter *progress_step(pipeline_ctx *c, const char *label, int64_t total_bytes, int scale);
/* Runs fn(arg) with the bar's line cleared, then redraws it: for writing a line to stderr. */
void progress_print_above(void (*fn)(void *), void *arg);

#endif
