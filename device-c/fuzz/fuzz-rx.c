/*
 * libFuzzer harness over everything a device receives: the input is split at its first byte
 * into a prefix (a handshake replayed so the device is READY with a real session) and raw link
 * bytes, fed in random-sized pieces. Under ASan and UBSan any out-of-bounds access, overflow or
 * undefined shift is a crash; the harness also checks that every byte the device writes back
 * decodes as a valid frame (the device never sends garbage, whatever it hears).
 *   make -C device-c fuzz && device-c/build/fuzz-rx -max_total_time=60 corpus/
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "epara_device.h"
#include "hmac.h"
#include "message.h"

static const uint8_t KEY[32] = {7};
static epara_dev dev;
static uint8_t mem[EPARA_DEV_MEM(512, 2)];
static uint8_t flash[1024];
static uint8_t out[1 << 16];
static size_t out_len;
static uint8_t nonce_seed;

static void wr(void *u, const uint8_t *b, size_t n) {
  (void)u;
  if (out_len + n <= sizeof out) memcpy(out + out_len, b, n), out_len += n;
}
static int rnd(void *u, uint8_t *o, size_t n) {
  (void)u;
  for (size_t i = 0; i < n; i++) o[i] = nonce_seed++;
  return 0;
}
static int st_begin(void *u, const epara_offer *o, uint64_t *next) { (void)u; *next = 0; return o->size > sizeof flash ? EPARA_E_DEPLOY_TOO_LARGE : 0; }
static int st_write(void *u, const epara_offer *o, uint64_t off, const uint8_t *p, size_t n) { (void)u, (void)o; memcpy(flash + off, p, n); return 0; }
static int st_read(void *u, const epara_offer *o, uint64_t off, uint8_t *p, size_t n) { (void)u, (void)o; memcpy(p, flash + off, n); return 0; }
static int st_activate(void *u, const epara_offer *o) { (void)u, (void)o; return 0; }
static void st_discard(void *u, const epara_offer *o) { (void)u, (void)o; }
static const epara_storage storage = {st_begin, st_write, st_read, st_activate, st_discard};
static uint8_t y[64];
static int sig(void *u, const char *s, epara_signature *g) { (void)u, (void)s; g->n_inputs = 1, g->tag[0] = 64, g->elements[0] = 4; return 0; }
static int run(void *u, const char *s, const epara_tensor *in, size_t n, epara_tensor *o, size_t *no) {
  (void)u, (void)s, (void)n;
  memcpy(y, in[0].data, 4);
  o[0] = (epara_tensor){.name = "y", .name_len = 1, .tag = 64, .ndims = 1, .shape = {4}, .elements = 4, .data = y, .len = 4};
  *no = 1;
  return 0;
}
static const epara_models models = {sig, run};

static void feed_frame(uint8_t type, uint8_t flags, uint16_t seq, uint16_t corr, const uint8_t *body, size_t n, uint32_t now) {
  static uint8_t f[600], w[700];
  memcpy(f + 9, body, n);
  size_t fl = epara_frame_seal(f, type, flags, seq, corr, (uint16_t)n);
  size_t wl = epara_cobs_encode(f, fl, w, sizeof w - 1);
  w[wl++] = 0;
  epara_dev_feed(&dev, w, wl, now);
}

/* Walk the device to READY the way a server would, reading its HELLO and AUTH back. */
static void handshake(void) {
  epara_cw c;
  uint8_t b[200];
  static const uint8_t ns[16] = {1};
  out_len = 0;
  epara_dev_start(&dev, 1);
  epara_cw_init(&c, b, sizeof b);
  epara_cw_map(&c, 5), epara_cw_uint(&c, 0), epara_cw_bytes(&c, ns, 16), epara_cw_uint(&c, 1), epara_cw_uint(&c, 1);
  epara_cw_uint(&c, 2), epara_cw_uint(&c, 512), epara_cw_uint(&c, 3), epara_cw_uint(&c, 2), epara_cw_uint(&c, 4), epara_cw_uint(&c, 1000);
  feed_frame(2, 1, 1, dev.pend_seq, b, c.pos, 2);
  uint8_t smac[32];
  epara_hmac_ctx m;
  epara_hmac_init(&m, KEY, 32);
  epara_hmac_update(&m, (const uint8_t *)"epara-srv-v1", 12);
  epara_hmac_update(&m, dev.device_nonce, 16);
  epara_hmac_update(&m, ns, 16);
  epara_hmac_update(&m, (const uint8_t *)"fuzz", 4);
  epara_hmac_final(&m, smac);
  static const uint8_t sid[8] = {3};
  epara_cw_init(&c, b, sizeof b);
  epara_cw_map(&c, 5), epara_cw_uint(&c, 0), epara_cw_bytes(&c, sid, 8), epara_cw_uint(&c, 1), epara_cw_uint(&c, 15000);
  epara_cw_uint(&c, 2), epara_cw_uint(&c, 1000), epara_cw_uint(&c, 3), epara_cw_uint(&c, 3000), epara_cw_uint(&c, 4), epara_cw_bytes(&c, smac, 32);
  feed_frame(4, 1, 2, dev.pend_seq, b, c.pos, 3);
}

/* Everything the device wrote must be well-formed frames it is allowed to send. */
static void check_output(void) {
  static uint8_t frame[600];
  epara_cobs_dec d;
  epara_cobs_dec_init(&d, frame, sizeof frame);
  for (size_t i = 0; i < out_len; i++) {
    epara_cobs_status st = epara_cobs_dec_byte(&d, out[i]);
    if (st == EPARA_COBS_BAD || st == EPARA_COBS_TOO_LONG || st == EPARA_COBS_DISCARDING) __builtin_trap();
    if (st == EPARA_COBS_FRAME) {
      epara_rx rx;
      epara_message_decode(frame, d.len, 512, &rx);
      if (rx.code != 0) __builtin_trap();
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  epara_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.device_id = "fuzz", cfg.key = KEY, cfg.device_class = 3, cfg.firmware = "fuzz";
  cfg.max_frame = 512, cfg.rx_window = 2, cfg.request_timeout_ms = 100, cfg.retries = 2;
  cfg.write = wr, cfg.random = rnd, cfg.storage = &storage, cfg.models = &models;
  if (epara_dev_init(&dev, &cfg, mem, sizeof mem) != 0) __builtin_trap();
  int ready = size > 0 && (data[0] & 1);
  if (ready) handshake();
  else epara_dev_start(&dev, 1);
  out_len = 0;
  uint32_t now = 10;
  size_t i = size > 0 ? 1 : 0;
  while (i < size) {
    /* piece length from the data itself, so the fuzzer controls the split points */
    size_t piece = 1 + (data[i] % 64);
    i++;
    if (piece > size - i) piece = size - i;
    epara_dev_feed(&dev, data + i, piece, now);
    i += piece;
    now += 37;
    epara_dev_tick(&dev, now);
  }
  check_output();
  return 0;
}
