/* The frame layer of SPEC §2: 9-byte header, CBOR body, CRC-32C sent LSB first. */
#ifndef EPARA_FRAME_H
#define EPARA_FRAME_H
#include <stddef.h>
#include <stdint.h>

#define EPARA_FRAME_VERSION 1
#define EPARA_HEADER_SIZE 9
#define EPARA_CRC_SIZE 4
#define EPARA_MIN_FRAME (EPARA_HEADER_SIZE + EPARA_CRC_SIZE)
#define EPARA_DEFAULT_MAX_FRAME 512
#define EPARA_FLAG_RSP 0x01
#define EPARA_FLAG_RTX 0x02
#define EPARA_FLAG_RESERVED 0xFC

typedef struct {
  uint8_t version, type, flags;
  uint16_t seq, corr, len;
} epara_header;

/*
 * Write the header for a body already at frame + 9 (len bytes) and append the CRC. Returns the
 * frame length (len + 13); the caller has room for it.
 */
size_t epara_frame_seal(uint8_t *frame, uint8_t type, uint8_t flags, uint16_t seq, uint16_t corr, uint16_t len);

/*
 * Check a COBS-decoded frame in the order of SPEC §3: size (frame.truncated / frame.oversize),
 * CRC (frame.crc), then the header it now can trust: ver (frame.version), reserved flags and len
 * (frame.header, `field` names which). The type and the body are checked by the caller (message
 * layer). Returns 0 or the error code; *h is filled whenever the CRC held.
 */
int epara_frame_parse(const uint8_t *frame, size_t n, size_t max_frame, epara_header *h, const char **field);

#endif
