/* SHA-256 (FIPS 180-4): streaming, no heap, 108 bytes of state. */
#ifndef EPARA_SHA256_H
#define EPARA_SHA256_H
#include <stddef.h>
#include <stdint.h>

#define EPARA_SHA256_LEN 32
#define EPARA_SHA256_BLOCK 64

typedef struct {
  uint32_t h[8];
  uint64_t total;      /* bytes hashed so far */
  uint8_t block[64];
  uint8_t used;        /* bytes waiting in block */
} epara_sha256_ctx;

void epara_sha256_init(epara_sha256_ctx *s);
void epara_sha256_update(epara_sha256_ctx *s, const uint8_t *data, size_t n);
void epara_sha256_final(epara_sha256_ctx *s, uint8_t out[EPARA_SHA256_LEN]);
void epara_sha256(const uint8_t *data, size_t n, uint8_t out[EPARA_SHA256_LEN]);

#endif
