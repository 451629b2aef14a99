/* The MPI-free core of the CSV reader: an exact model of libcsv's record boundaries, the
 * state maps that let ranks agree on where records start, and the record parser.
 *
 * The tokeniser model. libcsv (non-strict, comma, '"', no space trimming, CR and LF as
 * terminators) is, at the level of record boundaries, this five-state machine:
 *
 *   state      what it means                           '"'    ','    CR/LF   other
 *   ROW        before a record (blank lines skipped)   QUO    SEP    ROW     UNQ
 *   SEP        just after a delimiter                  QUO    SEP    ROW*    UNQ
 *   UNQ        in an unquoted field                    UNQ    SEP    ROW*    UNQ
 *   QUO        in a quoted field                       QQ     QUO    QUO     QUO
 *   QQ         a quote seen inside a quoted field      QUO    SEP    ROW*    QUO
 *
 * (* = the record ends at that byte.) A quote inside an unquoted field is literal; in QQ a
 * second quote is an escaped quote and any other byte makes the first quote literal (libcsv's
 * non-strict rule). A lone CR ends a record exactly like LF; CRLF is a record end followed by
 * a skipped blank "line". Line numbers count LF bytes only.
 *
 * A record's first byte is a byte read in state ROW that is not CR or LF. The record runs to
 * its terminating CR/LF (exclusive) or to the end of the file; if the file ends in QUO the
 * record is an unterminated quoted field. */
#ifndef ATHLETE_CSV_CORE_H
#define ATHLETE_CSV_CORE_H

#include "core/batch.h"
#include "core/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum csv_state { CSV_ROW = 0, CSV_SEP, CSV_UNQ, CSV_QUO, CSV_QQ, CSV_NSTATES };

/* The map "state at the start of a byte range -> state at its end" for every start state,
 * plus the number of LF bytes in the range (the same for every start state). */
typedef struct csv_smap {
  uint8_t to[8];
  int64_t lf;
} csv_smap;

/* The state after reading byte c in state s. */
int csv_step(int s, uint8_t c);
/* The identity map (an empty range). */
csv_smap csv_smap_identity(void);
/* The map of bytes p[0..n). Fast: tracks only the distinct states reached. */
csv_smap csv_smap_of(const uint8_t *p, size_t n);
/* The map of `first` followed by `second`. Associative, not commutative. */
csv_smap csv_smap_then(csv_smap first, csv_smap second);
/* The state after reading p[0..n) from state s. */
int csv_run(int s, const uint8_t *p, size_t n);
/* The first index i in [0, n] such that the state before p[i] (after all of p when i == n) is
 * ROW, starting from state s; -1 if none. */
int64_t csv_first_row_state(int s, const uint8_t *p, size_t n);

/* Length of a UTF-8 byte order mark at p[0..n) (3 or 0). */
size_t csv_bom_len(const uint8_t *p, size_t n);
/* True when p[0..n) is valid UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
bool csv_utf8_valid(const uint8_t *p, size_t n);

/* Bytes [base, base + len) of a file, to be parsed from state `start_state` at `base`. The
 * records parsed are those whose first byte lies in [base, own_end); the buffer must reach
 * the end of the last of them, unless `truncated` says the buffer stops inside a final record
 * that is known to be an unterminated quoted field (then only its first bytes are needed). */
typedef struct csv_chunk {
  const uint8_t *buf;
  int64_t base;
  int64_t len;
  int64_t own_end;
  int start_state;
  int64_t start_line; /* 1-based line number of byte `base` */
  bool truncated;
} csv_chunk;

/* What each piece (rank) of a partitioned file learns from its scan, given its true start
 * state: shared with every other piece to plan the tails. */
typedef struct csv_piece_info {
  int64_t first_row; /* first offset in [a, b] where the state is ROW, or -1 */
  int64_t lf;        /* LF bytes in [a, b) */
  int32_t end_state; /* state at b */
  int32_t pad;
} csv_piece_info;

/* For piece k (bytes [a, b) of a file of `size` bytes) of n pieces: *tail_end gets the end of
 * the record that crosses b (b when none starts in [a, b)), *read_end how far the piece must
 * read (tail_end, or less for a final unterminated quoted field, which only needs its first
 * CSV_RAW_MAX bytes: then read_end < tail_end means "truncated"). */
void csv_plan_tail(const csv_piece_info *all, int n, int k, int64_t b, int64_t size,
                   int64_t *tail_end, int64_t *read_end);

/* Reject schema shared by every layer: source_file STRING, line INT64, byte_offset INT64,
 * reason STRING, raw STRING (first 4 KiB of the record). */
extern const field_def CSV_REJECT_FIELDS[5];
/* A new, empty reject batch; the caller frees it with batch_free. */
batch *csv_rejects_new(void);
/* Appends one reject to rj (made by csv_rejects_new); the raw text is cut to CSV_RAW_MAX bytes,
 * at a UTF-8 boundary. */
void csv_reject_add(batch *rj, const char *source, int64_t line, int64_t offset, const char *reason,
                    const uint8_t *raw, size_t len);

#define CSV_RAW_MAX 4096

/* Records in RFC 4180 form are split by the project's own splitter, the others by libcsv
 * (csv_core.c: split_rfc4180). Tests set this to send every record through libcsv, and check
 * that the rows are the same. */
extern bool csv_libcsv_only;

/* Parses the records of `ch` through libcsv: good records are appended to `rows` (one STRING
 * column per expected field, empty field = null), broken ones to `rejects` (made by
 * csv_rejects_new) with `source` as file name. Counts go to *nrecords and *nrejects (added).
 * Returns ATH_OK, or ATH_ERR with `err` set if libcsv fails (out of memory). */
int csv_parse_chunk(const csv_chunk *ch, const char *source, batch *rows, batch *rejects,
                    int64_t *nrecords, int64_t *nrejects, ath_error *err);

/* Where each good record came from: its first byte's file offset and its 1-based first line,
 * parallel to the rows of a batch. */
typedef struct csv_positions {
  int64_t *offset;
  int64_t *line;
  size_t n, cap;
} csv_positions;
void csv_positions_free(csv_positions *p);

/* The state of parsing one piece's records window by window (csv_parse_window). */
typedef struct csv_records {
  const char *source;    /* file name for rejects and messages */
  batch *rows, *rejects; /* as for csv_parse_chunk */
  csv_positions *pos;    /* NULL, or receives the position of every row appended to rows */
  int64_t own_end;       /* records starting at or after this offset belong to the next piece */
  bool truncated;        /* the last window stops inside a final unterminated quoted field */
  int64_t line;          /* 1-based line number of the next byte */
  int64_t nrecords, nrejects;
  bool done; /* own_end reached or the last window parsed */
} csv_records;

/* Parses the records of p[0..n), the file's bytes [base, base + n), where p[0] starts a
 * record (or blank lines before one). With `more`, the bytes after p[n) follow in a later
 * call: a record that reaches the end of p is left alone and *used says how many bytes were
 * consumed (the caller keeps p[*used..n) and appends more). Without it p ends the piece, as
 * for csv_parse_chunk. Sets r->done when no more records of this piece remain. */
int csv_parse_window(csv_records *r, const uint8_t *p, size_t n, int64_t base, bool more,
                     size_t *used, ath_error *err);

/* Rejects the piece's final record, starting at file offset `offset`, as an unterminated quoted
 * field: p[0..n) are its first bytes (at least CSV_RAW_MAX + 1 of them when it is longer, so the
 * raw text is cut where a whole record's would be). Sets r->done. */
void csv_reject_unterminated(csv_records *r, const uint8_t *p, size_t n, int64_t offset);

#define CSV_NEED_MORE (-1)

/* The header: the first record of p[0..n), the file from just after any BOM (`at_eof` when
 * p[0..n) reaches the end of the file). Returns CSV_NEED_MORE when the header does not end
 * within n bytes and more of the file exists. On ATH_OK *names gets `*ncols` malloc'ed
 * strings in a malloc'ed array (free with csv_names_free), *end the offset just after the
 * header's terminator (n if none) and *lf the LF bytes in p[0..*end). Returns ATH_ERR naming
 * `source` for an empty file (no header row), an unterminated quote, invalid UTF-8 or a
 * duplicate column name. */
int csv_parse_header(const uint8_t *p, size_t n, bool at_eof, const char *source, char ***names,
                     int *ncols, size_t *end, int64_t *lf, ath_error *err);
void csv_names_free(char **names, int ncols);

#endif
