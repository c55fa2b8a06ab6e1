#include "frame.h"
#include "crc32c.h"
#include "error_codes.h"

size_t epara_frame_seal(uint8_t *f, uint8_t type, uint8_t flags, uint16_t seq, uint16_t corr, uint16_t len) {
  f[0] = EPARA_FRAME_VERSION;
  f[1] = type;
  f[2] = flags;
  f[3] = (uint8_t)(seq >> 8);
  f[4] = (uint8_t)seq;
  f[5] = (uint8_t)(corr >> 8);
  f[6] = (uint8_t)corr;
  f[7] = (uint8_t)(len >> 8);
  f[8] = (uint8_t)len;
  size_t at = EPARA_HEADER_SIZE + (size_t)len;
  uint32_t crc = epara_crc32c(f, at);
  for (unsigned i = 0; i < 4; i++) f[at + i] = (uint8_t)(crc >> (8 * i));
  return at + EPARA_CRC_SIZE;
}

int epara_frame_parse(const uint8_t *f, size_t n, size_t max_frame, epara_header *h, const char **field) {
  *field = 0;
  if (n < EPARA_MIN_FRAME) return EPARA_E_FRAME_TRUNCATED;
  if (n > max_frame) return EPARA_E_FRAME_OVERSIZE;
  size_t at = n - EPARA_CRC_SIZE;
  uint32_t want = epara_crc32c(f, at);
  uint32_t got = (uint32_t)f[at] | ((uint32_t)f[at + 1] << 8) | ((uint32_t)f[at + 2] << 16) | ((uint32_t)f[at + 3] << 24);
  if (want != got) return EPARA_E_FRAME_CRC;
  h->version = f[0];
  h->type = f[1];
  h->flags = f[2];
  h->seq = (uint16_t)((f[3] << 8) | f[4]);
  h->corr = (uint16_t)((f[5] << 8) | f[6]);
  h->len = (uint16_t)((f[7] << 8) | f[8]);
  if (h->version != EPARA_FRAME_VERSION) return EPARA_E_FRAME_VERSION;
  if (h->flags & EPARA_FLAG_RESERVED) {
    *field = "flags";
    return EPARA_E_FRAME_HEADER;
  }
  if (h->len != at - EPARA_HEADER_SIZE) {
    *field = "len";
    return EPARA_E_FRAME_HEADER;
  }
  return 0;
}
