/* Deterministic synthetic Olympic CSV exports (`athlete gen`, SPEC §3).
 *
 * gen_write() writes athlete_bio.csv and athlete_event_results.csv into o->out_dir with values
 * and quirks like the real Olympedia exports. The same options always give byte-identical
 * files (the two files are generated in two threads, each from its own PRNG stream; per-athlete
 * attributes are a pure function of (seed, athlete index), so the results file can name bio
 * athletes without waiting for the bio thread).
 *
 * Row counts. Each file holds exactly round(scale * real count) *records* after its header:
 * 155,861 bio and 316,834 results records at scale 1. A record is one CSV data record, whatever
 * its shape: duplicates and structurally broken records count, blank lines do not. A
 * structurally broken record still occupies its own line(s): it has the wrong field count or
 * invalid UTF-8, but its quoting is always balanced, so it never swallows its neighbours (an
 * unterminated quote would swallow the rest of the file: gen never writes one; data/edge/ has
 * such files). Readers that drop broken records get the count minus GEN_*_BROKEN_PPM.
 *
 * File shapes. Bio: CRLF line ends, no BOM, ends with CRLF. Results: UTF-8 BOM, LF line ends,
 * no newline after the last record. Both QUOTE_MINIMAL (a field is quoted only when it holds a
 * comma, a quote, CR or LF; inner quotes doubled) — except the deliberate quirks below.
 *
 * Quirk rates, per million records (each record draws at most one of these; the first records
 * of a file also force each quirk once, so a sample of a few hundred rows holds every quirk):
 *   exact duplicate record (the previous record's bytes again)     bio 3000, results 3000
 *   clean-duplicate: the previous record again with only bytes that silver cleaning removes
 *     changed (`Károly` ↔ `Kroly`, all other fields equal)           bio 2000, results 1500
 *   stray quote inside an unquoted field (`Known as "Flash" by fans`, never at field start)
 *                                                                   bio 2000, results 1000
 *   spaces around an unquoted field (` 1234`, `183.0 `)             bio 5000, results 3000
 *   invalid id (`abc`, `12a`, empty athlete_id)                     bio 1000, results 1000
 *   non-numeric height/weight (`60-64`, `72, 74`, `1.8e2`, `183cm`) bio 6000
 *   blank line before the record (not a record)                    bio  200, results  200
 *   wrong field count (broken)                                     bio  100, results  100
 *   invalid UTF-8 in the name (broken)                             bio  100, results  100
 * Independent of those: results whose athlete_id has no bio row: 20000 (2%). Common values:
 * descriptions on ~48% of bio rows (3–13 sentences, ~600 bytes; ~99% hold a comma, ~49% a
 * quote, ~44% a line break: each sentence break is LF with 5%, CRLF with 3% probability),
 * special_notes on ~15%, country with a leading space ~95%, medal on ~13% of results. Ids of
 * more than 7 digits appear only above scale ~12. */
#ifndef ATHLETE_GEN_GEN_H
#define ATHLETE_GEN_GEN_H

#include "core/status.h"

#include <stdint.h>

#define GEN_BIO_REAL_ROWS     155861
#define GEN_RESULTS_REAL_ROWS 316834

/* Quirk rates, per million records (see above). */
#define GEN_DUP_EXACT_PPM       3000
#define GEN_BIO_DUP_CLEAN_PPM   2000
#define GEN_RES_DUP_CLEAN_PPM   1500
#define GEN_BIO_STRAY_QUOTE_PPM 2000
#define GEN_RES_STRAY_QUOTE_PPM 1000
#define GEN_BIO_SPACES_PPM      5000
#define GEN_RES_SPACES_PPM      3000
#define GEN_BAD_ID_PPM          1000
#define GEN_BIO_BAD_NUMBER_PPM  6000
#define GEN_BLANK_LINE_PPM      200
#define GEN_WRONG_FIELDS_PPM    100
#define GEN_BAD_UTF8_PPM        100
#define GEN_RES_NO_BIO_PPM      20000
#define GEN_BIO_BROKEN_PPM      (GEN_WRONG_FIELDS_PPM + GEN_BAD_UTF8_PPM)
#define GEN_RES_BROKEN_PPM      (GEN_WRONG_FIELDS_PPM + GEN_BAD_UTF8_PPM)

typedef struct gen_options {
  double scale;        /* 1.0 = the real sizes: 155,861 bio rows (~55 MB), 316,834 results */
  uint64_t seed;       /* same seed (and scale) → byte-identical files */
  const char *out_dir; /* created if missing; writes athlete_bio.csv, athlete_event_results.csv */
} gen_options;

typedef struct gen_stats {
  int64_t bio_rows, result_rows;   /* records written (header and blank lines excluded) */
  int64_t bio_bytes, result_bytes; /* file sizes */
} gen_stats;

/* Writes both files (each via a temporary name in out_dir + rename). Returns ATH_OK, or
 * ATH_EUSAGE for bad options (negative/NaN scale, no out_dir), ATH_ERR on an I/O failure with
 * err naming the file; on failure no partial file is left under the final names. `st` may be
 * NULL. */
int gen_write(const gen_options *o, gen_stats *st, ath_error *err);

#endif
