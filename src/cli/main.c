#include "core/status.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("athlete %s\n", ATHLETE_VERSION);
    return 0;
  }
  fprintf(stderr, "usage: athlete <command> [options]\n");
  return ATH_EUSAGE;
}
