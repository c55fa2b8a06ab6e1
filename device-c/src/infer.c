/*
 * INFER_REQUEST dispatch (SPEC §5.12) and PLACEMENT acknowledgement. The inputs are checked
 * against the service's signature before the model runs, so a model callback only ever sees
 * tensors of the dtype and element count it declared; a mismatch is infer.bad_input naming the
 * input. The schema check has already guaranteed len(data) = product(shape) x element size.
 */
#include "device_internal.h"

static int parse_tensor(epara_item t, epara_tensor *out) {
  epara_item name, shape, data, inner;
  uint64_t tag;
  (void)epara_map_get(t, 0, &name);
  (void)epara_map_get(t, 1, &shape);
  (void)epara_map_get(t, 2, &data);
  (void)epara_item_tag(data, &tag, &inner);
  out->name = (const char *)epara_item_str(name, &out->name_len);
  out->tag = (uint8_t)tag;
  uint64_t dims = epara_item_arg(shape, 0);
  if (dims > EPARA_MAX_DIMS) return 0;
  out->ndims = (uint8_t)dims;
  out->elements = 1;
  for (uint64_t i = 0; i < dims; i++) {
    out->shape[i] = epara_item_arg(epara_array_at(shape, (size_t)i), 0);
    out->elements *= out->shape[i]; /* bounded: the schema tied it to the data length */
  }
  out->data = epara_item_str(inner, &out->len);
  return 1;
}

static void input_field(char *f, size_t i) {
  /* "inputs[i]" for i < 10: EPARA_MAX_TENSORS is 4 */
  const char *p = "inputs[";
  size_t k = 0;
  while (*p) f[k++] = *p++;
  f[k++] = (char)('0' + i % 10);
  f[k++] = ']';
  f[k] = 0;
}

void epara__on_infer(epara_dev *d, const epara_req *r) {
  const epara_models *m = d->cfg.models;
  uint32_t id = (uint32_t)epara__get_uint(r->body, 0, 0);
  uint32_t t0 = d->cfg.now_us ? d->cfg.now_us(d->cfg.user) : 0;
  char service[EPARA_SERVICE_MAX + 1];
  epara_signature sig;
  if (!m || !epara__get_text(r->body, 1, service, sizeof service) || m->signature(d->cfg.user, service, &sig) != 0) {
    epara__respond_error(d, r, EPARA_E_INFER_UNKNOWN_SERVICE, 0, "service");
    return;
  }
  epara_service *svc = epara__service(d, service, epara__strlen(service), 0);
  epara_item inputs;
  (void)epara_map_get(r->body, 2, &inputs);
  uint64_t n_in = epara_item_arg(inputs, 0);
  epara_tensor in[EPARA_MAX_TENSORS];
  char field[16];
  if (n_in != sig.n_inputs || n_in > EPARA_MAX_TENSORS) {
    if (svc) svc->violations++;
    epara__respond_error(d, r, EPARA_E_INFER_BAD_INPUT, "wrong number of input tensors for this service", "inputs");
    return;
  }
  for (size_t i = 0; i < n_in; i++) {
    input_field(field, i);
    if (!parse_tensor(epara_array_at(inputs, i), &in[i]) || in[i].tag != sig.tag[i] || in[i].elements != sig.elements[i]) {
      if (svc) svc->violations++;
      epara__respond_error(d, r, EPARA_E_INFER_BAD_INPUT, "input dtype or element count does not match the model", field);
      return;
    }
  }
  epara_tensor out[EPARA_MAX_TENSORS];
  size_t n_out = 0;
  int e = m->run(d->cfg.user, service, in, n_in, out, &n_out);
  uint32_t elapsed = d->cfg.now_us ? d->cfg.now_us(d->cfg.user) - t0 : 0;
  uint64_t deadline = epara__get_uint(r->body, 3, 0);
  epara_item dl;
  if (!e && d->cfg.now_us && epara_map_get(r->body, 3, &dl) && elapsed > deadline) e = EPARA_E_INFER_DEADLINE;
  if (!e && n_out > EPARA_MAX_TENSORS) e = EPARA_E_INFER_RUNTIME;
  if (e) {
    if (svc) svc->violations++;
    epara__respond_error(d, r, (uint16_t)e, 0, 0);
    return;
  }
  epara_tensor_out outs[EPARA_MAX_TENSORS];
  for (size_t i = 0; i < n_out; i++) {
    outs[i].name = out[i].name;
    outs[i].name_len = out[i].name_len;
    outs[i].tag = out[i].tag;
    outs[i].ndims = out[i].ndims;
    outs[i].shape = out[i].shape;
    outs[i].data = out[i].data;
    outs[i].len = out[i].len;
  }
  if (svc) svc->served++;
  epara_cw w;
  epara__rsp_begin(d, &w);
  epara_write_infer_response(&w, id, outs, n_out, -1, d->cfg.now_us ? (int64_t)elapsed : -1);
  epara__respond(d, r, EPARA_T_INFER_RESPONSE, &w);
}

void epara__on_placement(epara_dev *d, const epara_req *r) {
  uint32_t plan = (uint32_t)epara__get_uint(r->body, 0, 0);
  int stale = d->have_plan && plan < d->plan_version;
  if (!stale) d->plan_version = plan, d->have_plan = 1;
  epara_item ops;
  (void)epara_map_get(r->body, 1, &ops);
  uint64_t n = epara_item_arg(ops, 0);
  epara_cw w;
  epara__rsp_begin(d, &w);
  epara_cw_map(&w, 2);
  epara_cw_uint(&w, 0), epara_cw_uint(&w, plan);
  epara_cw_uint(&w, 1), epara_cw_array(&w, n);
  epara_item op = epara_array_at(ops, 0);
  for (uint64_t i = 0; i < n; i++, op = epara_item_next(op)) {
    epara_item sv;
    size_t len = 0;
    (void)epara_map_get(op, 1, &sv);
    const char *name = (const char *)epara_item_str(sv, &len);
    uint64_t action = epara__get_uint(op, 0, 0);
    unsigned code = 0;
    if (stale) code = EPARA_E_PLACEMENT_STALE_PLAN;
    else if (action != 1 && !epara__service(d, name, len, 0)) code = EPARA_E_PLACEMENT_UNKNOWN_SERVICE;
    epara_cw_map(&w, 2);
    epara_cw_uint(&w, 0), epara_cw_text(&w, name, len);
    epara_cw_uint(&w, 1), epara_cw_uint(&w, code);
  }
  epara__respond(d, r, EPARA_T_PLACEMENT_ACK, &w);
}
