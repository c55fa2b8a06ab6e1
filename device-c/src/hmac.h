/* HMAC-SHA256 (RFC 2104 / RFC 4231) and a constant-time compare, for the handshake MACs (SPEC §5.3, §5.4). */
#ifndef EPARA_HMAC_H
#define EPARA_HMAC_H
#include "sha256.h"

typedef struct {
  epara_sha256_ctx inner;
  uint8_t okey[EPARA_SHA256_BLOCK]; /* key XOR opad, for the outer hash at the end */
} epara_hmac_ctx;

void epara_hmac_init(epara_hmac_ctx *m, const uint8_t *key, size_t key_len);
void epara_hmac_update(epara_hmac_ctx *m, const uint8_t *data, size_t n);
void epara_hmac_final(epara_hmac_ctx *m, uint8_t out[EPARA_SHA256_LEN]);
void epara_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t n, uint8_t out[EPARA_SHA256_LEN]);

/* 1 when a[0..n) == b[0..n); the time does not depend on where they differ. */
int epara_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
