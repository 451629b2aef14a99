/* libFuzzer target: option parsing. The input is split at NUL bytes into argv; every command's
 * option groups parse it. Parsing must not crash and must answer ATH_OK or ATH_EUSAGE (with a
 * message) — never anything else; a help request is OK. */
#include "cli/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned groups[] = {
    OPTS_PIPELINE | OPTS_SOURCE,
    OPTS_PIPELINE,
    OPTS_GEN,
    OPTS_SHOW | OPTS_LAKE,
    OPTS_HTML | OPTS_LAKE,
    OPTS_MOCK,
    OPTS_KAFKA | OPTS_TOPIC | OPTS_TOPICS,
    OPTS_KAFKA | OPTS_TOPIC | OPTS_PRODUCE | OPTS_SOURCE | OPTS_LAKE | OPTS_WRITE | OPTS_REPORT |
        OPTS_REJECTS,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1);
  memcpy(buf, data, size);
  buf[size] = '\0';
  char *argv[64] = {"cmd"};
  int argc = 1;
  for (size_t i = 0; i <= size && argc < 63;) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
    cli_args a;
    ath_error err = {0};
    int rc = cli_parse(argc, argv, groups[g], &a, &err);
    if (rc != ATH_OK && rc != ATH_EUSAGE) {
      fprintf(stderr, "fuzz_options: status %d\n", rc);
      abort();
    }
    if (rc == ATH_EUSAGE && err.msg[0] == '\0') {
      fprintf(stderr, "fuzz_options: a usage error without a message\n");
      abort();
    }
  }
  free(buf);
  return 0;
}
