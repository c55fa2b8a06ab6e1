/*
 * The device session against a scripted server written with the library's own CBOR writer:
 * handshake (and the serverMac and version refusals), PING, the response cache for
 * retransmitted requests, our HEARTBEAT's RTX retransmissions and link loss, deploy with
 * go-back-N / bad hash / resume, INFER signature checks, STATE counters, errors and BYE.
 */
#include <string.h>
#include "test.h"
#include "epara_device.h"
#include "encode.h"
#include "hmac.h"
#include "rx.h"

static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char *ID = "mcu-test.1";

/* ---- what the device wrote ----------------------------------------------------------------- */
static uint8_t sent[1 << 16];
static size_t sent_len;
static rx_log got;
static int events[32], event_codes[32], n_events;
static uint8_t rnd_byte = 0x40;

static void dev_write(void *user, const uint8_t *b, size_t n) {
  (void)user;
  if (sent_len + n <= sizeof sent) memcpy(sent + sent_len, b, n), sent_len += n;
}
static int dev_random(void *user, uint8_t *out, size_t n) {
  (void)user;
  for (size_t i = 0; i < n; i++) out[i] = rnd_byte++;
  return 0;
}
static void dev_event(void *user, epara_event ev, int code) {
  (void)user;
  if (n_events < 32) events[n_events] = ev, event_codes[n_events++] = code;
}
static int last_event(epara_event ev) {
  for (int i = n_events - 1; i >= 0; i--)
    if (events[i] == (int)ev) return event_codes[i];
  return -1;
}

/* Decode everything the device sent since the last call. */
static void drain(void) {
  rx_run(sent, sent_len, 65535, &got);
  sent_len = 0;
}

/* ---- storage in RAM -------------------------------------------------------------------------- */
static uint8_t flash[4096];
static uint64_t persisted;
static uint32_t persisted_id;
static uint8_t persisted_sha[32];
static int writes, activations, fail_activate;

static int st_begin(void *u, const epara_offer *o, uint64_t *next) {
  (void)u;
  if (o->size > sizeof flash) return EPARA_E_DEPLOY_TOO_LARGE;
  if (o->deployment_id == persisted_id && memcmp(o->sha256, persisted_sha, 32) == 0) *next = persisted;
  else persisted = 0, persisted_id = o->deployment_id, memcpy(persisted_sha, o->sha256, 32), *next = 0;
  return 0;
}
static int st_write(void *u, const epara_offer *o, uint64_t off, const uint8_t *p, size_t n) {
  (void)u, (void)o;
  memcpy(flash + off, p, n);
  persisted = off + n;
  writes++;
  return 0;
}
static int st_read(void *u, const epara_offer *o, uint64_t off, uint8_t *p, size_t n) {
  (void)u, (void)o;
  memcpy(p, flash + off, n);
  return 0;
}
static int st_activate(void *u, const epara_offer *o) {
  (void)u, (void)o;
  activations++;
  return fail_activate ? EPARA_E_DEPLOY_WARMUP_FAILED : 0;
}
static void st_discard(void *u, const epara_offer *o) {
  (void)u, (void)o;
  persisted = 0, persisted_id = 0;
}
static const epara_storage storage = {st_begin, st_write, st_read, st_activate, st_discard};

/* ---- a model: doubles uint8 inputs of 4 elements --------------------------------------------- */
static uint8_t outbuf[4];
static int runs;
static int sig(void *u, const char *service, epara_signature *s) {
  (void)u;
  if (strcmp(service, "double") != 0) return EPARA_E_INFER_UNKNOWN_SERVICE;
  s->n_inputs = 1, s->tag[0] = 64, s->elements[0] = 4;
  return 0;
}
static int run(void *u, const char *service, const epara_tensor *in, size_t n, epara_tensor *out, size_t *n_out) {
  (void)u, (void)service, (void)n;
  runs++;
  for (int i = 0; i < 4; i++) outbuf[i] = (uint8_t)(in[0].data[i] * 2);
  out[0] = (epara_tensor){.name = "y", .name_len = 1, .tag = 64, .ndims = 1, .shape = {4}, .elements = 4, .data = outbuf, .len = 4};
  *n_out = 1;
  return 0;
}
static const epara_models models = {sig, run};

/* ---- the scripted server --------------------------------------------------------------------- */
static epara_dev dev;
static uint8_t mem[EPARA_DEV_MEM(512, 2)];
static uint16_t srv_seq = 100;
static uint32_t now = 1000;
static uint8_t snonce[16] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF};

static uint8_t fbuf[2048], wbuf[2100];
static epara_cw body;
static void begin(void) { epara_cw_init(&body, fbuf + EPARA_HEADER_SIZE, sizeof fbuf - EPARA_MIN_FRAME); }
/* Seal the body as `type` and feed it to the device; returns the seq used. */
static uint16_t send_as(uint8_t type, uint8_t flags, uint16_t seq, uint16_t corr) {
  size_t n = epara_frame_seal(fbuf, type, flags, seq, corr, (uint16_t)body.pos);
  size_t en = epara_cobs_encode(fbuf, n, wbuf, sizeof wbuf - 1);
  wbuf[en++] = 0;
  epara_dev_feed(&dev, wbuf, en, now);
  return seq;
}
static uint16_t send_req(uint8_t type) { return send_as(type, 0, srv_seq++, 0); }

static void setup(void) {
  epara_config c;
  memset(&c, 0, sizeof c);
  c.device_id = ID, c.key = KEY, c.device_class = 3, c.firmware = "test";
  c.cpu_cores = 1, c.memory_kib = 64, c.compute_mops = 10;
  c.max_frame = 512, c.rx_window = 2, c.request_timeout_ms = 500, c.retries = 2;
  c.write = dev_write, c.random = dev_random, c.event = dev_event;
  c.storage = &storage, c.models = &models;
  CHECK(epara_dev_init(&dev, &c, mem, sizeof mem) == 0, "init");
  sent_len = 0, n_events = 0;
}

static void mac(const char *label, const uint8_t *a, const uint8_t *b, uint8_t out[32]) {
  epara_hmac_ctx m;
  epara_hmac_init(&m, KEY, 32);
  epara_hmac_update(&m, (const uint8_t *)label, strlen(label));
  epara_hmac_update(&m, a, 16);
  epara_hmac_update(&m, b, 16);
  epara_hmac_update(&m, (const uint8_t *)ID, strlen(ID));
  epara_hmac_final(&m, out);
}

/* Up to WELCOME; `welcome`: 0 stop after AUTH, 1 good serverMac, 2 bad serverMac. Returns the AUTH's device nonce index. */
static void handshake(int welcome, unsigned version) {
  epara_dev_start(&dev, now);
  drain();
  CHECK(got.n == 1 && got.code[0] == 0 && got.h[0].type == EPARA_T_HELLO && !(got.h[0].flags & EPARA_FLAG_RSP), "HELLO sent (%d events)", got.n);
  uint16_t hello_seq = got.h[0].seq;
  begin();
  epara_cw_map(&body, 5);
  epara_cw_uint(&body, 0), epara_cw_bytes(&body, snonce, 16);
  epara_cw_uint(&body, 1), epara_cw_uint(&body, version);
  epara_cw_uint(&body, 2), epara_cw_uint(&body, 256);
  epara_cw_uint(&body, 3), epara_cw_uint(&body, 2);
  epara_cw_uint(&body, 4), epara_cw_uint(&body, 1000);
  send_as(EPARA_T_CHALLENGE, EPARA_FLAG_RSP, srv_seq++, hello_seq);
  drain();
  if (version != 1) return;
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_AUTH, "AUTH sent");
  epara_item a = {got.body[0]};
  epara_item v;
  size_t n;
  CHECK(epara_map_get(a, 0, &v) && memcmp(epara_item_str(v, &n), snonce, 16) == 0, "AUTH answers our nonce");
  uint8_t dn[16], want[32];
  CHECK(epara_map_get(a, 1, &v), "device nonce");
  memcpy(dn, epara_item_str(v, &n), 16);
  mac("epara-auth-v1", snonce, dn, want);
  CHECK(epara_map_get(a, 2, &v) && memcmp(epara_item_str(v, &n), want, 32) == 0, "AUTH MAC is HMAC-SHA256(key, label|ns|nd|id)");
  if (!welcome) return;
  uint8_t smac[32];
  mac("epara-srv-v1", dn, snonce, smac);
  if (welcome == 2) smac[31] ^= 1;
  static const uint8_t sid[8] = {9, 9, 9, 9, 8, 8, 8, 8};
  begin();
  epara_cw_map(&body, 5);
  epara_cw_uint(&body, 0), epara_cw_bytes(&body, sid, 8);
  epara_cw_uint(&body, 1), epara_cw_uint(&body, 15000);
  epara_cw_uint(&body, 2), epara_cw_uint(&body, 1000);
  epara_cw_uint(&body, 3), epara_cw_uint(&body, 3000);
  epara_cw_uint(&body, 4), epara_cw_bytes(&body, smac, 32);
  send_as(EPARA_T_WELCOME, EPARA_FLAG_RSP, srv_seq++, got.h[0].seq);
  drain();
}

static uint16_t error_code(int k) {
  epara_item v, b = {got.body[k]};
  return epara_map_get(b, 0, &v) ? (uint16_t)epara_item_arg(v, 0) : 0;
}

static void ping(const uint8_t *data, size_t n) {
  begin();
  epara_cw_map(&body, 1);
  epara_cw_uint(&body, 0), epara_cw_bytes(&body, data, n);
}

static void test_handshake_and_refusals(void) {
  setup();
  /* a request before the handshake: ERROR 205 */
  epara_dev_start(&dev, now);
  drain();
  ping((const uint8_t *)"x", 1);
  uint16_t s = send_req(EPARA_T_PING);
  drain();
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_ERROR && got.h[0].corr == s && error_code(0) == 205, "PING before WELCOME: ERROR 205");

  setup();
  handshake(1, 1);
  CHECK(epara_dev_state(&dev) == EPARA_ST_READY, "READY after a good WELCOME");
  CHECK(last_event(EPARA_EV_READY) == 0, "READY event");
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_STATE && got.h[0].flags == 0, "STATE at once after WELCOME");

  setup();
  handshake(2, 1);
  CHECK(epara_dev_state(&dev) == EPARA_ST_CLOSED, "a bad serverMac closes");
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_BYE && error_code(0) == 208, "BYE 208 and nothing else (%d frames)", got.n);
  CHECK(last_event(EPARA_EV_SERVER_MAC) == 208, "SERVER_MAC event");
  ping((const uint8_t *)"x", 1);
  send_req(EPARA_T_PING);
  drain();
  CHECK(got.n == 0, "no answers after refusing the server");

  setup();
  handshake(0, 2);
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_BYE && error_code(0) == 121, "version 2 refused with BYE 121 (no AUTH)");
  CHECK(epara_dev_state(&dev) == EPARA_ST_CLOSED, "closed after a version refusal");

  /* ERROR in answer to HELLO: refused */
  setup();
  epara_dev_start(&dev, now);
  drain();
  begin();
  epara_write_error(&body, 201, NULL, NULL, NULL);
  send_as(EPARA_T_ERROR, EPARA_FLAG_RSP, srv_seq++, got.h[0].seq);
  CHECK(last_event(EPARA_EV_REFUSED) == 201 && epara_dev_state(&dev) == EPARA_ST_CLOSED, "ERROR 201 to HELLO: refused");
}

static void test_ping_cache_and_errors(void) {
  setup();
  handshake(1, 1);
  static const uint8_t data[5] = {0, 1, 0, 0xFF, 7};
  ping(data, 5);
  uint16_t s = send_req(EPARA_T_PING);
  drain();
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_PONG && got.h[0].corr == s && (got.h[0].flags & EPARA_FLAG_RSP), "PONG");
  epara_item v, b = {got.body[0]};
  size_t n;
  CHECK(epara_map_get(b, 0, &v) && epara_item_str(v, &n) && n == 5 && memcmp(epara_item_str(v, &n), data, 5) == 0, "PONG echoes the data");
  uint8_t first[64];
  size_t first_len = got.frame_len[0];
  memcpy(first, got.frame[0], first_len);
  /* the same request again with RTX: the cached frame, byte for byte */
  ping(data, 5);
  send_as(EPARA_T_PING, EPARA_FLAG_RTX, s, 0);
  drain();
  CHECK(got.n == 1 && bytes_eq(got.frame[0], got.frame_len[0], first, first_len), "RTX answered from the cache, same bytes");

  /* schema error in a request: ERROR 113 naming the field */
  uint8_t big[65];
  memset(big, 1, sizeof big);
  ping(big, 65);
  s = send_req(EPARA_T_PING);
  drain();
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_ERROR && error_code(0) == 113 && got.h[0].corr == s, "65-byte PING: 113");
  epara_item f, eb = {got.body[0]};
  CHECK(epara_map_get(eb, 3, &f) && epara_item_str(f, &n) && n == 4 && memcmp(epara_item_str(f, &n), "data", 4) == 0, "field data");

  /* a notification with a bad body, and a response nobody asked for: silence */
  begin();
  epara_cw_map(&body, 2), epara_cw_uint(&body, 1), epara_cw_cstr(&body, "ok"), epara_cw_uint(&body, 0), epara_cw_uint(&body, 0);
  send_req(EPARA_T_BYE);
  drain();
  CHECK(got.n == 0 && epara_dev_state(&dev) == EPARA_ST_READY, "a BYE with unsorted keys is ignored");
  ping(data, 1);
  send_as(EPARA_T_PONG, EPARA_FLAG_RSP, srv_seq++, 4242);
  drain();
  CHECK(got.n == 0, "an unsolicited response is ignored");
  /* unknown type requests get 110; a HEARTBEAT (device-to-server) gets 114 */
  begin();
  epara_cw_map(&body, 0);
  send_req(0x0C);
  drain();
  CHECK(got.n == 1 && error_code(0) == 110, "type 0x0C: 110");
  begin();
  epara_write_heartbeat(&body, 5);
  send_req(EPARA_T_HEARTBEAT);
  drain();
  CHECK(got.n == 1 && error_code(0) == 114, "HEARTBEAT to a device: 114");
  /* a bad CRC is never answered */
  ping(data, 2);
  size_t fl = epara_frame_seal(fbuf, EPARA_T_PING, 0, srv_seq++, 0, (uint16_t)body.pos);
  fbuf[fl - 1] ^= 0x10;
  size_t en = epara_cobs_encode(fbuf, fl, wbuf, sizeof wbuf - 1);
  wbuf[en++] = 0;
  epara_dev_feed(&dev, wbuf, en, now);
  drain();
  CHECK(got.n == 0, "bad CRC: silence");
  /* BYE ends the session */
  begin();
  epara_write_bye(&body, 0, "bye");
  send_req(EPARA_T_BYE);
  CHECK(epara_dev_state(&dev) == EPARA_ST_CLOSED && last_event(EPARA_EV_BYE) == 0, "BYE obeyed");
}

static void test_heartbeat_rtx_and_loss(void) {
  setup();
  handshake(1, 1);
  now += 1000;
  epara_dev_tick(&dev, now);
  drain();
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_HEARTBEAT && got.h[0].flags == 0, "HEARTBEAT after heartbeatMs");
  uint16_t hb = got.h[0].seq;
  now += 500;
  epara_dev_tick(&dev, now);
  drain();
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_HEARTBEAT && got.h[0].seq == hb && (got.h[0].flags & EPARA_FLAG_RTX), "retransmitted with RTX and the same seq");
  begin();
  epara_cw_map(&body, 1), epara_cw_uint(&body, 0), epara_cw_uint(&body, 20000);
  send_as(EPARA_T_HEARTBEAT_ACK, EPARA_FLAG_RSP, srv_seq++, hb);
  now += 250;
  epara_dev_tick(&dev, now);
  drain();
  CHECK(got.n == 0, "acked: no more retransmissions");
  /* ERROR 205 to a HEARTBEAT: the server forgot the session; the device starts over */
  {
    epara_dev dsave = dev;
    now += 1000;
    epara_dev_tick(&dev, now);
    drain();
    CHECK(got.n >= 1 && got.h[0].type == EPARA_T_HEARTBEAT, "next HEARTBEAT");
    begin();
    epara_write_error(&body, 205, NULL, NULL, NULL);
    send_as(EPARA_T_ERROR, EPARA_FLAG_RSP, srv_seq++, got.h[0].seq);
    CHECK(epara_dev_state(&dev) == EPARA_ST_IDLE && last_event(EPARA_EV_LINK_LOST) == 205 && !dev.have_session, "ERROR 205 to HEARTBEAT: session forgotten");
    dev = dsave; /* carry on with the session for the retry checks below */
    n_events = 0;
  }
  /* unanswered: retries, then the link is lost */
  int lost = -1;
  for (int k = 0; k < 8 && lost < 0; k++) {
    now += 500;
    epara_dev_tick(&dev, now);
    lost = last_event(EPARA_EV_LINK_LOST);
  }
  CHECK(lost == EPARA_E_LINK_TIMEOUT && epara_dev_state(&dev) == EPARA_ST_IDLE, "link lost after the retries");
  drain();
  /* reconnecting within the lease resumes the session */
  epara_dev_start(&dev, now);
  drain();
  epara_item v, b = {got.body[0]};
  size_t n;
  CHECK(got.n == 1 && epara_map_get(b, 8, &v) && epara_item_str(v, &n) && n == 8, "HELLO carries resume");
}

static uint8_t art[300];

static void offer(uint32_t id, const uint8_t sha[32], size_t size) {
  begin();
  epara_cw_map(&body, 8);
  epara_cw_uint(&body, 0), epara_cw_uint(&body, id);
  epara_cw_uint(&body, 1), epara_cw_cstr(&body, "double");
  epara_cw_uint(&body, 2), epara_cw_cstr(&body, id == 1 ? "v1" : "v2");
  epara_cw_uint(&body, 3), epara_cw_uint(&body, 2);
  epara_cw_uint(&body, 4), epara_cw_uint(&body, size);
  epara_cw_uint(&body, 5), epara_cw_bytes(&body, sha, 32);
  epara_cw_uint(&body, 6), epara_cw_uint(&body, 100);
  epara_cw_uint(&body, 7), epara_cw_uint(&body, 0);
  send_req(EPARA_T_DEPLOY_OFFER);
  drain();
}
static uint16_t chunk(uint32_t id, size_t off, size_t n) {
  begin();
  epara_cw_map(&body, 3);
  epara_cw_uint(&body, 0), epara_cw_uint(&body, id);
  epara_cw_uint(&body, 1), epara_cw_uint(&body, off);
  epara_cw_uint(&body, 2), epara_cw_bytes(&body, art + off, n);
  uint16_t s = send_req(EPARA_T_DEPLOY_CHUNK);
  drain();
  return s;
}
static uint64_t field(int k, unsigned key) {
  epara_item v, b = {got.body[k]};
  return epara_map_get(b, key, &v) ? epara_item_arg(v, 0) : 999999;
}
static void commit(uint32_t id) {
  begin();
  epara_cw_map(&body, 1), epara_cw_uint(&body, 0), epara_cw_uint(&body, id);
  send_req(EPARA_T_DEPLOY_COMMIT);
  drain();
}

static void infer(const char *service, uint8_t tag, size_t n) {
  static const uint8_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  begin();
  epara_cw_map(&body, 3);
  epara_cw_uint(&body, 0), epara_cw_uint(&body, 77);
  epara_cw_uint(&body, 1), epara_cw_cstr(&body, service);
  epara_cw_uint(&body, 2), epara_cw_array(&body, 1);
  epara_cw_map(&body, 3), epara_cw_uint(&body, 0), epara_cw_cstr(&body, "x"), epara_cw_uint(&body, 1), epara_cw_array(&body, 1), epara_cw_uint(&body, n);
  epara_cw_uint(&body, 2), epara_cw_head(&body, 6, tag), epara_cw_bytes(&body, x, n);
  send_req(EPARA_T_INFER_REQUEST);
  drain();
}

static void test_deploy_and_infer(void) {
  setup();
  handshake(1, 1);
  for (size_t i = 0; i < sizeof art; i++) art[i] = (uint8_t)(i * 7);
  uint8_t sha[32];
  epara_sha256(art, sizeof art, sha);
  writes = activations = 0;
  offer(1, sha, sizeof art);
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_DEPLOY_ACCEPT && field(0, 1) == 0 && field(0, 2) == 2, "ACCEPT at 0, window 2");
  chunk(1, 0, 100);
  CHECK(got.n == 1 && field(0, 1) == 100, "ack 100");
  chunk(1, 200, 100);
  CHECK(got.n == 1 && field(0, 1) == 100, "chunk ahead dropped, ack repeats 100");
  uint16_t s = chunk(1, 100, 100);
  CHECK(field(0, 1) == 200 && writes == 2, "ack 200");
  /* a retransmitted chunk: answered from the cache, not written again */
  begin();
  epara_cw_map(&body, 3), epara_cw_uint(&body, 0), epara_cw_uint(&body, 1), epara_cw_uint(&body, 1), epara_cw_uint(&body, 100), epara_cw_uint(&body, 2),
      epara_cw_bytes(&body, art + 100, 100);
  send_as(EPARA_T_DEPLOY_CHUNK, EPARA_FLAG_RTX, s, 0);
  drain();
  CHECK(got.n == 1 && field(0, 1) == 200 && writes == 2, "RTX chunk not stored twice");
  /* the link drops; the same offer resumes at the persisted offset */
  epara_dev_link_down(&dev);
  handshake(1, 1);
  offer(1, sha, sizeof art);
  CHECK(got.n == 1 && field(0, 1) == 200, "resumed at 200");
  chunk(1, 200, 100);
  commit(1);
  CHECK(got.n >= 1 && got.h[0].type == EPARA_T_DEPLOY_RESULT && field(0, 1) == 2 && activations == 1, "ready");
  CHECK(last_event(EPARA_EV_DEPLOYED) == 0, "DEPLOYED event");

  infer("double", 64, 4);
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_INFER_RESPONSE && runs == 1, "INFER_RESPONSE");
  epara_item outs, t, data, inner, b = {got.body[0]};
  uint64_t tag;
  size_t n;
  CHECK(epara_map_get(b, 1, &outs) && epara_item_arg(outs, 0) == 1, "one output");
  t = epara_array_at(outs, 0);
  CHECK(epara_map_get(t, 2, &data) && epara_item_tag(data, &tag, &inner) && tag == 64, "uint8 output");
  const uint8_t *y = epara_item_str(inner, &n);
  CHECK(n == 4 && y[0] == 2 && y[3] == 8, "doubled");
  infer("double", 64, 8);
  CHECK(got.n == 1 && error_code(0) == 502 && runs == 1, "8 elements where 4 are due: 502 before the model runs");
  infer("double", 72, 4);
  CHECK(got.n == 1 && error_code(0) == 502, "int8 where uint8 is due: 502");
  infer("nope", 64, 4);
  CHECK(got.n == 1 && error_code(0) == 500, "unknown service: 500");

  /* STATE: served since the last STATE, then 0 */
  now += 3000;
  epara_dev_tick(&dev, now);
  drain();
  int k = 0;
  while (k < got.n && got.h[k].type != EPARA_T_STATE) k++;
  CHECK(k < got.n, "STATE on its period");
  epara_item svcs, sv, served, sb = {got.body[k < got.n ? k : 0]};
  CHECK(epara_map_get(sb, 3, &svcs) && epara_item_arg(svcs, 0) == 1, "one service");
  sv = epara_array_at(svcs, 0);
  CHECK(epara_map_get(sv, 4, &served) && epara_item_arg(served, 0) == 1, "served 1");
  now += 3000;
  epara_dev_tick(&dev, now);
  drain();
  k = 0;
  while (k < got.n && got.h[k].type != EPARA_T_STATE) k++;
  epara_item sb2 = {got.body[k < got.n ? k : 0]};
  CHECK(k < got.n && epara_map_get(sb2, 3, &svcs) && epara_map_get(epara_array_at(svcs, 0), 4, &served) && epara_item_arg(served, 0) == 0, "then 0");

  /* a bad hash: failed 400, v1 keeps serving */
  uint8_t bad[32];
  memcpy(bad, sha, 32);
  bad[0] ^= 0xFF;
  offer(2, bad, sizeof art);
  CHECK(field(0, 1) == 0, "fresh offer at 0");
  chunk(2, 0, 100), chunk(2, 100, 100), chunk(2, 200, 100);
  commit(2);
  CHECK(got.n >= 1 && got.h[0].type == EPARA_T_DEPLOY_RESULT && field(0, 1) == 3 && field(0, 2) == 400, "failed 400");
  infer("double", 64, 4);
  CHECK(got.n == 1 && got.h[0].type == EPARA_T_INFER_RESPONSE, "v1 still serves");
  /* a chunk for an unknown deployment */
  chunk(9, 0, 10);
  CHECK(got.n == 1 && error_code(0) == 406, "unknown deployment: 406");
}

void test_device(void) {
  test_handshake_and_refusals();
  test_ping_cache_and_errors();
  test_heartbeat_rtx_and_loss();
  test_deploy_and_infer();
}
