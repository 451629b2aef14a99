/* Unit tests of the Kafka module's JSON rows: the encoder's escapes, and the decoder's
 * acceptance and rejection of every kind of value (SPEC §10), and their round trip. */
#include "test.h"

#include "kafka/json_row.h"
#include "kafka/kafka.h"

#include <stdlib.h>

static const field_def F[] = {
    {"a", COL_STRING, true}, {"b", COL_STRING, true}, {"c", COL_STRING, true}};

static batch *fresh(void) {
  return batch_new(F, 3);
}

/* Decodes s; returns the row as "a|b|c" with ~ for null, or "REJECT: why". */
static const char *dec(const char *s, int64_t *unknown) {
  static char out[512];
  batch *b = fresh();
  json_row_dec d;
  json_row_dec_init(&d, b);
  char why[128];
  int64_t u = 0;
  if (!json_row_decode(&d, (const uint8_t *)s, strlen(s), &u, why, sizeof why)) {
    snprintf(out, sizeof out, "REJECT: %s", why);
    if (b->nrows != 0 || b->cols[0].n != 0 || b->cols[1].n != 0)
      snprintf(out, sizeof out, "LEFTOVER");
  } else {
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
      size_t len;
      const uint8_t *p = col_str(&b->cols[k], 0, &len);
      n += (size_t)snprintf(out + n, sizeof out - n, "%s%.*s", k ? "|" : "",
                            col_is_null(&b->cols[k], 0) ? 1 : (int)len,
                            col_is_null(&b->cols[k], 0) ? "~" : (const char *)p);
    }
  }
  if (unknown) *unknown = u;
  json_row_dec_free(&d);
  batch_free(b);
  return out;
}

TEST(decode_values) {
  int64_t u = 0;
  CHECK_STR(dec("{\"a\":\"x\",\"b\":null,\"c\":\"z\"}", NULL), "x|~|z");
  CHECK_STR(dec(" { \"c\" : 1.5e-3 , \"a\" : -0 } ", NULL), "-0|~|1.5e-3");
  CHECK_STR(dec("{\"a\":true,\"b\":false}", NULL), "true|false|~");
  CHECK_STR(dec("{}", NULL), "~|~|~");
  CHECK_STR(dec("{\"a\":\"\\u00e9\\\"\\\\\\/\\n\"}", NULL), "\xc3\xa9\"\\/\n|~|~");
  CHECK_STR(dec("{\"a\":\"\\ud83d\\ude00\"}", NULL), "\xf0\x9f\x98\x80|~|~");
  CHECK_STR(dec("{\"a\":\"\xc3\xa9\"}", NULL), "\xc3\xa9|~|~");
  CHECK_STR(dec("{\"x\":{\"deep\":[1,2,{\"k\":null}]},\"a\":\"1\",\"y\":7}", &u), "1|~|~");
  CHECK_INT(u, 2);
}

TEST(decode_rejects) {
  CHECK_STR(dec("[1,2]", NULL), "REJECT: not a JSON object");
  CHECK_STR(dec("", NULL), "REJECT: empty message");
  CHECK_STR(dec("\"a\"", NULL), "REJECT: not a JSON object");
  CHECK_STR(dec("{\"a\":\"x\"", NULL), "REJECT: invalid JSON");
  CHECK_STR(dec("{\"a\":\"x\"} x", NULL), "REJECT: data after the JSON object");
  CHECK_STR(dec("{\"a\":{\"b\":1}}", NULL), "REJECT: column a: an object where a string belongs");
  CHECK_STR(dec("{\"b\":[1]}", NULL), "REJECT: column b: an array where a string belongs");
  CHECK_STR(dec("{\"a\":\"1\",\"a\":\"2\"}", NULL), "REJECT: key \"a\" given twice");
  CHECK_STR(dec("{\"a\":\"\\ud83d\"}", NULL), "REJECT: a lone high surrogate in a \\u escape");
  CHECK_STR(dec("{\"a\":\"\\ude00\"}", NULL), "REJECT: a lone low surrogate in a \\u escape");
  CHECK_STR(dec("{\"a\":\"\\x\"}", NULL), "REJECT: invalid escape in a string");
  CHECK_STR(dec("{\"a\":01}", NULL), "REJECT: invalid JSON");
  CHECK_STR(dec("{\"a\":1.}", NULL), "REJECT: invalid number");
  CHECK_STR(dec("{\"a\":\"\xff\"}", NULL), "REJECT: not UTF-8");
  CHECK_STR(dec("{\"a\":\"tab\there\"}", NULL), "REJECT: control character in a string");
  CHECK_STR(dec("{\"a\":nul}", NULL), "REJECT: invalid JSON");
  CHECK_STR(dec("{\"a\":\"ok\",\"b\":{}}", NULL),
            "REJECT: column b: an object where a string belongs");
}

TEST(encode_then_decode_every_byte) {
  batch *b = fresh();
  char s[300];
  size_t n = 0;
  for (int c = 1; c < 128; c++)
    s[n++] = (char)c;
  memcpy(s + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
  n += 9;
  col_append_str(&b->cols[0], s, n);
  col_append_null(&b->cols[1]);
  col_append_str(&b->cols[2], "", 0);
  b->nrows = 1;
  json_row_enc e;
  json_row_enc_init(&e, b);
  json_row_encode(&e, b, 0);
  batch *got = fresh();
  json_row_dec d;
  json_row_dec_init(&d, got);
  char why[128] = "";
  int64_t u = 0;
  CHECK(json_row_decode(&d, (const uint8_t *)e.buf, e.len, &u, why, sizeof why));
  CHECK_STR(why, "");
  size_t len;
  const uint8_t *p = col_str(&got->cols[0], 0, &len);
  CHECK_MEM(p, len, s, n);
  CHECK(col_is_null(&got->cols[1], 0));
  CHECK(!col_is_null(&got->cols[2], 0) && got->cols[2].offsets[1] == got->cols[2].offsets[0]);
  json_row_dec_free(&d);
  json_row_enc_free(&e);
  batch_free(got);
  batch_free(b);
}

TEST(secrets_are_masked) {
  CHECK(kafka_is_secret("sasl.password") && kafka_is_secret("ssl.key.pem") &&
        kafka_is_secret("sasl.oauthbearer.client.secret") && !kafka_is_secret("sasl.username"));
  kafka_opts o;
  kafka_opts_default(&o);
  o.props[o.nprops++] = "sasl.password=hunter2-secret";
  ath_error err = {0};
  CHECK_INT(kafka_opts_check(&o, &err), ATH_OK);
  char text[128] = "login with hunter2-secret failed (hunter2-secret)";
  kafka_redact(text, sizeof text);
  CHECK_STR(text, "login with *** failed (***)");
}
