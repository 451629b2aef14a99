#include "core/json.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void json_write_string(FILE *f, const char *s, size_t n) {
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"':
      fputs("\\\"", f);
      break;
    case '\\':
      fputs("\\\\", f);
      break;
    case '\n':
      fputs("\\n", f);
      break;
    case '\r':
      fputs("\\r", f);
      break;
    case '\t':
      fputs("\\t", f);
      break;
    default:
      if (c < 0x20)
        fprintf(f, "\\u%04x", c);
      else
        fputc(c, f);
    }
  }
  fputc('"', f);
}

void json_write_cstr(FILE *f, const char *s) {
  if (!s)
    fputs("null", f);
  else
    json_write_string(f, s, strlen(s));
}

void json_number_text(double v, char *out, size_t n) {
  double a = v < 0 ? -v : v;
  bool plain_ok = a == 0 || (a >= 1e-4 && a < 1e17);
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, n, "%.*g", prec, v);
    if (strtod(out, NULL) != v) continue;
    if (!plain_ok || !strchr(out, 'e') || prec == 17) return;
  }
}

void json_timestamp_text(int64_t us, char *out, size_t n) {
  time_t s = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, n, "%s.%06lldZ", buf, (long long)(us % 1000000));
}
