/*
 * C tests for device-c: crypto against FIPS 180-4 / RFC 4231, COBS / CRC / frames / messages
 * against protocol/vectors, the encoders against the valid vectors' bytes, and the device
 * session against a scripted server. Built with ASan and UBSan (Makefile `test`).
 *   build/run-tests ../protocol/vectors
 */
#include <stdlib.h>
#include <string.h>
#include "test.h"

int t_failed, t_passed;
const char *t_vectors = "../protocol/vectors";

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int hex_decode(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex);
  if (n % 2 || n / 2 > cap) return -1;
  for (size_t i = 0; i < n / 2; i++) out[i] = (uint8_t)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
  return (int)(n / 2);
}

int bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) { return an == bn && (an == 0 || memcmp(a, b, an) == 0); }

long read_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n == cap ? -1 : (long)n;
}

int main(int argc, char **argv) {
  if (argc > 1) t_vectors = argv[1];
  const char *only = argc > 2 ? argv[2] : "";
  struct { const char *name; void (*fn)(void); } suites[] = {
    {"crypto", test_crypto}, {"codec", test_codec_vectors}, {"messages", test_message_vectors},
    {"encoders", test_encoders}, {"device", test_device},
  };
  for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
    if (*only && strcmp(only, suites[i].name) != 0) continue;
    int before_f = t_failed, before_p = t_passed;
    suites[i].fn();
    printf("suite %-9s %4d passed, %d failed\n", suites[i].name, t_passed - before_p, t_failed - before_f);
  }
  printf("device-c tests: %d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
