#include "cobs.h"

size_t epara_cobs_encode_to(const uint8_t *in, size_t n, epara_sink_fn sink, void *ctx) {
  size_t total = 0;
  size_t i = 0;
  /*
   * Each block is a code byte then up to 254 non-zero bytes. A block that stops at a zero
   * consumes that zero (the code implies it); a full 0xFF block does not. The loop runs once more
   * after a zero at the very end, which writes the final `01` for the empty last run.
   */
  for (;;) {
    size_t run = 0;
    while (i + run < n && in[i + run] != 0 && run < 254) run++;
    uint8_t code = (uint8_t)(run + 1);
    sink(ctx, &code, 1);
    if (run) sink(ctx, in + i, run);
    total += 1 + run;
    i += run;
    if (run == 254) {
      /* 0xFF block: no implied zero. Stop if the frame ended exactly here (SPEC §3). */
      if (i == n) break;
      continue;
    }
    if (i == n) break;
    i++; /* the zero the code byte stands for */
  }
  return total;
}

typedef struct {
  uint8_t *out;
  size_t cap;
  size_t pos;
  int overflow;
} buf_sink;

static void to_buf(void *ctx, const uint8_t *b, size_t n) {
  buf_sink *s = (buf_sink *)ctx;
  if (s->pos + n > s->cap) {
    s->overflow = 1;
    return;
  }
  for (size_t k = 0; k < n; k++) s->out[s->pos + k] = b[k];
  s->pos += n;
}

size_t epara_cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  buf_sink s = {out, cap, 0, 0};
  size_t len = epara_cobs_encode_to(in, n, to_buf, &s);
  return s.overflow ? 0 : len;
}

size_t epara_cobs_piece_limit(size_t max_frame) { return max_frame + (max_frame + 253u) / 254u + 1u; }

void epara_cobs_dec_init(epara_cobs_dec *d, uint8_t *buf, size_t cap) {
  d->buf = buf;
  d->cap = cap;
  d->limit = epara_cobs_piece_limit(cap);
  epara_cobs_dec_reset(d);
}

void epara_cobs_dec_reset(epara_cobs_dec *d) {
  d->len = 0;
  d->raw = 0;
  d->left = 0;
  d->code = 0;
  d->discarding = 0;
}

static void put(epara_cobs_dec *d, uint8_t b) {
  if (d->len < d->cap) d->buf[d->len] = b;
  d->len++;
}

epara_cobs_status epara_cobs_dec_byte(epara_cobs_dec *d, uint8_t byte) {
  if (byte == 0) {
    epara_cobs_status st;
    if (d->discarding) st = EPARA_COBS_MORE; /* already reported when discarding started */
    else if (d->raw == 0) st = EPARA_COBS_EMPTY;
    else if (d->left != 0) st = EPARA_COBS_BAD;
    else if (d->len > d->cap) st = EPARA_COBS_TOO_LONG;
    else st = EPARA_COBS_FRAME;
    size_t len = d->len;
    epara_cobs_dec_reset(d);
    d->len = len; /* the caller reads the frame length after a FRAME */
    return st;
  }
  if (d->discarding) return EPARA_COBS_MORE;
  if (d->raw == 0) d->len = 0;
  d->raw++;
  if (d->raw > d->limit) {
    /* Never buffer an endless piece: drop it and resynchronise on the next delimiter. */
    d->discarding = 1;
    return EPARA_COBS_DISCARDING;
  }
  if (d->left == 0) {
    /* A code byte; the previous block (unless a 0xFF one, or none) ended with a zero. */
    if (d->code != 0 && d->code != 0xFF) put(d, 0);
    d->code = byte;
    d->left = (uint8_t)(byte - 1);
  } else {
    put(d, byte);
    d->left--;
  }
  return EPARA_COBS_MORE;
}
