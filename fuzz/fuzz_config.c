/* The command line: the input split at NUL bytes into arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = malloc(size + 1);
  char *argv[34];
  int argc = 1;
  size_t i, start = 0;
  cp_config_t cfg;
  char err[1024];

  if (copy == NULL) {
    return 0;
  }
  memcpy(copy, data, size);
  copy[size] = '\0';
  argv[0] = "chainproxy";
  for (i = 0; i <= size && argc < 33; i++) {
    if (i == size || copy[i] == '\0') {
      copy[i] = '\0';
      argv[argc++] = copy + start;
      start = i + 1;
    }
  }
  argv[argc] = NULL;
  cp_config_defaults(&cfg);
  if (cp_config_parse(&cfg, argc, argv, err, sizeof(err)) == 0) {
    cp_config_check_exposure(&cfg, err, sizeof(err));
  }
  free(copy);
  return 0;
}
