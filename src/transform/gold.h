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

/* ---- the aggregation state (batch gold and stream-stats share it) ---------------------------
 * Gold's exact aggregates per group (sport, medal, sex, country_noc), joined against a
 * resident bio table. Groups that gained rows (or were loaded) since the last
 * gold_agg_clear_changed are "changed". */
typedef struct gold_agg gold_agg;

/* Creates a state. `bio` (may be NULL: a state that only merges records) must hold athlete_id
 * INT64, sex and country_noc STRING, height and weight DOUBLE (other columns are ignored; rows
 * with a null athlete_id never join); it is indexed once and must outlive the state. ATH_ERR
 * when a column is missing or of another type. */
int gold_agg_new(const batch *bio, gold_agg **out, ath_error *err);
void gold_agg_free(gold_agg *a);

/* Joins every row of `results` (athlete_id INT64, sport and medal STRING; other columns
 * ignored) with the bio rows of its athlete_id and adds each pair to its group. Adds the pairs
 * to *joined and the rows without a bio row (a null athlete_id included) to *orphans. */
int gold_agg_add(gold_agg *a, const batch *results, int64_t *joined, int64_t *orphans,
                 ath_error *err);

int64_t gold_agg_groups(const gold_agg *a);
int64_t gold_agg_changed(const gold_agg *a);
void gold_agg_clear_changed(gold_agg *a);

/* Gold rows (GOLD_FIELDS, sorted by the four keys, bytes, nulls first) of every group, or of
 * the changed ones only; avg_* = (exact sum rounded once) / count, null when count is 0. */
batch *gold_agg_rows(const gold_agg *a, bool changed_only, int64_t timestamp_us);

/* Appends every group's record (or the changed ones') to buf[0..*len) (grown with xrealloc):
 * portable bytes, the same on any host and build (the format is in gold.c). */
void gold_agg_save(const gold_agg *a, bool changed_only, uint8_t **buf, size_t *len);

/* Reads records written by gold_agg_save: each group is added to (add) or replaces (!add) the
 * state's group of those keys, and is marked changed. ATH_ERR on damaged bytes (the groups
 * before the damage are loaded). */
int gold_agg_load(gold_agg *a, const uint8_t *p, size_t n, bool add, ath_error *err);

#endif
