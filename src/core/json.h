/* Minimal JSON helpers: output (manifests, --metrics) and a small reader for the project's own
 * JSON files (manifests, read back by `athlete report`). */
#ifndef ATHLETE_CORE_JSON_H
#define ATHLETE_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes `s` (n bytes) as a JSON string literal with quotes, escaping control characters,
 * quotes and backslashes; bytes >= 0x80 are passed through (the caller gives UTF-8). */
void json_write_string(FILE *f, const char *s, size_t n);
/* Same for a NUL-terminated string; NULL writes null. */
void json_write_cstr(FILE *f, const char *s);

/* The shortest decimal text of a finite double that strtod reads back as the same double, in
 * plain notation where that is as short as it gets (60, 165.5, 0.001) and in exponent notation
 * otherwise (1e+20, 5e-324): a valid JSON number. `out` needs 32 bytes. */
void json_number_text(double v, char *out, size_t n);

/* A timestamp in microseconds since the epoch as ISO 8601 UTC with microseconds,
 * "2026-12-02T18:10:00.123456Z". `out` needs 32 bytes. */
void json_timestamp_text(int64_t us, char *out, size_t n);

/* ---- reading ---------------------------------------------------------------------------- */
typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

/* A parsed JSON value. Arrays and objects hold n items (objects also n keys, in file order);
 * strings are NUL-terminated UTF-8 (an escaped NUL ends them early). */
typedef struct json_value {
  json_type type;
  double num;  /* JSON_NUMBER; JSON_BOOL: 0 or 1 */
  char *str;   /* JSON_STRING */
  int n;       /* JSON_ARRAY, JSON_OBJECT */
  char **keys; /* JSON_OBJECT */
  struct json_value *items;
} json_value;

/* Parses text (n bytes: one JSON value, surrounded by white space only, nested at most 64
 * deep) into *out; free it with json_free. On a syntax error returns -1 and writes into `why`
 * the reason and the byte offset. */
int json_parse(const char *text, size_t n, json_value *out, char *why, size_t whylen);
void json_free(json_value *v);
/* The member `key` of an object, or NULL (also when v is NULL or not an object). */
const json_value *json_get(const json_value *v, const char *key);
/* v's number, or `dflt` when v is NULL or not a number. */
double json_num(const json_value *v, double dflt);

#endif
