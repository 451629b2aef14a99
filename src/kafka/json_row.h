/* A bronze row as a Kafka message value (SPEC §10): one JSON object (RFC 8259), the table's
 * column names as keys in column order, each string value as a JSON string holding exactly its
 * bytes (which are UTF-8: bronze rejects invalid UTF-8), a null as `null`. Escapes: `\"`, `\\`,
 * `\b \f \n \r \t`, other control bytes as `\u00XX`; every other byte as it is. */
#ifndef ATHLETE_KAFKA_JSON_ROW_H
#define ATHLETE_KAFKA_JSON_ROW_H

#include <stddef.h>

#include "core/batch.h"

/* Reusable encoder for the rows of batches of one schema (STRING columns only). */
typedef struct json_row_enc {
  char **key_prefix; /* per column: `{"name":` for the first, `,"name":` for the others */
  size_t *key_len;
  int ncols;
  char *buf; /* the last encoded row */
  size_t len, cap;
} json_row_enc;

/* Prepares an encoder for batches shaped like `schema`. */
void json_row_enc_init(json_row_enc *e, const batch *schema);
void json_row_enc_free(json_row_enc *e);
/* Encodes row i of b (same schema) into e->buf[0..e->len). */
void json_row_encode(json_row_enc *e, const batch *b, int64_t i);

/* Appends s[0..n) as a JSON string literal (quotes included) to *buf (length *len, capacity
 * *cap, grown as needed). */
void json_append_string(char **buf, size_t *len, size_t *cap, const char *s, size_t n);

/* ---- decoding (SPEC §10 ingest) ------------------------------------------------------------
 * A message value back into a bronze row: a JSON object whose keys name columns of the
 * table's schema. A string value is the cell's bytes (escapes decoded, \uXXXX surrogate pairs
 * joined; a lone surrogate is an error); a number, true or false is the cell's literal text;
 * null, or a missing key, is null. Keys the schema does not have are skipped (their values
 * must still be valid JSON) and counted. Rejected, with the reason: invalid UTF-8, invalid
 * JSON, a value that is not an object, an object or array where a column's value belongs, a
 * key given twice, anything after the object. */
typedef struct json_row_dec {
  batch *out; /* STRING columns; one row is appended per accepted value */
  uint8_t *seen;
  char *buf; /* the current string, unescaped */
  size_t cap;
} json_row_dec;

void json_row_dec_init(json_row_dec *d, batch *out);
void json_row_dec_free(json_row_dec *d);
/* Decodes p[0..n) into one row of d->out. Returns true, adding the keys it skipped to
 * *unknown; or false with the reason in why (nothing appended). */
bool json_row_decode(json_row_dec *d, const uint8_t *p, size_t n, int64_t *unknown, char *why,
                     size_t whylen);

#endif
