/* Silver → gold (SPEC §4 "Gold", §6 "Shuffle" and "Reduce"): the distributed join and the exact
 * aggregation of gold/avg_stats. */
#ifndef ATHLETE_TRANSFORM_GOLD_H
#define ATHLETE_TRANSFORM_GOLD_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

typedef struct gold_stats {
  int64_t joined_rows;         /* global */
  int64_t results_without_bio; /* global: results rows whose athlete_id has no bio row (a null
                                * athlete_id, impossible after silver, counts here too) */
  int64_t groups;              /* global: rows of gold */
} gold_stats;

/* The gold schema: sport, medal, sex, country_noc STRING nullable; avg_height, avg_weight
 * DOUBLE nullable; n_rows INT64; timestamp TIMESTAMP. */
extern const field_def GOLD_FIELDS[8];

/* Collective. `results` is a silver athlete_event_results batch (needs athlete_id INT64, sport
 * and medal STRING), `bio` a silver athlete_bio batch (athlete_id INT64, sex and country_noc
 * STRING, height and weight DOUBLE); other columns are ignored (not shuffled).
 * Shuffles both by hash_i64(athlete_id) mod size, inner-joins them (every matching pair;
 * null ids never match), groups by (results.sport, results.medal, bio.sex, bio.country_noc)
 * and sums height and weight exactly (xsum.h) with their non-null counts and n_rows. The
 * partial aggregates go to rank 0 in bounded rounds and are merged there; rank 0 returns the
 * gold batch sorted by the four keys (bytes, nulls first), avg_* = (exact sum rounded once to
 * double) / count, null when count is 0, timestamp = timestamp_us. The rows are bit-identical
 * for any rank count and partitioning. Other ranks get an empty batch of the same schema.
 * The caller frees *gold. stats are filled on every rank. Same status on every rank. */
int gold_compute(MPI_Comm comm, const batch *results, const batch *bio, int64_t timestamp_us,
                 size_t round_bytes, batch **gold, gold_stats *stats, ath_error *err);

#endif
