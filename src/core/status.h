/* Status codes and error messages shared by every module.
 *
 * Functions that can fail return an int status (ATH_OK on success) and, where they take one,
 * fill an ath_error with a human-readable message naming the file, line or rank concerned.
 * Modules never print errors themselves: the command layer does, once, on rank 0 (or on the
 * rank that failed). The status values double as the documented process exit codes. */
#ifndef ATHLETE_CORE_STATUS_H
#define ATHLETE_CORE_STATUS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ATHLETE_VERSION "0.1.0"

/* X-macro: code, name, value (value = process exit code where it ends a run). */
#define ATH_STATUS_MAP(X)                                                                          \
  X(ATH_OK, "ok", 0)                                                                               \
  X(ATH_ERR, "failure", 1)                                                                         \
  X(ATH_EUSAGE, "usage error", 2)                                                                  \
  X(ATH_EREJECTS, "reject fraction exceeded", 3)

enum ath_status {
#define ATH_ENUM(code, name, value) code = value,
  ATH_STATUS_MAP(ATH_ENUM)
#undef ATH_ENUM
};

/* Name of a status code ("ok", "failure", ...). */
const char *ath_status_name(int status);

#define ATH_ERRMSG_MAX 1024

typedef struct ath_error {
  int code;                 /* ATH_OK while no error was recorded */
  char msg[ATH_ERRMSG_MAX]; /* message of the first error recorded */
} ath_error;

/* Records an error (only the first one sticks) and returns `code`, so callers can write
 * `return ath_fail(err, ATH_ERR, "%s: %s", path, strerror(errno));`. `err` may be NULL. */
int ath_fail(ath_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ath_vfail(ath_error *err, int code, const char *fmt, va_list ap);

/* Clears an error record. */
void ath_error_clear(ath_error *err);

/* Allocation helpers that abort with a message on out-of-memory: the pipeline cannot recover
 * from a failed small allocation and every caller checking it would hide the real logic.
 * Large, input-sized buffers also go through these; a failure names the requested size. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Grows *buf (capacity *cap elements of size `elem`) to hold at least `need` elements,
 * doubling. */
void grow_array(void **buf, size_t *cap, size_t need, size_t elem);

/* Monotonic wall clock in seconds. */
double ath_now(void);

/* Peak resident set of this process so far, bytes. */
int64_t ath_peak_rss_bytes(void);

#endif
