/* Minimal JSON output helpers (manifests, --metrics). */
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

#endif
