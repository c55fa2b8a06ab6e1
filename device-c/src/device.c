/*
 * The device's link and session core: receive pipeline (COBS -> frame -> message checks ->
 * dispatch), the response cache that answers retransmitted requests without running them twice,
 * our own requests with RTX retransmission, and the timers. Message families live in their own
 * files (handshake.c, deploy.c, infer.c, state.c).
 */
#include "device_internal.h"
#include "hmac.h"

size_t epara__strlen(const char *s) {
  size_t n = 0;
  while (s && s[n]) n++;
  return n;
}

void epara__copy(uint8_t *dst, const uint8_t *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

uint64_t epara__get_uint(epara_item map, unsigned key, uint64_t dflt) {
  epara_item v;
  if (!epara_map_get(map, key, &v) || epara_item_major(v) != 0) return dflt;
  return epara_item_arg(v, 0);
}

int epara__get_text(epara_item map, unsigned key, char *dst, size_t cap) {
  epara_item v;
  dst[0] = 0;
  if (!epara_map_get(map, key, &v) || epara_item_major(v) != 3) return 0;
  size_t n;
  const uint8_t *p = epara_item_str(v, &n);
  if (n + 1 > cap) return 0;
  epara__copy((uint8_t *)dst, p, n);
  dst[n] = 0;
  return 1;
}

const uint8_t *epara__get_bytes(epara_item map, unsigned key, size_t *len) {
  epara_item v;
  if (!epara_map_get(map, key, &v) || epara_item_major(v) != 2) return 0;
  return epara_item_str(v, len);
}

void epara__event(epara_dev *d, epara_event ev, int code) {
  if (d->cfg.event) d->cfg.event(d->cfg.user, ev, code);
}

/* ---- transmit ------------------------------------------------------------------------------ */

static void flush_out(epara_dev *d) {
  if (d->out_len) d->cfg.write(d->cfg.user, d->out, d->out_len);
  d->out_len = 0;
}

static void out_sink(void *ctx, const uint8_t *b, size_t n) {
  epara_dev *d = (epara_dev *)ctx;
  while (n) {
    size_t room = sizeof d->out - d->out_len;
    size_t k = n < room ? n : room;
    epara__copy(d->out + d->out_len, b, k);
    d->out_len = (uint8_t)(d->out_len + k);
    b += k;
    n -= k;
    if (d->out_len == sizeof d->out) flush_out(d);
  }
}

/* COBS-encode an unencoded frame onto the link, with its delimiter. */
static void put_frame(epara_dev *d, const uint8_t *frame, size_t n) {
  static const uint8_t zero = 0;
  epara_cobs_encode_to(frame, n, out_sink, d);
  out_sink(d, &zero, 1);
  flush_out(d);
}

static size_t body_cap(const epara_dev *d) { return (size_t)d->max_frame - EPARA_MIN_FRAME; }

/* Seal the body written into buf + 9 and send it. Returns the frame length, 0 if it did not fit. */
static size_t seal_send(epara_dev *d, uint8_t *buf, epara_cw *w, uint8_t type, uint8_t flags, uint16_t corr) {
  if (w->overflow) return 0;
  size_t n = epara_frame_seal(buf, type, flags, d->tx_seq++, corr, (uint16_t)w->pos);
  put_frame(d, buf, n);
  return n;
}

static uint8_t *slot_buf(epara_dev *d, unsigned i) { return d->cache + (size_t)i * d->cfg.max_frame; }

void epara__rsp_begin(epara_dev *d, epara_cw *w) {
  epara_cw_init(w, slot_buf(d, d->next_slot) + EPARA_HEADER_SIZE, body_cap(d));
}

void epara__respond(epara_dev *d, const epara_req *r, uint8_t type, epara_cw *w) {
  if (w->overflow) {
    /* The answer does not fit the negotiated frame: say so instead of staying silent. */
    epara__respond_error(d, r, EPARA_E_FRAME_OVERSIZE, "the response does not fit in maxFrame", 0);
    return;
  }
  unsigned i = d->next_slot;
  size_t n = seal_send(d, slot_buf(d, i), w, type, EPARA_FLAG_RSP, r->h->seq);
  epara_cache_slot *s = &d->slots[i];
  s->used = 1;
  s->req_seq = r->h->seq;
  s->req_type = r->h->type;
  s->len = (uint16_t)n;
  d->next_slot = (uint8_t)((i + 1) % d->n_slots);
}

void epara__respond_error(epara_dev *d, const epara_req *r, uint16_t code, const char *reason, const char *field) {
  epara_cw w;
  epara__rsp_begin(d, &w);
  epara_write_error(&w, code, reason, 0, field);
  epara__respond(d, r, EPARA_T_ERROR, &w);
}

void epara__ntf_begin(epara_dev *d, epara_cw *w) { epara_cw_init(w, d->ntf + EPARA_HEADER_SIZE, body_cap(d)); }

void epara__notify(epara_dev *d, uint8_t type, epara_cw *w) { (void)seal_send(d, d->ntf, w, type, 0, 0); }

void epara__req_begin(epara_dev *d, epara_cw *w) { epara_cw_init(w, d->pend + EPARA_HEADER_SIZE, body_cap(d)); }

void epara__request(epara_dev *d, uint8_t type, epara_cw *w) {
  d->pend_seq = d->tx_seq;
  size_t n = seal_send(d, d->pend, w, type, 0, 0);
  if (!n) return;
  d->pend_active = 1;
  d->pend_type = type;
  d->pend_len = (uint16_t)n;
  d->pend_attempts = 1;
  d->pend_due = d->now + d->cfg.request_timeout_ms;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

int epara_dev_init(epara_dev *d, const epara_config *cfg, uint8_t *mem, size_t mem_len) {
  uint8_t *p = (uint8_t *)d;
  for (size_t i = 0; i < sizeof *d; i++) p[i] = 0;
  if (!cfg || !cfg->write || !cfg->random || !cfg->device_id || !cfg->key || !cfg->firmware) return EPARA_E_INTERNAL;
  if (cfg->max_frame < 64 || cfg->rx_window < 1 || cfg->rx_window > EPARA_MAX_WINDOW) return EPARA_E_INTERNAL;
  if (!mem || mem_len < EPARA_DEV_MEM(cfg->max_frame, cfg->rx_window)) return EPARA_E_INTERNAL;
  d->cfg = *cfg;
  if (!d->cfg.request_timeout_ms) d->cfg.request_timeout_ms = 2000;
  if (!d->cfg.retries) d->cfg.retries = 3;
  if (!d->cfg.key_len) d->cfg.key_len = EPARA_KEY_LEN;
  if (d->cfg.key_len < 16 || d->cfg.key_len > 64) return EPARA_E_INTERNAL;
  d->rx = mem;
  d->pend = mem + cfg->max_frame;
  d->ntf = mem + 2 * (size_t)cfg->max_frame;
  d->cache = mem + 3 * (size_t)cfg->max_frame;
  d->n_slots = cfg->rx_window;
  d->state = EPARA_ST_IDLE;
  return 0;
}

epara_state epara_dev_state(const epara_dev *d) { return d->state; }

void epara_dev_link_down(epara_dev *d) {
  d->pend_active = 0;
  for (unsigned i = 0; i < EPARA_MAX_WINDOW; i++) d->slots[i].used = 0;
  if (d->state != EPARA_ST_CLOSED) d->state = EPARA_ST_IDLE;
}

void epara_dev_start(epara_dev *d, uint32_t now_ms) {
  static const uint8_t zero = 0;
  d->now = now_ms;
  if (!d->boot) d->boot = now_ms | 1u; /* uptime origin; never 0 so "unset" stays distinct */
  if (d->have_session && (uint32_t)(now_ms - d->last_heard) > d->lease_ms) {
    d->have_session = 0; /* the server has let it go (SPEC §7.2): do not try to resume it */
    epara__event(d, EPARA_EV_SESSION_GONE, 0);
  }
  epara_dev_link_down(d);
  /* Until CHALLENGE every peer handles 512-byte frames; we announce our own limit. */
  d->max_frame = d->cfg.max_frame;
  epara_cobs_dec_init(&d->dec, d->rx, d->max_frame);
  d->cfg.write(d->cfg.user, &zero, 1); /* flush the receiver's partial garbage (SPEC §3) */
  epara__send_hello(d);
}

void epara_dev_close(epara_dev *d, uint16_t code, const char *reason) {
  if (d->state == EPARA_ST_READY) {
    epara_cw w;
    epara__ntf_begin(d, &w);
    epara_write_bye(&w, code, reason);
    epara__notify(d, EPARA_T_BYE, &w);
  }
  d->pend_active = 0;
  d->have_session = 0; /* a BYE ends the session: no lease, nothing to resume */
  d->state = EPARA_ST_CLOSED;
}

int epara_dev_add_service(epara_dev *d, const char *name, const char *version, uint8_t status) {
  epara_service *s = epara__service(d, name, epara__strlen(name), 1);
  size_t vn = epara__strlen(version);
  if (!s || vn > EPARA_VERSION_MAX) return EPARA_E_INTERNAL;
  epara__copy((uint8_t *)s->version, (const uint8_t *)version, vn + 1);
  s->status = status;
  return 0;
}

/* ---- receive ------------------------------------------------------------------------------- */

/*
 * Whether a rejected frame gets an ERROR: only when the CRC held (its header is trustworthy),
 * RSP is clear and it is a request or of an unknown type; never a response or a notification,
 * which could loop (SPEC §5). A frame whose version byte is not 1 is not answered: its layout
 * cannot be known (SPEC §8 rule 6).
 */
static int answerable(const epara_rx *rx) {
  if (!rx->header_ok || rx->code == EPARA_E_FRAME_VERSION) return 0;
  if (rx->h.flags & EPARA_FLAG_RSP) return 0;
  return epara_is_request_type(rx->h.type) || !epara_schema_for(rx->h.type);
}

static int resend_cached(epara_dev *d, const epara_header *h) {
  for (unsigned i = 0; i < d->n_slots; i++) {
    epara_cache_slot *s = &d->slots[i];
    if (s->used && s->req_seq == h->seq && s->req_type == h->type) {
      put_frame(d, slot_buf(d, i), s->len);
      return 1;
    }
  }
  return 0;
}

static void on_response(epara_dev *d, const epara_rx *rx) {
  if (!d->pend_active || rx->h.corr != d->pend_seq) return; /* late or unknown: ignore */
  epara_item body = {rx->body};
  uint8_t asked = d->pend_type;
  d->pend_active = 0;
  if (rx->h.type == EPARA_T_ERROR) {
    int code = (int)epara__get_uint(body, 0, EPARA_E_INTERNAL);
    if (asked == EPARA_T_HELLO || asked == EPARA_T_AUTH) {
      /* The handshake was refused (unknown device, bad MAC, version...): the server closes. */
      d->state = EPARA_ST_CLOSED;
      epara__event(d, EPARA_EV_REFUSED, code);
    } else if (code == EPARA_E_AUTH_NOT_AUTHENTICATED) {
      /* The server no longer knows this session (it restarted): start a new one on a new link. */
      d->have_session = 0;
      d->state = EPARA_ST_IDLE;
      epara__event(d, EPARA_EV_LINK_LOST, code);
    }
    return;
  }
  if (asked == EPARA_T_HELLO && rx->h.type == EPARA_T_CHALLENGE && d->state == EPARA_ST_HELLO) epara__on_challenge(d, body);
  else if (asked == EPARA_T_AUTH && rx->h.type == EPARA_T_WELCOME && d->state == EPARA_ST_AUTH) epara__on_welcome(d, body);
  else if (asked == EPARA_T_HEARTBEAT && rx->h.type == EPARA_T_HEARTBEAT_ACK) {
    uint64_t lease = epara__get_uint(body, 0, d->lease_ms);
    d->lease_ms = (uint32_t)lease;
  }
}

static void on_request(epara_dev *d, const epara_rx *rx) {
  epara_req r = {&rx->h, {rx->body}};
  if (resend_cached(d, &rx->h)) return; /* a retransmission we already answered: same bytes */
  if (d->state != EPARA_ST_READY) {
    epara__respond_error(d, &r, EPARA_E_AUTH_NOT_AUTHENTICATED, 0, 0);
    return;
  }
  switch (rx->h.type) {
  case EPARA_T_PING: {
    size_t n = 0;
    const uint8_t *data = epara__get_bytes(r.body, 0, &n);
    epara_cw w;
    epara__rsp_begin(d, &w);
    epara_write_pong(&w, data, n, data != 0);
    epara__respond(d, &r, EPARA_T_PONG, &w);
    return;
  }
  case EPARA_T_PLACEMENT: epara__on_placement(d, &r); return;
  case EPARA_T_DEPLOY_OFFER: epara__on_deploy_offer(d, &r); return;
  case EPARA_T_DEPLOY_CHUNK: epara__on_deploy_chunk(d, &r); return;
  case EPARA_T_DEPLOY_COMMIT: epara__on_deploy_commit(d, &r); return;
  case EPARA_T_INFER_REQUEST: epara__on_infer(d, &r); return;
  default:
    /* HELLO, AUTH, HEARTBEAT: requests a device never receives (SPEC §5 dir column). */
    epara__respond_error(d, &r, EPARA_E_MSG_UNEXPECTED, "this request is sent by devices, not to them", 0);
    return;
  }
}

static void on_notification(epara_dev *d, const epara_rx *rx) {
  epara_item body = {rx->body};
  if (rx->h.type == EPARA_T_BYE) {
    int code = (int)epara__get_uint(body, 0, 0);
    d->pend_active = 0;
    d->have_session = 0;
    d->state = EPARA_ST_CLOSED;
    epara__event(d, EPARA_EV_BYE, code);
  }
  /* INFER_CANCEL: inference runs to completion inside the INFER_REQUEST call, so nothing is
   * ever queued or running when a cancel arrives; the request has been answered already.
   * ERROR notifications and the rest are only counted. */
}

static void on_frame(epara_dev *d, size_t n) {
  epara_rx rx;
  epara_message_decode(d->rx, n, d->max_frame, &rx);
  if (rx.code) {
    if (rx.code == EPARA_E_FRAME_CRC) d->frames_bad_crc++;
    if (rx.code == EPARA_E_FRAME_OVERSIZE) d->frames_oversize++;
    epara__event(d, EPARA_EV_BAD_FRAME, rx.code);
    if (answerable(&rx)) {
      /* The header is trustworthy: answer once, and from the cache if it is a retransmission. */
      if (resend_cached(d, &rx.h)) return;
      epara_req r = {&rx.h, {0}};
      epara__respond_error(d, &r, (uint16_t)rx.code, 0, rx.field);
    }
    return;
  }
  d->frames_good++;
  d->last_heard = d->now;
  if (d->state == EPARA_ST_CLOSED || d->state == EPARA_ST_IDLE) return;
  if (rx.h.flags & EPARA_FLAG_RSP) on_response(d, &rx);
  else if (epara_is_request_type(rx.h.type)) on_request(d, &rx);
  else on_notification(d, &rx);
}

void epara_dev_feed(epara_dev *d, const uint8_t *bytes, size_t n, uint32_t now_ms) {
  d->now = now_ms;
  for (size_t i = 0; i < n; i++) {
    switch (epara_cobs_dec_byte(&d->dec, bytes[i])) {
    case EPARA_COBS_FRAME: on_frame(d, d->dec.len); break;
    case EPARA_COBS_BAD: epara__event(d, EPARA_EV_BAD_FRAME, EPARA_E_FRAME_COBS); break;
    case EPARA_COBS_TOO_LONG:
    case EPARA_COBS_DISCARDING:
      d->frames_oversize++;
      epara__event(d, EPARA_EV_BAD_FRAME, EPARA_E_FRAME_OVERSIZE);
      break;
    default: break;
    }
  }
}

/* ---- timers -------------------------------------------------------------------------------- */

static int due(uint32_t now, uint32_t at) { return (int32_t)(now - at) >= 0; }

void epara_dev_tick(epara_dev *d, uint32_t now_ms) {
  d->now = now_ms;
  if (d->pend_active && due(now_ms, d->pend_due)) {
    if (d->pend_attempts > d->cfg.retries) {
      /* No answer after every retry: the link is gone (SPEC §7.2). */
      d->pend_active = 0;
      d->state = EPARA_ST_IDLE;
      epara__event(d, EPARA_EV_LINK_LOST, EPARA_E_LINK_TIMEOUT);
      return;
    }
    /* Same seq, RTX set; the CRC covers the flags, so the frame is sealed again. */
    d->pend[2] |= EPARA_FLAG_RTX;
    uint16_t len = (uint16_t)(((uint16_t)d->pend[7] << 8) | d->pend[8]);
    uint8_t flags = d->pend[2];
    (void)epara_frame_seal(d->pend, d->pend[1], flags, d->pend_seq, 0, len);
    put_frame(d, d->pend, d->pend_len);
    d->pend_attempts++;
    d->pend_due = now_ms + d->cfg.request_timeout_ms;
  }
  if (d->state != EPARA_ST_READY) return;
  if (d->heartbeat_ms && due(now_ms, d->next_heartbeat)) {
    d->next_heartbeat = now_ms + d->heartbeat_ms;
    if (!d->pend_active) {
      epara_cw w;
      epara__req_begin(d, &w);
      epara_write_heartbeat(&w, (uint32_t)(now_ms - d->boot));
      epara__request(d, EPARA_T_HEARTBEAT, &w);
    }
  }
  if (d->state_ms && due(now_ms, d->next_state)) epara__send_state(d);
}
