#include "encode.h"
#include "error_codes.h"

static void text_list(epara_cw *w, const char *const *list, uint8_t n) {
  epara_cw_array(w, n);
  for (uint8_t i = 0; i < n; i++) epara_cw_cstr(w, list[i]);
}

void epara_write_hello(epara_cw *w, const epara_hello *h) {
  size_t at = epara_cw_map_begin(w);
  unsigned n = 0;
  epara_cw_uint(w, 0), epara_cw_cstr(w, h->device_id), n++;
  epara_cw_uint(w, 1), epara_cw_uint(w, h->device_class), n++;
  epara_cw_uint(w, 2), epara_cw_array(w, 2), epara_cw_uint(w, h->proto_min), epara_cw_uint(w, h->proto_max), n++;
  epara_cw_uint(w, 3), epara_cw_cstr(w, h->firmware), n++;
  epara_cw_uint(w, 4), n++;
  {
    size_t cat = epara_cw_map_begin(w);
    unsigned cn = 0;
    epara_cw_uint(w, 0), epara_cw_uint(w, h->cpu_cores), cn++;
    epara_cw_uint(w, 1), epara_cw_uint(w, h->memory_kib), cn++;
    if (h->gpu_count) epara_cw_uint(w, 2), epara_cw_uint(w, h->gpu_count), cn++;
    if (h->gpu_memory_kib) epara_cw_uint(w, 3), epara_cw_uint(w, h->gpu_memory_kib), cn++;
    if (h->n_accelerators) epara_cw_uint(w, 4), text_list(w, h->accelerators, h->n_accelerators), cn++;
    epara_cw_uint(w, 5), epara_cw_uint(w, h->compute_mops), cn++;
    if (h->n_runtimes) epara_cw_uint(w, 6), text_list(w, h->runtimes, h->n_runtimes), cn++;
    if (h->n_formats) epara_cw_uint(w, 7), text_list(w, h->formats, h->n_formats), cn++;
    if (h->n_transports) epara_cw_uint(w, 8), text_list(w, h->transports, h->n_transports), cn++;
    epara_cw_map_end(w, cat, cn);
  }
  epara_cw_uint(w, 5), epara_cw_uint(w, h->max_frame), n++;
  epara_cw_uint(w, 6), epara_cw_uint(w, h->rx_window), n++;
  if (h->keepalive_ms) epara_cw_uint(w, 7), epara_cw_uint(w, h->keepalive_ms), n++;
  if (h->resume) epara_cw_uint(w, 8), epara_cw_bytes(w, h->resume, 8), n++;
  epara_cw_map_end(w, at, n);
}

void epara_write_auth(epara_cw *w, const uint8_t sn[16], const uint8_t dn[16], const uint8_t mac[32]) {
  epara_cw_map(w, 3);
  epara_cw_uint(w, 0), epara_cw_bytes(w, sn, 16);
  epara_cw_uint(w, 1), epara_cw_bytes(w, dn, 16);
  epara_cw_uint(w, 2), epara_cw_bytes(w, mac, 32);
}

void epara_write_heartbeat(epara_cw *w, uint64_t uptime_ms) {
  epara_cw_map(w, 1);
  epara_cw_uint(w, 0), epara_cw_uint(w, uptime_ms);
}

void epara_write_state(epara_cw *w, const epara_state_report *s) {
  size_t at = epara_cw_map_begin(w);
  unsigned n = 0;
  epara_cw_uint(w, 0), epara_cw_uint(w, s->load_permille), n++;
  epara_cw_uint(w, 1), epara_cw_uint(w, s->mem_free_kib), n++;
  if (s->has_gpu) epara_cw_uint(w, 2), epara_cw_uint(w, s->gpu_permille), n++;
  epara_cw_uint(w, 3), n++;
  epara_cw_array(w, s->n_services);
  for (size_t i = 0; i < s->n_services; i++) {
    const epara_service_state *v = &s->services[i];
    epara_cw_map(w, v->has_batch ? 7 : 6);
    epara_cw_uint(w, 0), epara_cw_cstr(w, v->name);
    epara_cw_uint(w, 1), epara_cw_cstr(w, v->version);
    epara_cw_uint(w, 2), epara_cw_uint(w, v->status);
    epara_cw_uint(w, 3), epara_cw_uint(w, v->queue_len);
    epara_cw_uint(w, 4), epara_cw_uint(w, v->served);
    epara_cw_uint(w, 5), epara_cw_uint(w, v->violations);
    if (v->has_batch) epara_cw_uint(w, 6), epara_cw_uint(w, v->batch);
  }
  if (s->has_temperature) epara_cw_uint(w, 4), epara_cw_int(w, s->temperature_deci_c), n++;
  if (s->has_power) epara_cw_uint(w, 5), epara_cw_uint(w, s->power_mw), n++;
  if (s->has_link) {
    epara_cw_uint(w, 6), n++;
    epara_cw_map(w, s->has_rssi ? 3 : 2);
    if (s->has_rssi) epara_cw_uint(w, 0), epara_cw_int(w, s->rssi_dbm);
    epara_cw_uint(w, 1), epara_cw_uint(w, s->rx_errors);
    epara_cw_uint(w, 2), epara_cw_uint(w, s->tx_retries);
  }
  if (s->has_frames) {
    epara_cw_uint(w, 7), n++;
    epara_cw_map(w, 3);
    epara_cw_uint(w, 0), epara_cw_uint(w, s->good);
    epara_cw_uint(w, 1), epara_cw_uint(w, s->bad_crc);
    epara_cw_uint(w, 2), epara_cw_uint(w, s->oversize);
  }
  epara_cw_uint(w, 8), epara_cw_uint(w, s->uptime_ms), n++;
  epara_cw_map_end(w, at, n);
}

void epara_write_error(epara_cw *w, uint16_t code, const char *reason, const char *hint, const char *field) {
  if (!reason) reason = epara_err_reason(code);
  if (!reason) reason = "error";
  int has_hint = hint && hint[0], has_field = field && field[0];
  epara_cw_map(w, 2u + (unsigned)has_hint + (unsigned)has_field);
  epara_cw_uint(w, 0), epara_cw_uint(w, code);
  epara_cw_uint(w, 1), epara_cw_cstr(w, reason);
  if (has_hint) epara_cw_uint(w, 2), epara_cw_cstr(w, hint);
  if (has_field) epara_cw_uint(w, 3), epara_cw_cstr(w, field);
}

void epara_write_bye(epara_cw *w, int code, const char *reason) {
  epara_cw_map(w, (unsigned)(code >= 0) + (unsigned)(reason != 0));
  if (code >= 0) epara_cw_uint(w, 0), epara_cw_uint(w, (uint64_t)code);
  if (reason) epara_cw_uint(w, 1), epara_cw_cstr(w, reason);
}

void epara_write_pong(epara_cw *w, const uint8_t *data, size_t n, int has_data) {
  epara_cw_map(w, has_data ? 1 : 0);
  if (has_data) epara_cw_uint(w, 0), epara_cw_bytes(w, data, n);
}

void epara_write_deploy_accept(epara_cw *w, uint32_t id, uint64_t next_offset, uint32_t window) {
  epara_cw_map(w, 3);
  epara_cw_uint(w, 0), epara_cw_uint(w, id);
  epara_cw_uint(w, 1), epara_cw_uint(w, next_offset);
  epara_cw_uint(w, 2), epara_cw_uint(w, window);
}

void epara_write_chunk_ack(epara_cw *w, uint32_t id, uint64_t next_offset) {
  epara_cw_map(w, 2);
  epara_cw_uint(w, 0), epara_cw_uint(w, id);
  epara_cw_uint(w, 1), epara_cw_uint(w, next_offset);
}

void epara_write_deploy_result(epara_cw *w, uint32_t id, uint8_t state, int code, const char *active_version) {
  epara_cw_map(w, 2u + (unsigned)(code >= 0) + (unsigned)(active_version != 0));
  epara_cw_uint(w, 0), epara_cw_uint(w, id);
  epara_cw_uint(w, 1), epara_cw_uint(w, state);
  if (code >= 0) epara_cw_uint(w, 2), epara_cw_uint(w, (uint64_t)code);
  if (active_version) epara_cw_uint(w, 3), epara_cw_cstr(w, active_version);
}

void epara_write_tensor(epara_cw *w, const epara_tensor_out *t) {
  epara_cw_map(w, 3);
  epara_cw_uint(w, 0), epara_cw_text(w, t->name, t->name_len);
  epara_cw_uint(w, 1), epara_cw_array(w, t->ndims);
  for (uint8_t i = 0; i < t->ndims; i++) epara_cw_uint(w, t->shape[i]);
  epara_cw_uint(w, 2), epara_cw_head(w, 6, t->tag), epara_cw_bytes(w, t->data, t->len);
}

void epara_write_infer_response(epara_cw *w, uint32_t request_id, const epara_tensor_out *outs, size_t n, int64_t queue_us, int64_t compute_us) {
  epara_cw_map(w, 2u + (unsigned)(queue_us >= 0) + (unsigned)(compute_us >= 0));
  epara_cw_uint(w, 0), epara_cw_uint(w, request_id);
  epara_cw_uint(w, 1), epara_cw_array(w, n);
  for (size_t i = 0; i < n; i++) epara_write_tensor(w, &outs[i]);
  if (queue_us >= 0) epara_cw_uint(w, 2), epara_cw_uint(w, (uint64_t)queue_us);
  if (compute_us >= 0) epara_cw_uint(w, 3), epara_cw_uint(w, (uint64_t)compute_us);
}
