/*
 * DEPLOY_OFFER / CHUNK / COMMIT (SPEC §5.11, §7.5): go-back-N from the device's side. Only the
 * chunk at nextOffset is stored; anything else is dropped and answered with the current
 * nextOffset, so a lost or duplicated chunk costs a resend, never corrupt data. The storage
 * callbacks persist data and offset, so an offer of the same id and hash after a reconnect or a
 * reboot resumes where it stopped.
 */
#include "device_internal.h"
#include "sha256.h"

static void accept(epara_dev *d, const epara_req *r) {
  epara_cw w;
  epara__rsp_begin(d, &w);
  epara_write_deploy_accept(&w, d->offer.deployment_id, d->next_offset, d->cfg.rx_window);
  epara__respond(d, r, EPARA_T_DEPLOY_ACCEPT, &w);
}

void epara__on_deploy_offer(epara_dev *d, const epara_req *r) {
  const epara_storage *st = d->cfg.storage;
  epara_offer o;
  size_t n = 0;
  const uint8_t *sha;
  for (size_t i = 0; i < sizeof o; i++) ((uint8_t *)&o)[i] = 0;
  o.deployment_id = (uint32_t)epara__get_uint(r->body, 0, 0);
  o.kind = (uint8_t)epara__get_uint(r->body, 3, 0);
  o.size = epara__get_uint(r->body, 4, 0);
  o.chunk_size = (uint32_t)epara__get_uint(r->body, 6, 0);
  o.category = (uint8_t)epara__get_uint(r->body, 7, 0);
  sha = epara__get_bytes(r->body, 5, &n);
  epara__copy(o.sha256, sha, 32);
  if (!st) {
    epara__respond_error(d, r, EPARA_E_DEPLOY_UNSUPPORTED_KIND, "this device has no artifact storage", "kind");
    return;
  }
  if (!epara__get_text(r->body, 1, o.service, sizeof o.service) || !epara__get_text(r->body, 2, o.version, sizeof o.version)) {
    /* unreachable after the schema check (service 1..64, version 0..32 bytes), kept as a guard */
    epara__respond_error(d, r, EPARA_E_MSG_SCHEMA, "service or version name too long", "service");
    return;
  }
  uint64_t next = 0;
  int e = st->begin(d->cfg.user, &o, &next);
  if (e) {
    epara__respond_error(d, r, (uint16_t)e, 0, 0);
    return;
  }
  if (next > o.size) next = 0; /* a stale persisted offset cannot be past the end */
  d->offer = o;
  d->offer_active = 1;
  d->offer_ready = 0;
  d->next_offset = next;
  accept(d, r);
}

static int known(epara_dev *d, const epara_req *r) {
  uint32_t id = (uint32_t)epara__get_uint(r->body, 0, 0);
  if (d->offer_active && d->offer.deployment_id == id) return 1;
  epara__respond_error(d, r, EPARA_E_DEPLOY_UNKNOWN, "no transfer in progress for this deploymentId: send DEPLOY_OFFER first", "deploymentId");
  return 0;
}

void epara__on_deploy_chunk(epara_dev *d, const epara_req *r) {
  if (!known(d, r)) return;
  uint64_t offset = epara__get_uint(r->body, 1, 0);
  size_t n = 0;
  const uint8_t *data = epara__get_bytes(r->body, 2, &n);
  if (offset == d->next_offset && n > 0 && !d->offer_ready) {
    if (n > d->offer.size - d->next_offset) {
      epara__respond_error(d, r, EPARA_E_DEPLOY_TOO_LARGE, "chunk runs past the size in DEPLOY_OFFER", "data");
      return;
    }
    int e = d->cfg.storage->write(d->cfg.user, &d->offer, offset, data, n);
    if (e) {
      epara__respond_error(d, r, (uint16_t)e, 0, 0);
      return;
    }
    d->next_offset += n;
  }
  epara_cw w;
  epara__rsp_begin(d, &w);
  epara_write_chunk_ack(&w, d->offer.deployment_id, d->next_offset);
  epara__respond(d, r, EPARA_T_DEPLOY_CHUNK_ACK, &w);
}

/* SHA-256 of the stored artifact, read back through the storage callback in small pieces. */
static int verify(epara_dev *d) {
  epara_sha256_ctx s;
  uint8_t piece[64], digest[32];
  epara_sha256_init(&s);
  for (uint64_t at = 0; at < d->offer.size;) {
    size_t k = d->offer.size - at < sizeof piece ? (size_t)(d->offer.size - at) : sizeof piece;
    if (d->cfg.storage->read(d->cfg.user, &d->offer, at, piece, k) != 0) return EPARA_E_DEPLOY_HASH_MISMATCH;
    epara_sha256_update(&s, piece, k);
    at += k;
  }
  epara_sha256_final(&s, digest);
  for (unsigned i = 0; i < 32; i++)
    if (digest[i] != d->offer.sha256[i]) return EPARA_E_DEPLOY_HASH_MISMATCH;
  return 0;
}

static void result(epara_dev *d, const epara_req *r, uint8_t state, int code, const char *active) {
  epara_cw w;
  epara__rsp_begin(d, &w);
  epara_write_deploy_result(&w, d->offer.deployment_id, state, code, active);
  epara__respond(d, r, EPARA_T_DEPLOY_RESULT, &w);
}

enum { VERIFYING = 0, LOADING = 1, READY = 2, FAILED = 3, ROLLED_BACK = 4 };

void epara__on_deploy_commit(epara_dev *d, const epara_req *r) {
  if (!known(d, r)) return;
  const epara_offer *o = &d->offer;
  if (d->offer_ready) {
    /* COMMIT again after a reconnect: report where it is, do not load it twice. */
    result(d, r, READY, -1, o->version);
    return;
  }
  epara_service *svc = epara__service(d, o->service, epara__strlen(o->service), 0);
  int was_ready = svc && svc->status == 1;
  int e = d->next_offset == o->size ? verify(d) : EPARA_E_DEPLOY_OFFSET;
  if (e == EPARA_E_DEPLOY_HASH_MISMATCH) {
    d->cfg.storage->discard(d->cfg.user, o); /* the next offer starts again at 0 */
    d->offer_active = 0;
  }
  int verified = !e;
  if (!e) e = d->cfg.storage->activate(d->cfg.user, o);
  if (!e) {
    svc = epara__service(d, o->service, epara__strlen(o->service), 1);
    if (!svc) e = EPARA_E_DEPLOY_NO_SPACE; /* every service slot is taken */
  }
  if (e) {
    if (was_ready && verified) {
      /* It loaded but failed: the previous version never stopped serving (rolled-back, SPEC §7.5). */
      result(d, r, ROLLED_BACK, e, svc->version);
    } else if (was_ready) {
      /* A bad hash is `failed`; the previous version keeps serving and says which it is. */
      result(d, r, FAILED, e, svc->version);
    } else {
      if (svc) svc->status = 2;
      result(d, r, FAILED, e, 0);
    }
    epara__event(d, EPARA_EV_DEPLOYED, e);
    return;
  }
  epara__copy((uint8_t *)svc->version, (const uint8_t *)o->version, epara__strlen(o->version) + 1);
  svc->status = 1;
  d->offer_ready = 1;
  result(d, r, READY, -1, o->version);
  epara__event(d, EPARA_EV_DEPLOYED, 0);
  epara__send_state(d); /* the server routes to the new version as soon as it hears of it */
}
