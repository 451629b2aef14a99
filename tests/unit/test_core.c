#include "test.h"

#include "core/batch.h"
#include "core/json.h"
#include "core/status.h"

TEST(batch_append_and_read) {
  field_def f[] = {{"s", COL_STRING, true}, {"i", COL_INT64, true}, {"d", COL_DOUBLE, false}};
  batch *b = batch_new(f, 3);
  for (int r = 0; r < 1000; r++) {
    if (r % 3 == 0)
      col_append_null(&b->cols[0]);
    else
      col_append_str(&b->cols[0], "abc", (size_t)(r % 4));
    col_append_i64(&b->cols[1], r);
    col_append_f64(&b->cols[2], r * 0.5);
  }
  CHECK(batch_sync_rows(b));
  CHECK_INT(b->nrows, 1000);
  CHECK_INT(b->cols[0].null_count, 334);
  size_t len;
  const uint8_t *p = col_str(&b->cols[0], 2, &len);
  CHECK_MEM(p, len, "ab", 2);
  CHECK(col_is_null(&b->cols[0], 3));
  CHECK_INT(col_i64(&b->cols[1], 999), 999);
  batch *c = batch_new_like(b);
  batch_append_row(c, b, 2);
  CHECK_INT(c->nrows, 1);
  p = col_str(&c->cols[0], 0, &len);
  CHECK_MEM(p, len, "ab", 2);
  CHECK_INT(batch_find(c, "d"), 2);
  CHECK_INT(batch_find(c, "nope"), -1);
  batch_clear(b);
  CHECK_INT(b->nrows, 0);
  CHECK_INT(b->cols[0].nbytes, 0);
  batch_free(b);
  batch_free(c);
}

TEST(error_first_sticks) {
  ath_error e = {0};
  CHECK_INT(ath_fail(&e, ATH_ERR, "first %d", 1), ATH_ERR);
  ath_fail(&e, ATH_EUSAGE, "second");
  CHECK_STR(e.msg, "first 1");
  CHECK_INT(e.code, ATH_ERR);
  CHECK_STR(ath_status_name(ATH_EREJECTS), "reject fraction exceeded");
}

TEST(batch_keep_columns_drops_the_rest) {
  field_def f[] = {{"a", COL_STRING, true}, {"b", COL_INT64, true}, {"c", COL_DOUBLE, true}};
  batch *b = batch_new(f, 3);
  col_append_str(&b->cols[0], "x", 1);
  col_append_i64(&b->cols[1], 7);
  col_append_f64(&b->cols[2], 1.5);
  CHECK(batch_sync_rows(b));
  const char *keep[] = {"c", "a", "zz"};
  batch_keep_columns(b, keep, 3);
  CHECK_INT(b->ncols, 2);
  CHECK_STR(b->cols[0].name, "a");
  CHECK_STR(b->cols[1].name, "c");
  CHECK(col_f64(&b->cols[1], 0) == 1.5);
  batch_free(b);
}

TEST(json_parse_reads_manifest_values) {
  const char *t = " {\"a\": [1, -2.5e1, true, null], \"s\": \"x\\\"\\u00e9\\ud83d\\ude00\\n\","
                  " \"o\": {}, \"e\": []} ";
  json_value v;
  char why[128];
  CHECK_INT(json_parse(t, strlen(t), &v, why, sizeof why), 0);
  CHECK_INT(v.type, JSON_OBJECT);
  CHECK_INT(v.n, 4);
  const json_value *a = json_get(&v, "a");
  CHECK(a && a->type == JSON_ARRAY && a->n == 4);
  if (a && a->n == 4) {
    CHECK(json_num(&a->items[0], 0) == 1.0);
    CHECK(json_num(&a->items[1], 0) == -25.0);
    CHECK_INT(a->items[2].type, JSON_BOOL);
    CHECK_INT(a->items[3].type, JSON_NULL);
  }
  const json_value *s = json_get(&v, "s");
  CHECK(s && s->type == JSON_STRING);
  if (s) CHECK_STR(s->str, "x\"\xc3\xa9\xf0\x9f\x98\x80\n");
  CHECK(json_get(&v, "o") && json_get(&v, "o")->n == 0);
  CHECK(json_get(&v, "nope") == NULL);
  CHECK(json_num(json_get(&v, "nope"), 7) == 7);
  json_free(&v);
}

TEST(json_parse_rejects_bad_text) {
  const char *bad[] = {"",
                       "{",
                       "[1,]",
                       "{\"a\" 1}",
                       "\"abc",
                       "[1] x",
                       "\"\\ud83d\"",
                       "tru",
                       "{1: 2}",
                       "\"a\tb\"",
                       "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    json_value v;
    char why[128];
    int rc = json_parse(bad[i], strlen(bad[i]), &v, why, sizeof why);
    if (rc == 0) FAILF("'%s' parsed", bad[i]);
    CHECK(why[0] != '\0');
  }
}
