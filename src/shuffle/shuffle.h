/* Hashing and the MPI row exchange every distributed step uses (SPEC §6 "Shuffle").
 *
 * shuffle_batch moves rows between ranks with MPI_Alltoallv in bounded rounds: each rank
 * serialises the rows bound for each other destination into one byte stream per destination
 * (column by column: validity bytes, then values, or lengths and string bytes) and
 * sends at most round_bytes / nranks bytes of every stream per round, so no message and no
 * round (sent or received) exceeds round_bytes on any rank, whatever the table size; a row may
 * straddle rounds. Receivers place each source's chunks at that source's precomputed offset
 * in one receive buffer and decode it at the end, so the output order is by source rank, then
 * source order, independent of round boundaries. A rank's rows for itself never enter a
 * stream: they are copied straight from the input column by column. */
#ifndef ATHLETE_SHUFFLE_SHUFFLE_H
#define ATHLETE_SHUFFLE_SHUFFLE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

/* Default round size for callers without an opinion (64 MiB per rank per round). */
#define SHUFFLE_DEFAULT_ROUND_BYTES ((size_t)64 << 20)

/* 64-bit hash of n bytes (a multiply-mix hash in the wyhash family; own code). Same value on
 * every platform of the same endianness, for the same seed. */
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);
/* 64-bit hash of one integer (a full-avalanche finaliser). */
uint64_t hash_i64(int64_t v);
/* Hash of row i of b over all columns: a null hashes differently from every value (also from
 * ""), column position and type take part, doubles hash by their bits. */
uint64_t hash_row(const batch *b, int64_t i);
/* True when row i of a and row j of b (same schema) are equal in every column, null equal to
 * null, strings by bytes, doubles by bits. */
bool row_equal(const batch *a, int64_t i, const batch *b, int64_t j);

/* Collective: sends row i of `in` to rank dest[i]; *out (new batch, same schema; the caller
 * frees it) receives the rows destined to this rank, ordered by source rank then source order.
 * At most round_bytes (clamped to [nranks, 1 GiB]) are sent and received per rank per round.
 * Memory: the rank's serialised output share plus one round buffer each way.
 * Same status on every rank: a bad destination or an MPI failure anywhere fails all ranks
 * (*out is NULL then). */
int shuffle_batch(MPI_Comm comm, const batch *in, const int *dest, size_t round_bytes, batch **out,
                  ath_error *err);

/* shuffle_batch that also moves one 64-bit tag per row: tag[i] travels with row i and
 * *tag_out (new array of (*out)->nrows entries, the caller frees it; NULL on failure) holds the
 * tags of the received rows in output order. With tag_out NULL, tag is ignored. */
int shuffle_batch_tagged(MPI_Comm comm, const batch *in, const int *dest, const uint64_t *tag,
                         size_t round_bytes, batch **out, uint64_t **tag_out, ath_error *err);

#endif
