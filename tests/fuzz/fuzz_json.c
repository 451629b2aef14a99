/* libFuzzer target: the JSON reader (core/json.c) that `athlete report` runs over manifests,
 * which may be damaged. Parsing must not crash, leak or read out of bounds; on success every
 * value is walked (keys looked up again, numbers read), on failure a reason is given. */
#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t walk(const json_value *v, int depth) {
  size_t n = 1;
  if (v->type == JSON_STRING && !v->str) abort();
  for (int i = 0; i < v->n; i++) {
    if (v->type == JSON_OBJECT && json_get(v, v->keys[i]) == NULL) abort();
    n += walk(&v->items[i], depth + 1);
  }
  if (depth > 66) abort();
  (void)json_num(v, 0);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_value v;
  char why[128];
  if (json_parse((const char *)data, size, &v, why, sizeof why) == 0) {
    walk(&v, 0);
    json_free(&v);
  } else if (why[0] == '\0') {
    abort();
  }
  return 0;
}
