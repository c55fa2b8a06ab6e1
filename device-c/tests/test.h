/* The C test runner's checks: every failure prints where and what, and the run exits non-zero. */
#ifndef EPARA_TEST_H
#define EPARA_TEST_H
#include <stdio.h>
#include <stdint.h>
#include <stddef.h>

extern int t_failed, t_passed;
extern const char *t_vectors;

#define CHECK(cond, ...)                                                  \
  do {                                                                    \
    if (cond) t_passed++;                                                 \
    else {                                                                \
      t_failed++;                                                         \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
      fprintf(stderr, __VA_ARGS__);                                       \
      fputc('\n', stderr);                                                \
    }                                                                     \
  } while (0)

int hex_decode(const char *hex, uint8_t *out, size_t cap);
int bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* Read a whole file into a static buffer; returns its length or -1. */
long read_file(const char *path, char *buf, size_t cap);

void test_crypto(void);
void test_codec_vectors(void);
void test_message_vectors(void);
void test_encoders(void);
void test_device(void);

#endif
