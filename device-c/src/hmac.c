#include "hmac.h"

void epara_hmac_init(epara_hmac_ctx *m, const uint8_t *key, size_t key_len) {
  uint8_t k[EPARA_SHA256_BLOCK] = {0};
  if (key_len > EPARA_SHA256_BLOCK) {
    epara_sha256(key, key_len, k); /* RFC 2104: longer keys are hashed first */
  } else {
    for (size_t i = 0; i < key_len; i++) k[i] = key[i];
  }
  uint8_t ikey[EPARA_SHA256_BLOCK];
  for (unsigned i = 0; i < EPARA_SHA256_BLOCK; i++) {
    ikey[i] = (uint8_t)(k[i] ^ 0x36u);
    m->okey[i] = (uint8_t)(k[i] ^ 0x5cu);
  }
  epara_sha256_init(&m->inner);
  epara_sha256_update(&m->inner, ikey, sizeof ikey);
  /* Key material does not outlive the call on the stack. */
  for (unsigned i = 0; i < EPARA_SHA256_BLOCK; i++) ((volatile uint8_t *)k)[i] = 0, ((volatile uint8_t *)ikey)[i] = 0;
}

void epara_hmac_update(epara_hmac_ctx *m, const uint8_t *data, size_t n) { epara_sha256_update(&m->inner, data, n); }

void epara_hmac_final(epara_hmac_ctx *m, uint8_t out[EPARA_SHA256_LEN]) {
  uint8_t ih[EPARA_SHA256_LEN];
  epara_sha256_final(&m->inner, ih);
  epara_sha256_ctx outer;
  epara_sha256_init(&outer);
  epara_sha256_update(&outer, m->okey, sizeof m->okey);
  epara_sha256_update(&outer, ih, sizeof ih);
  epara_sha256_final(&outer, out);
  for (unsigned i = 0; i < EPARA_SHA256_BLOCK; i++) ((volatile uint8_t *)m->okey)[i] = 0;
}

void epara_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t n, uint8_t out[EPARA_SHA256_LEN]) {
  epara_hmac_ctx m;
  epara_hmac_init(&m, key, key_len);
  epara_hmac_update(&m, data, n);
  epara_hmac_final(&m, out);
}

int epara_ct_equal(const uint8_t *a, const uint8_t *b, size_t n) {
  uint8_t diff = 0;
  for (size_t i = 0; i < n; i++) diff |= (uint8_t)(a[i] ^ b[i]);
  return diff == 0;
}
