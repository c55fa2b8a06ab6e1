/* STATE reports (SPEC §5.8): per-service counters are "since the last STATE" and reset on send. */
#include "device_internal.h"

epara_service *epara__service(epara_dev *d, const char *name, size_t n, int create) {
  if (n > EPARA_SERVICE_MAX) return 0;
  epara_service *free_slot = 0;
  for (unsigned i = 0; i < EPARA_MAX_SERVICES; i++) {
    epara_service *s = &d->services[i];
    if (!s->used) {
      if (!free_slot) free_slot = s;
      continue;
    }
    if (epara__strlen(s->name) == n) {
      size_t k = 0;
      while (k < n && s->name[k] == name[k]) k++;
      if (k == n) return s;
    }
  }
  if (!create || !free_slot) return 0;
  epara__copy((uint8_t *)free_slot->name, (const uint8_t *)name, n);
  free_slot->name[n] = 0;
  free_slot->version[0] = 0;
  free_slot->used = 1;
  free_slot->status = 0;
  free_slot->served = free_slot->violations = 0;
  return free_slot;
}

void epara__send_state(epara_dev *d) {
  epara_service_state list[EPARA_MAX_SERVICES];
  size_t n = 0;
  for (unsigned i = 0; i < EPARA_MAX_SERVICES; i++) {
    epara_service *s = &d->services[i];
    if (!s->used) continue;
    epara_service_state *v = &list[n++];
    v->name = s->name;
    v->version = s->version;
    v->status = s->status;
    v->queue_len = 0; /* requests run to completion inside the call: nothing ever queues */
    v->served = s->served;
    v->violations = s->violations;
    v->has_batch = 0;
    v->batch = 0;
  }
  epara_load load = {0, d->cfg.memory_kib};
  if (d->cfg.load) d->cfg.load(d->cfg.user, &load);
  epara_state_report r = {0};
  r.load_permille = load.load_permille > 1000 ? 1000 : load.load_permille;
  r.mem_free_kib = load.mem_free_kib;
  r.services = list;
  r.n_services = n;
  r.has_frames = 1;
  r.good = d->frames_good;
  r.bad_crc = d->frames_bad_crc;
  r.oversize = d->frames_oversize;
  r.uptime_ms = (uint32_t)(d->now - d->boot);
  epara_cw w;
  epara__ntf_begin(d, &w);
  epara_write_state(&w, &r);
  epara__notify(d, EPARA_T_STATE, &w);
  if (!w.overflow) {
    for (unsigned i = 0; i < EPARA_MAX_SERVICES; i++) d->services[i].served = d->services[i].violations = 0;
  }
  d->next_state = d->now + d->state_ms;
}
