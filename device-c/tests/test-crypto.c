/* SHA-256 against FIPS 180-4 examples and HMAC-SHA256 against RFC 4231 test cases 1-7. */
#include <string.h>
#include "test.h"
#include "hmac.h"

static void sha_case(const uint8_t *msg, size_t n, const char *want_hex) {
  uint8_t want[32], got[32];
  hex_decode(want_hex, want, 32);
  epara_sha256(msg, n, got);
  CHECK(memcmp(got, want, 32) == 0, "sha256 of %zu bytes", n);
  /* the same through odd-sized updates (block-boundary handling) */
  epara_sha256_ctx s;
  epara_sha256_init(&s);
  for (size_t i = 0; i < n;) {
    size_t k = (i % 7) + 1;
    if (k > n - i) k = n - i;
    epara_sha256_update(&s, msg + i, k);
    i += k;
  }
  epara_sha256_final(&s, got);
  CHECK(memcmp(got, want, 32) == 0, "streamed sha256 of %zu bytes", n);
}

static void hmac_case(const uint8_t *key, size_t kn, const uint8_t *msg, size_t mn, const char *want_hex, size_t cmp) {
  uint8_t want[32], got[32];
  hex_decode(want_hex, want, 32);
  epara_hmac_sha256(key, kn, msg, mn, got);
  CHECK(memcmp(got, want, cmp) == 0, "hmac key %zu bytes msg %zu bytes", kn, mn);
}

static uint8_t big[1000000];

void test_crypto(void) {
  sha_case((const uint8_t *)"abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sha_case((const uint8_t *)"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha_case((const uint8_t *)m448, strlen(m448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  sha_case((const uint8_t *)m896, strlen(m896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  memset(big, 'a', sizeof big);
  sha_case(big, sizeof big, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  uint8_t k[131], m[50];
  memset(k, 0x0b, 20);
  hmac_case(k, 20, (const uint8_t *)"Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32);
  hmac_case((const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32);
  memset(k, 0xaa, 20);
  memset(m, 0xdd, 50);
  hmac_case(k, 20, m, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32);
  for (int i = 0; i < 25; i++) k[i] = (uint8_t)(i + 1);
  memset(m, 0xcd, 50);
  hmac_case(k, 25, m, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32);
  memset(k, 0x0c, 20);
  hmac_case(k, 20, (const uint8_t *)"Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b00000000000000000000000000000000", 16);
  memset(k, 0xaa, 131);
  const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  hmac_case(k, 131, (const uint8_t *)t6, strlen(t6), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 32);
  const char *t7 = "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";
  hmac_case(k, 131, (const uint8_t *)t7, strlen(t7), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 32);

  uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5};
  CHECK(epara_ct_equal(a, a, 4) == 1, "equal");
  CHECK(epara_ct_equal(a, b, 4) == 0, "differs in the last byte");
}
