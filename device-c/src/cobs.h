/* COBS byte stuffing (SPEC §3): wire = COBS(frame) || 0x00. */
#ifndef EPARA_COBS_H
#define EPARA_COBS_H
#include <stddef.h>
#include <stdint.h>

/* Worst-case encoded size of n bytes (no delimiter): n + ceil(n/254), and 1 for n = 0. */
#define EPARA_COBS_MAX(n) ((n) + ((n) + 253u) / 254u + ((n) == 0u ? 1u : 0u))

/* Where encoded bytes go: called with runs of at most 255 bytes. */
typedef void (*epara_sink_fn)(void *ctx, const uint8_t *bytes, size_t n);

/* Encode in[0..n) to the sink, without the delimiter. Returns the encoded length. */
size_t epara_cobs_encode_to(const uint8_t *in, size_t n, epara_sink_fn sink, void *ctx);
/* Encode into out (capacity cap). Returns the length, or 0 if out is too small. */
size_t epara_cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/*
 * Streaming decoder: feed bytes one at a time; a 0x00 ends a piece. The decoded frame is written
 * to the caller's buffer; nothing beyond `cap` bytes is ever stored.
 */
typedef enum {
  EPARA_COBS_MORE = 0,   /* byte consumed, piece not finished */
  EPARA_COBS_FRAME,      /* delimiter: a frame of epara_cobs_dec.len bytes is in buf */
  EPARA_COBS_EMPTY,      /* delimiter after an empty piece (ignored, SPEC §3) */
  EPARA_COBS_BAD,        /* delimiter: a code byte pointed past the end (frame.cobs) */
  EPARA_COBS_TOO_LONG,   /* the piece decodes to more than cap bytes (frame.oversize) */
  EPARA_COBS_DISCARDING  /* the raw piece passed `limit` bytes: reported once, then dropped (frame.oversize) */
} epara_cobs_status;

typedef struct {
  uint8_t *buf;
  size_t cap;      /* largest frame stored (max_frame) */
  size_t limit;    /* raw piece bytes before the piece is discarded (SPEC §2.2) */
  size_t len;      /* decoded bytes so far (may exceed cap: then they are counted, not stored) */
  size_t raw;      /* raw bytes of this piece so far */
  uint8_t left;    /* data bytes still due in the current block */
  uint8_t code;    /* code byte of the current block (0 before the first) */
  uint8_t discarding;
} epara_cobs_dec;

/* The receive limit of SPEC §2.2: max_frame + ceil(max_frame/254) + 1. */
size_t epara_cobs_piece_limit(size_t max_frame);
void epara_cobs_dec_init(epara_cobs_dec *d, uint8_t *buf, size_t cap);
void epara_cobs_dec_reset(epara_cobs_dec *d);
epara_cobs_status epara_cobs_dec_byte(epara_cobs_dec *d, uint8_t byte);

#endif
