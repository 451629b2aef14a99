#include "kafka/msg_rows.h"

#include "csv/csv_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAW_MAX 4096

const field_def KMSG_REJECT_FIELDS[KMSG_NREJECT_FIELDS] = {
    {"topic", COL_STRING, false},  {"partition", COL_INT64, false}, {"offset", COL_INT64, false},
    {"reason", COL_STRING, false}, {"raw", COL_STRING, true},       {"raw_hex", COL_STRING, true},
    {"size", COL_INT64, false},
};

void kmsg_reject(batch *r, const char *topic, int32_t partition, int64_t offset, const void *raw,
                 size_t len, const char *why) {
  col_append_str(&r->cols[0], topic, strlen(topic));
  col_append_i64(&r->cols[1], partition);
  col_append_i64(&r->cols[2], offset);
  col_append_str(&r->cols[3], why, strlen(why));
  size_t n = len < RAW_MAX ? len : RAW_MAX;
  const uint8_t *p = raw ? raw : (const uint8_t *)"";
  while (n < len && n > RAW_MAX - 4 && (p[n] & 0xC0) == 0x80)
    n--; /* do not cut a UTF-8 sequence */
  if (csv_utf8_valid(p, n)) {
    col_append_str(&r->cols[4], p, n);
    col_append_null(&r->cols[5]);
  } else {
    char *hex = xmalloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
      snprintf(hex + 2 * i, 3, "%02x", p[i]);
    col_append_null(&r->cols[4]);
    col_append_str(&r->cols[5], hex, 2 * n);
    free(hex);
  }
  col_append_i64(&r->cols[6], (int64_t)len);
  r->nrows++;
}

bool kmsg_lineage(const rd_kafka_message_t *m, const void **src, size_t *srclen, int64_t *off) {
  rd_kafka_headers_t *h = NULL;
  const void *v;
  size_t n;
  if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  if (rd_kafka_header_get_last(h, "athlete.source", src, srclen) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      !*src)
    return false;
  if (rd_kafka_header_get_last(h, "athlete.offset", &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || !v ||
      n == 0 || n > 19)
    return false;
  int64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = ((const char *)v)[i];
    if (ch < '0' || ch > '9') return false;
    x = x * 10 + (ch - '0');
  }
  *off = x;
  return true;
}

int kmsg_poll_error(rd_kafka_t *rk, const rd_kafka_message_t *m, const char *topic, const char *who,
                    bool quiet, ath_error *err) {
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return ATH_OK;
  char reason[512];
  if (rd_kafka_fatal_error(rk, reason, sizeof reason))
    return ath_fail(err, ATH_ERR, "fatal consumer error: %s", reason);
  if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
    return ath_fail(err, ATH_ERR, "topic %s: %s", topic, rd_kafka_message_errstr(m));
  if (!quiet) fprintf(stderr, "%s: %s (retrying)\n", who, rd_kafka_message_errstr(m));
  return ATH_OK;
}
