/* Bronze → silver (SPEC §4 "Silver"): typing, cleaning and the distributed exact dedupe.
 *
 * Typing rules (applied by column name in the tables athlete_bio and athlete_event_results):
 *   athlete_id, edition_id, result_id  INT64 when the trimmed field is one or more ASCII digits
 *                                      and fits in int64 (leading zeros allowed), else null
 *   height, weight                     DOUBLE when the trimmed field matches [0-9]+(\.[0-9]+)?,
 *                                      correctly rounded, else null (60-64, "72, 74", 1.8e2,
 *                                      183., .5, 183cm are all null — never 6064)
 *   isTeamSport                        BOOL from true/false in any case, trimmed, else null
 *   every other column                 STRING, each byte kept only when keep[byte] is 1
 * "Trimmed" strips ASCII space, tab, CR and LF at both ends. A bronze null stays null in every
 * column; a non-null text value that cleans to nothing stays "" (not null), as SQL's
 * regexp_replace does — so "é" and null stay distinct rows. */
#ifndef ATHLETE_TRANSFORM_SILVER_H
#define ATHLETE_TRANSFORM_SILVER_H

#include <mpi.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/status.h"

typedef struct silver_options {
  uint8_t keep[256]; /* 1 = byte kept by cleaning */
} silver_options;

/* The default kept set: ASCII letters, digits, space and , . ' " - */
void silver_options_default(silver_options *o);

/* Parses a --keep-chars value into o->keep (replacing it). Syntax: the characters to keep,
 * listed one after another; `x-y` is the inclusive byte range x..y (a `-` first or last is a
 * literal dash); escapes: `\\` backslash, `\-` dash, `\s` space, `\t` tab, `\n`, `\r`,
 * `\xHH` any byte (hex). The default set is `A-Za-z0-9 ,.'"-`. Returns ATH_OK, or ATH_EUSAGE
 * (message in err) on an empty spec, an unknown or truncated escape, or a range whose end is
 * below its start; o is untouched then. */
int silver_parse_keep_chars(const char *spec, silver_options *o, ath_error *err);

/* The typing of athlete_id (and edition_id, result_id): true and *v when the field, trimmed, is
 * ASCII digits fitting in int64. silver_transform rejects exactly the rows for which this is
 * false (or whose athlete_id is null), in row order. */
bool silver_parse_id(const uint8_t *p, size_t len, int64_t *v);

/* The 5-field reject schema (same as CSV_REJECT_FIELDS in src/csv/csv_reader.h):
 * source_file STRING, line INT64, byte_offset INT64, reason STRING, raw STRING. */
extern const field_def SILVER_REJECT_FIELDS[5];

/* Types and cleans one rank's bronze rows (every column STRING) of table `table`
 * ("athlete_bio" or "athlete_event_results"; any other name: every column cleaned text and no
 * rejects). Consumes *bronze (set to NULL, also on failure): silver is typed in place in its
 * buffers, so typing needs no memory of its own. Returns ATH_OK and *silver, which the caller
 * frees, with the bronze column order and names; every silver column is nullable. Rows whose
 * athlete_id types to null are left out of silver and appended to `rejects` (if not NULL; it must
 * have the reject schema): source_file = table, line and byte_offset null, reason "missing
 * athlete_id" (bronze null) or "invalid athlete_id '<raw>'", raw = the bronze row as one RFC 4180
 * CSV line (minimal quoting, null written as an empty field) cut to 4 KiB on a UTF-8 boundary.
 * ATH_ERR when a bronze column is not STRING, a known table lacks athlete_id, or rejects has
 * the wrong schema. */
int silver_transform(batch **bronze, const char *table, const silver_options *o, batch **silver,
                     batch *rejects, ath_error *err);

/* Collective: exact distributed dedupe, in place. Removes from b every row equal to a row that
 * comes before it in global order (ranks in order, then row order): all columns equal, null
 * equal to null, strings by bytes, doubles by bits. Rows stay on their rank, in order. Only
 * each row's 64-bit hash travels, to its owner rank (hash mod size); the rows whose hash occurs
 * more than once are then shuffled in full (MPI_Alltoallv rounds of at most round_bytes) to
 * that owner and compared whole, never on hashes alone. *dropped = rows removed on this rank.
 * Same status on every rank. */
int silver_dedupe(MPI_Comm comm, batch *b, size_t round_bytes, int64_t *dropped, ath_error *err);

#endif
