#include "schema.h"
#include "error_codes.h"

#define MAXINT EPARA_CBOR_MAX_INT
#define U32 0xFFFFFFFFull
#define NF(a) (uint8_t)(sizeof(a) / sizeof((a)[0]))

/* ---- types ---------------------------------------------------------------------------------- */

static const epara_type t_uint = {EPARA_S_UINT, 0, 0, MAXINT, 0, 0, 0};
static const epara_type t_u32 = {EPARA_S_UINT, 0, 0, U32, 0, 0, 0};
static const epara_type t_int = {EPARA_S_INT, 0, 0, 0, 0, 0, 0};
static const epara_type t_bool = {EPARA_S_BOOL, 0, 0, 0, 0, 0, 0};
static const epara_type t_tstr32 = {EPARA_S_TSTR, 0, 0, 32, 0, 0, 0};
static const epara_type t_tstr64 = {EPARA_S_TSTR, 0, 0, 64, 0, 0, 0};
static const epara_type t_tstr200 = {EPARA_S_TSTR, 0, 0, 200, 0, 0, 0};
static const epara_type t_device_id = {EPARA_S_TSTR, 1, 1, 64, 0, 0, 0};
static const epara_type t_bstr = {EPARA_S_BSTR, 0, 0, MAXINT, 0, 0, 0};
static const epara_type t_bstr8 = {EPARA_S_BSTR, 0, 8, 8, 0, 0, 0};
static const epara_type t_bstr16 = {EPARA_S_BSTR, 0, 16, 16, 0, 0, 0};
static const epara_type t_bstr32 = {EPARA_S_BSTR, 0, 32, 32, 0, 0, 0};
static const epara_type t_bstr_le64 = {EPARA_S_BSTR, 0, 0, 64, 0, 0, 0};
static const epara_type t_err_code = {EPARA_S_UINT, 0, 0, 65535, 0, 0, 0};
static const epara_type t_frame_size = {EPARA_S_UINT, 0, 64, 65535, 0, 0, 0};
static const epara_type t_window = {EPARA_S_UINT, 0, 1, 255, 0, 0, 0};
static const epara_type t_keepalive = {EPARA_S_UINT, 0, 100, 3600000, 0, 0, 0};
static const epara_type t_permille = {EPARA_S_UINT, 0, 0, 1000, 0, 0, 0};
static const epara_type t_version_no = {EPARA_S_UINT, 0, 1, 255, 0, 0, 0};
static const epara_type t_proto = {EPARA_S_RANGE, 0, 0, 0, &t_version_no, 0, 0};
static const epara_type t_chunk_size = {EPARA_S_UINT, 0, 1, 65535, 0, 0, 0};
/* Enums travel as uints: their range is the number of values. */
static const epara_type t_device_class = {EPARA_S_UINT, 0, 0, 4, 0, 0, 0};
static const epara_type t_kind = {EPARA_S_UINT, 0, 0, 2, 0, 0, 0};
static const epara_type t_category = {EPARA_S_UINT, 0, 0, 3, 0, 0, 0};
static const epara_type t_deploy_state = {EPARA_S_UINT, 0, 0, 4, 0, 0, 0};
static const epara_type t_service_status = {EPARA_S_UINT, 0, 0, 3, 0, 0, 0};
static const epara_type t_action = {EPARA_S_UINT, 0, 0, 2, 0, 0, 0};
/* Text limits of SPEC §4 (UTF-8 bytes), one definition for every field of each kind. */
static const epara_type t_service = {EPARA_S_TSTR, 0, 1, 64, 0, 0, 0};
static const epara_type t_version = {EPARA_S_TSTR, 0, 0, 32, 0, 0, 0};
static const epara_type t_tensor_name = {EPARA_S_TSTR, 0, 0, EPARA_TENSOR_NAME_MAX, 0, 0, 0};
static const epara_type t_caps_entry = {EPARA_S_TSTR, 0, 1, 32, 0, 0, 0};
static const epara_type t_caps_list = {EPARA_S_ARRAY, 0, 0, 16, &t_caps_entry, 0, 0};
static const epara_type t_tensor_names = {EPARA_S_ARRAY, 0, 0, MAXINT, &t_tensor_name, 0, 0};
static const epara_type t_uint_list = {EPARA_S_ARRAY, 0, 0, MAXINT, &t_uint, 0, 0};
static const epara_type t_tensor = {EPARA_S_TENSOR, 0, 0, 0, 0, 0, 0};
static const epara_type t_tensors = {EPARA_S_ARRAY, 0, 0, MAXINT, &t_tensor, 0, 0};
static const epara_type t_tensors1 = {EPARA_S_ARRAY, 0, 1, MAXINT, &t_tensor, 0, 0};

#define R(k, n, t) {k, 1, n, &t}
#define O(k, n, t) {k, 0, n, &t}
#define MAP(name, fields) static const epara_type name = {EPARA_S_MAP, 0, 0, 0, 0, fields, NF(fields)}
#define LIST(name, of) static const epara_type name = {EPARA_S_ARRAY, 0, 0, MAXINT, &of, 0, 0}

static const epara_field f_caps[] = {
  R(0, "cpuCores", t_uint), R(1, "memoryKiB", t_uint), O(2, "gpuCount", t_uint), O(3, "gpuMemoryKiB", t_uint),
  O(4, "accelerators", t_caps_list), R(5, "computeMops", t_uint), O(6, "runtimes", t_caps_list),
  O(7, "formats", t_caps_list), O(8, "transports", t_caps_list),
};
MAP(t_caps, f_caps);

static const epara_field f_service_state[] = {
  R(0, "name", t_service), R(1, "version", t_version), R(2, "status", t_service_status), R(3, "queueLen", t_uint),
  R(4, "served", t_uint), R(5, "violations", t_uint), O(6, "batch", t_uint),
};
MAP(t_service_state, f_service_state);
LIST(t_services, t_service_state);

static const epara_field f_link[] = {O(0, "rssiDbm", t_int), R(1, "rxErrors", t_uint), R(2, "txRetries", t_uint)};
MAP(t_link, f_link);
static const epara_field f_frames[] = {R(0, "good", t_uint), R(1, "badCrc", t_uint), R(2, "oversize", t_uint)};
MAP(t_frames, f_frames);

static const epara_field f_settings[] = {
  O(0, "batch", t_uint), O(1, "replicas", t_uint), O(2, "parallelDegree", t_uint), O(3, "stage", t_uint), O(4, "maxQueue", t_uint),
};
MAP(t_settings, f_settings);
static const epara_field f_op[] = {R(0, "action", t_action), R(1, "service", t_service), O(2, "version", t_version), O(3, "settings", t_settings)};
MAP(t_op, f_op);
LIST(t_ops, t_op);
static const epara_field f_result[] = {R(0, "service", t_service), R(1, "code", t_err_code)};
MAP(t_result, f_result);
LIST(t_results, t_result);

static const epara_field f_meta[] = {
  O(0, "inputNames", t_tensor_names), O(1, "outputNames", t_tensor_names), O(2, "inputShape", t_uint_list), O(3, "outputShape", t_uint_list),
};
MAP(t_meta, f_meta);

/* ---- messages -------------------------------------------------------------------------------- */

static const epara_field m_hello[] = {
  R(0, "deviceId", t_device_id), R(1, "deviceClass", t_device_class), R(2, "proto", t_proto), R(3, "firmware", t_tstr32),
  R(4, "caps", t_caps), R(5, "maxFrame", t_frame_size), R(6, "rxWindow", t_window), O(7, "keepaliveMs", t_keepalive),
  O(8, "resume", t_bstr8),
};
static const epara_field m_challenge[] = {
  R(0, "nonce", t_bstr16), R(1, "version", t_version_no), R(2, "maxFrame", t_frame_size), R(3, "window", t_window),
  R(4, "keepaliveMs", t_keepalive),
};
static const epara_field m_auth[] = {R(0, "serverNonce", t_bstr16), R(1, "deviceNonce", t_bstr16), R(2, "mac", t_bstr32)};
static const epara_field m_welcome[] = {
  R(0, "sessionId", t_bstr8), R(1, "leaseMs", t_u32), R(2, "heartbeatMs", t_u32), R(3, "stateMs", t_u32),
  R(4, "serverMac", t_bstr32), O(5, "resumed", t_bool),
};
static const epara_field m_bye[] = {O(0, "code", t_err_code), O(1, "reason", t_tstr200)};
static const epara_field m_ping[] = {O(0, "data", t_bstr_le64)};
static const epara_field m_heartbeat[] = {R(0, "uptimeMs", t_uint)};
static const epara_field m_heartbeat_ack[] = {R(0, "leaseMs", t_u32)};
static const epara_field m_state[] = {
  R(0, "loadPermille", t_permille), R(1, "memFreeKiB", t_uint), O(2, "gpuPermille", t_permille), R(3, "services", t_services),
  O(4, "temperatureDeciC", t_int), O(5, "powerMw", t_uint), O(6, "link", t_link), O(7, "frames", t_frames),
  R(8, "uptimeMs", t_uint),
};
static const epara_field m_error[] = {R(0, "code", t_err_code), R(1, "reason", t_tstr200), O(2, "hint", t_tstr200), O(3, "field", t_tstr64)};
static const epara_field m_placement[] = {R(0, "planVersion", t_u32), R(1, "ops", t_ops)};
static const epara_field m_placement_ack[] = {R(0, "planVersion", t_u32), R(1, "results", t_results)};
static const epara_field m_deploy_offer[] = {
  R(0, "deploymentId", t_u32), R(1, "service", t_service), R(2, "version", t_version), R(3, "kind", t_kind), R(4, "size", t_uint),
  R(5, "sha256", t_bstr32), R(6, "chunkSize", t_chunk_size), R(7, "category", t_category), O(8, "meta", t_meta),
};
static const epara_field m_deploy_accept[] = {R(0, "deploymentId", t_u32), R(1, "nextOffset", t_uint), R(2, "window", t_window)};
static const epara_field m_deploy_chunk[] = {R(0, "deploymentId", t_u32), R(1, "offset", t_uint), R(2, "data", t_bstr)};
static const epara_field m_deploy_chunk_ack[] = {R(0, "deploymentId", t_u32), R(1, "nextOffset", t_uint)};
static const epara_field m_deploy_commit[] = {R(0, "deploymentId", t_u32)};
static const epara_field m_deploy_result[] = {R(0, "deploymentId", t_u32), R(1, "state", t_deploy_state), O(2, "code", t_err_code), O(3, "activeVersion", t_version)};
static const epara_field m_infer_request[] = {
  R(0, "requestId", t_u32), R(1, "service", t_service), R(2, "inputs", t_tensors1), O(3, "deadlineUs", t_u32), O(4, "flowId", t_u32),
};
static const epara_field m_infer_response[] = {R(0, "requestId", t_u32), R(1, "outputs", t_tensors), O(2, "queueUs", t_u32), O(3, "computeUs", t_u32)};
static const epara_field m_infer_cancel[] = {R(0, "requestId", t_u32)};

#define MSG(t, n, f) {t, n, f, NF(f)}
static const epara_message_schema messages[] = {
  MSG(EPARA_T_HELLO, "HELLO", m_hello), MSG(EPARA_T_CHALLENGE, "CHALLENGE", m_challenge), MSG(EPARA_T_AUTH, "AUTH", m_auth),
  MSG(EPARA_T_WELCOME, "WELCOME", m_welcome), MSG(EPARA_T_BYE, "BYE", m_bye), MSG(EPARA_T_PING, "PING", m_ping),
  MSG(EPARA_T_PONG, "PONG", m_ping), MSG(EPARA_T_HEARTBEAT, "HEARTBEAT", m_heartbeat),
  MSG(EPARA_T_HEARTBEAT_ACK, "HEARTBEAT_ACK", m_heartbeat_ack), MSG(EPARA_T_STATE, "STATE", m_state),
  MSG(EPARA_T_ERROR, "ERROR", m_error), MSG(EPARA_T_PLACEMENT, "PLACEMENT", m_placement),
  MSG(EPARA_T_PLACEMENT_ACK, "PLACEMENT_ACK", m_placement_ack), MSG(EPARA_T_DEPLOY_OFFER, "DEPLOY_OFFER", m_deploy_offer),
  MSG(EPARA_T_DEPLOY_ACCEPT, "DEPLOY_ACCEPT", m_deploy_accept), MSG(EPARA_T_DEPLOY_CHUNK, "DEPLOY_CHUNK", m_deploy_chunk),
  MSG(EPARA_T_DEPLOY_CHUNK_ACK, "DEPLOY_CHUNK_ACK", m_deploy_chunk_ack), MSG(EPARA_T_DEPLOY_COMMIT, "DEPLOY_COMMIT", m_deploy_commit),
  MSG(EPARA_T_DEPLOY_RESULT, "DEPLOY_RESULT", m_deploy_result), MSG(EPARA_T_INFER_REQUEST, "INFER_REQUEST", m_infer_request),
  MSG(EPARA_T_INFER_RESPONSE, "INFER_RESPONSE", m_infer_response), MSG(EPARA_T_INFER_CANCEL, "INFER_CANCEL", m_infer_cancel),
};

const epara_message_schema *epara_schema_for(uint8_t type) {
  for (size_t i = 0; i < NF(messages); i++)
    if (messages[i].type == type) return &messages[i];
  return 0;
}

const epara_message_schema *epara_schema_at(size_t i) { return i < NF(messages) ? &messages[i] : 0; }
size_t epara_schema_count(void) { return NF(messages); }

int epara_is_request_type(uint8_t t) {
  switch (t) {
  case EPARA_T_HELLO: case EPARA_T_AUTH: case EPARA_T_PING: case EPARA_T_HEARTBEAT: case EPARA_T_PLACEMENT:
  case EPARA_T_DEPLOY_OFFER: case EPARA_T_DEPLOY_CHUNK: case EPARA_T_DEPLOY_COMMIT: case EPARA_T_INFER_REQUEST:
    return 1;
  default:
    return 0;
  }
}

/* ---- walker ---------------------------------------------------------------------------------- */

/* A field path, built only when an error needs one: a chain of names and indexes. */
typedef struct seg {
  const struct seg *up;
  const char *name; /* NULL: an array index */
  size_t index;
} seg;

typedef struct {
  char *out;
  size_t pos;
} pbuf;

static void put_c(pbuf *b, char c) {
  if (b->pos + 1 < EPARA_FIELD_PATH_MAX) b->out[b->pos++] = c;
}

static void put_path(pbuf *b, const seg *s) {
  if (!s) return;
  put_path(b, s->up);
  if (s->name) {
    if (!s->name[0]) return;
    if (b->pos > 0) put_c(b, '.');
    for (const char *c = s->name; *c; c++) put_c(b, *c);
  } else {
    char digits[24];
    int n = 0;
    size_t v = s->index;
    do digits[n++] = (char)('0' + v % 10), v /= 10; while (v);
    put_c(b, '[');
    while (n) put_c(b, digits[--n]);
    put_c(b, ']');
  }
}

static int fail(const seg *s, char *field) {
  pbuf b = {field, 0};
  put_path(&b, s);
  field[b.pos] = 0;
  return EPARA_E_MSG_SCHEMA;
}

static int pattern_ok(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return 0;
  }
  return 1;
}

static int check_value(const epara_type *t, epara_item v, const seg *s, char *field);

static int check_uint(const epara_type *t, epara_item v, const seg *s, char *field) {
  if (epara_item_major(v) != 0) return fail(s, field);
  uint64_t x = epara_item_arg(v, 0);
  if (x < t->min || x > t->max) return fail(s, field);
  return 0;
}

static int check_map(const epara_field *fields, uint8_t nfields, epara_item v, const seg *s, char *field) {
  if (epara_item_major(v) != 5) return fail(s, field);
  for (uint8_t i = 0; i < nfields; i++) {
    const epara_field *f = &fields[i];
    seg fs = {s, f->name, 0};
    epara_item fv;
    if (!epara_map_get(v, f->key, &fv)) {
      if (f->required) return fail(&fs, field);
      continue;
    }
    int e = check_value(f->type, fv, &fs, field);
    if (e) return e;
  }
  return 0;
}

/* {0: name, 1: shape, 2: tagged data} with len(data) = product(shape) x element size (SPEC §4.1). */
static int check_tensor(epara_item v, const seg *s, char *field) {
  if (epara_item_major(v) != 5) return fail(s, field);
  epara_item name, shape, data, inner;
  seg sn = {s, "name", 0}, ss = {s, "shape", 0}, sd = {s, "data", 0};
  size_t name_len = 0;
  if (!epara_map_get(v, 0, &name) || epara_item_major(name) != 3) return fail(&sn, field);
  (void)epara_item_str(name, &name_len);
  if (name_len > EPARA_TENSOR_NAME_MAX) return fail(&sn, field);
  if (!epara_map_get(v, 1, &shape) || epara_item_major(shape) != 4) return fail(&ss, field);
  uint64_t dims = epara_item_arg(shape, 0);
  int zero = 0;
  for (uint64_t i = 0; i < dims; i++) {
    epara_item d = epara_array_at(shape, (size_t)i);
    seg si = {&ss, 0, (size_t)i};
    if (epara_item_major(d) != 0) return fail(&si, field);
    if (epara_item_arg(d, 0) == 0) zero = 1;
  }
  uint64_t tag;
  if (!epara_map_get(v, 2, &data) || !epara_item_tag(data, &tag, &inner)) return fail(&sd, field);
  size_t len;
  (void)epara_item_str(inner, &len);
  uint64_t want = zero ? 0 : epara_tag_width(tag);
  for (uint64_t i = 0; i < dims && !zero; i++) {
    uint64_t d = epara_item_arg(epara_array_at(shape, (size_t)i), 0);
    if (want > (uint64_t)len / d) return fail(&sd, field); /* want * d would exceed the data */
    want *= d;
  }
  if (want != len) return fail(&sd, field);
  return 0;
}

static int check_value(const epara_type *t, epara_item v, const seg *s, char *field) {
  uint8_t major = epara_item_major(v);
  switch (t->t) {
  case EPARA_S_UINT:
    return check_uint(t, v, s, field);
  case EPARA_S_INT:
    return major == 0 || major == 1 ? 0 : fail(s, field);
  case EPARA_S_BOOL:
    return major == 7 ? 0 : fail(s, field);
  case EPARA_S_TSTR:
  case EPARA_S_BSTR: {
    if (major != (t->t == EPARA_S_TSTR ? 3 : 2)) return fail(s, field);
    size_t n;
    const uint8_t *p = epara_item_str(v, &n);
    if (n < t->min || n > t->max) return fail(s, field);
    if (t->device_id && !pattern_ok(p, n)) return fail(s, field);
    return 0;
  }
  case EPARA_S_ARRAY: {
    if (major != 4) return fail(s, field);
    uint64_t n = epara_item_arg(v, 0);
    if (n < t->min || n > t->max) return fail(s, field);
    epara_item x = epara_array_at(v, 0);
    for (uint64_t i = 0; i < n; i++, x = epara_item_next(x)) {
      seg si = {s, 0, (size_t)i};
      int e = check_value(t->of, x, &si, field);
      if (e) return e;
    }
    return 0;
  }
  case EPARA_S_RANGE: {
    if (major != 4 || epara_item_arg(v, 0) != 2) return fail(s, field);
    epara_item lo = epara_array_at(v, 0), hi = epara_array_at(v, 1);
    seg s0 = {s, 0, 0}, s1 = {s, 0, 1};
    int e = check_uint(t->of, lo, &s0, field);
    if (!e) e = check_uint(t->of, hi, &s1, field);
    if (e) return e;
    if (epara_item_arg(lo, 0) > epara_item_arg(hi, 0)) return fail(s, field);
    return 0;
  }
  case EPARA_S_MAP:
    return check_map(t->fields, t->nfields, v, s, field);
  default:
    return check_tensor(v, s, field);
  }
}

int epara_schema_check(const epara_message_schema *m, const uint8_t *body, size_t n, char field[EPARA_FIELD_PATH_MAX]) {
  (void)n;
  field[0] = 0;
  epara_item root = {body};
  seg top = {0, "", 0};
  return check_map(m->fields, m->nfields, root, &top, field);
}
