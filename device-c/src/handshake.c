/*
 * HELLO / CHALLENGE / AUTH / WELCOME (SPEC §7.1) with mutual authentication: our AUTH MAC proves
 * we hold the key, and WELCOME's serverMac is checked in constant time before anything else is
 * sent, so an impostor server learns nothing and gets only BYE 208.
 */
#include "device_internal.h"
#include "hmac.h"


static const char AUTH_LABEL[] = "epara-auth-v1"; /* 13 bytes, no NUL on the wire */
static const char SRV_LABEL[] = "epara-srv-v1";   /* 12 bytes */

void epara__send_hello(epara_dev *d) {
  const epara_config *c = &d->cfg;
  epara_hello h = {0};
  h.device_id = c->device_id;
  h.device_class = c->device_class;
  h.proto_min = EPARA_PROTOCOL_MIN;
  h.proto_max = EPARA_PROTOCOL_MAX;
  h.firmware = c->firmware;
  h.cpu_cores = c->cpu_cores;
  h.memory_kib = c->memory_kib;
  h.compute_mops = c->compute_mops;
  h.runtimes = c->runtimes, h.n_runtimes = c->n_runtimes;
  h.formats = c->formats, h.n_formats = c->n_formats;
  h.transports = c->transports, h.n_transports = c->n_transports;
  h.max_frame = c->max_frame;
  h.rx_window = c->rx_window;
  h.keepalive_ms = c->keepalive_ms;
  h.resume = d->have_session ? d->session_id : 0;
  epara_cw w;
  epara__req_begin(d, &w);
  epara_write_hello(&w, &h);
  epara__request(d, EPARA_T_HELLO, &w);
  d->state = EPARA_ST_HELLO;
}

static void bye_and_close(epara_dev *d, uint16_t code, epara_event ev) {
  epara_cw w;
  epara__ntf_begin(d, &w);
  epara_write_bye(&w, code, epara_err_reason(code));
  epara__notify(d, EPARA_T_BYE, &w);
  d->pend_active = 0;
  d->state = EPARA_ST_CLOSED;
  epara__event(d, ev, code);
}

static void mac(const epara_dev *d, const char *label, size_t label_len, const uint8_t *first, const uint8_t *second, uint8_t out[32]) {
  epara_hmac_ctx m;
  epara_hmac_init(&m, d->cfg.key, d->cfg.key_len);
  epara_hmac_update(&m, (const uint8_t *)label, label_len);
  epara_hmac_update(&m, first, EPARA_NONCE_LEN);
  epara_hmac_update(&m, second, EPARA_NONCE_LEN);
  epara_hmac_update(&m, (const uint8_t *)d->cfg.device_id, epara__strlen(d->cfg.device_id));
  epara_hmac_final(&m, out);
}

void epara__on_challenge(epara_dev *d, epara_item body) {
  size_t n = 0;
  const uint8_t *nonce = epara__get_bytes(body, 0, &n);
  uint64_t version = epara__get_uint(body, 1, 0);
  if (version < EPARA_PROTOCOL_MIN || version > EPARA_PROTOCOL_MAX) {
    bye_and_close(d, version < EPARA_PROTOCOL_MIN ? EPARA_E_PROTO_VERSION_TOO_OLD : EPARA_E_PROTO_VERSION_TOO_NEW, EPARA_EV_VERSION);
    return;
  }
  /* The negotiated limits apply to every frame after CHALLENGE, both ways (SPEC §7.1). */
  uint64_t mf = epara__get_uint(body, 2, d->cfg.max_frame);
  if (mf < d->max_frame) {
    d->max_frame = (uint16_t)mf;
    d->dec.cap = mf;
    d->dec.limit = epara_cobs_piece_limit(mf);
  }
  d->heartbeat_ms = (uint32_t)epara__get_uint(body, 4, 5000);
  epara__copy(d->server_nonce, nonce, EPARA_NONCE_LEN);
  if (d->cfg.random(d->cfg.user, d->device_nonce, EPARA_NONCE_LEN) != 0) {
    bye_and_close(d, EPARA_E_INTERNAL, EPARA_EV_REFUSED); /* no entropy: never reuse a nonce */
    return;
  }
  uint8_t m[32];
  mac(d, AUTH_LABEL, sizeof AUTH_LABEL - 1, d->server_nonce, d->device_nonce, m);
  epara_cw w;
  epara__req_begin(d, &w);
  epara_write_auth(&w, d->server_nonce, d->device_nonce, m);
  epara__request(d, EPARA_T_AUTH, &w);
  d->state = EPARA_ST_AUTH;
}

void epara__on_welcome(epara_dev *d, epara_item body) {
  size_t n = 0;
  const uint8_t *server_mac = epara__get_bytes(body, 4, &n);
  uint8_t want[32];
  mac(d, SRV_LABEL, sizeof SRV_LABEL - 1, d->device_nonce, d->server_nonce, want);
  if (!epara_ct_equal(want, server_mac, 32)) {
    bye_and_close(d, EPARA_E_AUTH_SERVER_MAC, EPARA_EV_SERVER_MAC);
    return;
  }
  size_t sn = 0;
  const uint8_t *sid = epara__get_bytes(body, 0, &sn);
  epara__copy(d->session_id, sid, EPARA_SESSION_ID_LEN);
  d->have_session = 1;
  d->lease_ms = (uint32_t)epara__get_uint(body, 1, 15000);
  d->heartbeat_ms = (uint32_t)epara__get_uint(body, 2, d->heartbeat_ms);
  d->state_ms = (uint32_t)epara__get_uint(body, 3, 3000);
  epara_item v;
  int resumed = epara_map_get(body, 5, &v) && epara_item_bool(v);
  d->state = EPARA_ST_READY;
  d->next_heartbeat = d->now + d->heartbeat_ms;
  /* A new session must report STATE at once so the server relearns our services (SPEC §7.3). */
  epara__send_state(d);
  epara__event(d, EPARA_EV_READY, resumed);
}
