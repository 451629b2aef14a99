#include "core/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

const char *ath_status_name(int status) {
  switch (status) {
#define ATH_NAME(code, name, value)                                                                \
  case code:                                                                                       \
    return name;
    ATH_STATUS_MAP(ATH_NAME)
#undef ATH_NAME
  }
  return "unknown status";
}

int ath_vfail(ath_error *err, int code, const char *fmt, va_list ap) {
  if (err && err->code == ATH_OK) {
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  }
  return code;
}

int ath_fail(ath_error *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ath_vfail(err, code, fmt, ap);
  va_end(ap);
  return code;
}

void ath_error_clear(ath_error *err) {
  err->code = ATH_OK;
  err->msg[0] = '\0';
}

static void oom(size_t n) {
  fprintf(stderr, "athlete: out of memory allocating %zu bytes\n", n);
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) oom(n);
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) oom(n * size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom(n);
  return q;
}

char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

void grow_array(void **buf, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return;
  size_t c = *cap ? *cap : 16;
  while (c < need)
    c *= 2;
  *buf = xrealloc(*buf, c * elem);
  *cap = c;
}

double ath_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int64_t ath_peak_rss_bytes(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t)ru.ru_maxrss * 1024;
}
