/*
 * The encoders of every message a device sends, held to the golden vectors: the message's JSON
 * form is turned into the encoder's struct, and the body, the sealed frame and the COBS wire
 * bytes must equal body_hex, frame_hex and wire_hex exactly.
 */
#include <string.h>
#include "test.h"
#include "json.h"
#include "encode.h"
#include "frame.h"
#include "cobs.h"

static char text[1 << 20];
static jtok toks[1 << 16];
static jdoc d;

static const char *const DEVICE_CLASSES[] = {"gpu-server", "embedded-gpu", "microcomputer", "mcu", "fpga"};
static const char *const SERVICE_STATUS[] = {"loading", "ready", "failed", "unloaded"};
static const char *const DEPLOY_STATES[] = {"verifying", "loading", "ready", "failed", "rolled-back"};
static const struct { const char *name; uint8_t tag; } DTYPES[] = {
  {"uint8", 64}, {"int8", 72}, {"uint16", 69}, {"int16", 77}, {"uint32", 70}, {"int32", 78}, {"int64", 79}, {"float32", 85}, {"float64", 86},
};

/* Strings are copied into a pool so the structs can point at NUL-terminated text. */
static char pool[16384];
static size_t pool_at;
static const char *str(int t) {
  char *p = pool + pool_at;
  json_str(&d, t, p, sizeof pool - pool_at);
  pool_at += strlen(p) + 1;
  return p;
}

static int index_of(int t, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    if (json_eq(&d, t, names[i])) return i;
  return -1;
}

static int has(int obj, const char *k) { return json_get(&d, obj, k) >= 0; }
static long long num(int obj, const char *k) { return json_int(&d, json_get(&d, obj, k)); }

static const char *lists[64];
static int list_at;
static const char *const *text_list(int obj, const char *k, uint8_t *n) {
  int a = json_get(&d, obj, k);
  *n = 0;
  if (a < 0) return NULL;
  const char **start = &lists[list_at];
  for (int i = 0; i < d.tok[a].size; i++) lists[list_at++] = str(json_at(&d, a, i));
  *n = (uint8_t)d.tok[a].size;
  return start;
}

static uint8_t bytes_pool[8192];
static size_t bytes_at;
static const uint8_t *hexbytes(int obj, const char *k, size_t *n) {
  long len = json_hex(&d, json_get(&d, obj, k), bytes_pool + bytes_at, sizeof bytes_pool - bytes_at);
  if (len < 0) {
    *n = 0;
    return NULL;
  }
  const uint8_t *p = bytes_pool + bytes_at;
  bytes_at += (size_t)len;
  *n = (size_t)len;
  return p;
}

/* Returns 1 when the message type has an encoder here (the ones a device sends). */
static int encode(const char *type, int m, epara_cw *w) {
  size_t n;
  if (!strcmp(type, "HELLO")) {
    epara_hello h;
    memset(&h, 0, sizeof h);
    h.device_id = str(json_get(&d, m, "deviceId"));
    h.device_class = (uint8_t)index_of(json_get(&d, m, "deviceClass"), DEVICE_CLASSES, 5);
    int proto = json_get(&d, m, "proto");
    h.proto_min = (uint8_t)json_int(&d, json_at(&d, proto, 0));
    h.proto_max = (uint8_t)json_int(&d, json_at(&d, proto, 1));
    h.firmware = str(json_get(&d, m, "firmware"));
    int caps = json_get(&d, m, "caps");
    h.cpu_cores = (uint64_t)num(caps, "cpuCores");
    h.memory_kib = (uint64_t)num(caps, "memoryKiB");
    h.compute_mops = (uint64_t)num(caps, "computeMops");
    if (has(caps, "gpuCount")) h.gpu_count = (uint64_t)num(caps, "gpuCount");
    if (has(caps, "gpuMemoryKiB")) h.gpu_memory_kib = (uint64_t)num(caps, "gpuMemoryKiB");
    h.accelerators = text_list(caps, "accelerators", &h.n_accelerators);
    h.runtimes = text_list(caps, "runtimes", &h.n_runtimes);
    h.formats = text_list(caps, "formats", &h.n_formats);
    h.transports = text_list(caps, "transports", &h.n_transports);
    h.max_frame = (uint32_t)num(m, "maxFrame");
    h.rx_window = (uint32_t)num(m, "rxWindow");
    if (has(m, "keepaliveMs")) h.keepalive_ms = (uint32_t)num(m, "keepaliveMs");
    if (has(m, "resume")) h.resume = hexbytes(m, "resume", &n);
    epara_write_hello(w, &h);
    return 1;
  }
  if (!strcmp(type, "AUTH")) {
    size_t a, b, c;
    const uint8_t *sn = hexbytes(m, "serverNonce", &a), *dn = hexbytes(m, "deviceNonce", &b), *mac = hexbytes(m, "mac", &c);
    epara_write_auth(w, sn, dn, mac);
    return 1;
  }
  if (!strcmp(type, "HEARTBEAT")) {
    epara_write_heartbeat(w, (uint64_t)num(m, "uptimeMs"));
    return 1;
  }
  if (!strcmp(type, "PING") || !strcmp(type, "PONG")) {
    const uint8_t *p = has(m, "data") ? hexbytes(m, "data", &n) : NULL;
    epara_write_pong(w, p, p ? n : 0, p != NULL);
    return 1;
  }
  if (!strcmp(type, "BYE")) {
    epara_write_bye(w, has(m, "code") ? (int)num(m, "code") : -1, has(m, "reason") ? str(json_get(&d, m, "reason")) : NULL);
    return 1;
  }
  if (!strcmp(type, "ERROR")) {
    epara_write_error(w, (uint16_t)num(m, "code"), str(json_get(&d, m, "reason")), has(m, "hint") ? str(json_get(&d, m, "hint")) : NULL,
                      has(m, "field") ? str(json_get(&d, m, "field")) : NULL);
    return 1;
  }
  if (!strcmp(type, "DEPLOY_ACCEPT")) {
    epara_write_deploy_accept(w, (uint32_t)num(m, "deploymentId"), (uint64_t)num(m, "nextOffset"), (uint32_t)num(m, "window"));
    return 1;
  }
  if (!strcmp(type, "DEPLOY_CHUNK_ACK")) {
    epara_write_chunk_ack(w, (uint32_t)num(m, "deploymentId"), (uint64_t)num(m, "nextOffset"));
    return 1;
  }
  if (!strcmp(type, "DEPLOY_RESULT")) {
    epara_write_deploy_result(w, (uint32_t)num(m, "deploymentId"), (uint8_t)index_of(json_get(&d, m, "state"), DEPLOY_STATES, 5),
                              has(m, "code") ? (int)num(m, "code") : -1, has(m, "activeVersion") ? str(json_get(&d, m, "activeVersion")) : NULL);
    return 1;
  }
  if (!strcmp(type, "STATE")) {
    static epara_service_state svcs[8];
    epara_state_report s;
    memset(&s, 0, sizeof s);
    s.load_permille = (uint64_t)num(m, "loadPermille");
    s.mem_free_kib = (uint64_t)num(m, "memFreeKiB");
    if ((s.has_gpu = has(m, "gpuPermille"))) s.gpu_permille = (uint64_t)num(m, "gpuPermille");
    int arr = json_get(&d, m, "services");
    for (int i = 0; i < d.tok[arr].size && i < 8; i++) {
      int v = json_at(&d, arr, i);
      epara_service_state *x = &svcs[i];
      x->name = str(json_get(&d, v, "name"));
      x->version = str(json_get(&d, v, "version"));
      x->status = (uint8_t)index_of(json_get(&d, v, "status"), SERVICE_STATUS, 4);
      x->queue_len = (uint64_t)num(v, "queueLen");
      x->served = (uint64_t)num(v, "served");
      x->violations = (uint64_t)num(v, "violations");
      if ((x->has_batch = has(v, "batch"))) x->batch = (uint64_t)num(v, "batch");
      s.n_services++;
    }
    s.services = svcs;
    if ((s.has_temperature = has(m, "temperatureDeciC"))) s.temperature_deci_c = num(m, "temperatureDeciC");
    if ((s.has_power = has(m, "powerMw"))) s.power_mw = (uint64_t)num(m, "powerMw");
    int link = json_get(&d, m, "link");
    if ((s.has_link = link >= 0)) {
      if ((s.has_rssi = has(link, "rssiDbm"))) s.rssi_dbm = num(link, "rssiDbm");
      s.rx_errors = (uint64_t)num(link, "rxErrors");
      s.tx_retries = (uint64_t)num(link, "txRetries");
    }
    int fr = json_get(&d, m, "frames");
    if ((s.has_frames = fr >= 0)) s.good = (uint64_t)num(fr, "good"), s.bad_crc = (uint64_t)num(fr, "badCrc"), s.oversize = (uint64_t)num(fr, "oversize");
    s.uptime_ms = (uint64_t)num(m, "uptimeMs");
    epara_write_state(w, &s);
    return 1;
  }
  if (!strcmp(type, "INFER_RESPONSE")) {
    static epara_tensor_out outs[8];
    static uint64_t shapes[8][8];
    int arr = json_get(&d, m, "outputs");
    size_t count = 0;
    for (int i = 0; i < d.tok[arr].size && i < 8; i++, count++) {
      int t = json_at(&d, arr, i);
      const char *name = str(json_get(&d, t, "name"));
      outs[i].name = name;
      outs[i].name_len = strlen(name);
      for (size_t k = 0; k < sizeof DTYPES / sizeof DTYPES[0]; k++)
        if (json_eq(&d, json_get(&d, t, "dtype"), DTYPES[k].name)) outs[i].tag = DTYPES[k].tag;
      int sh = json_get(&d, t, "shape");
      outs[i].ndims = (uint8_t)d.tok[sh].size;
      for (int k = 0; k < d.tok[sh].size && k < 8; k++) shapes[i][k] = (uint64_t)json_int(&d, json_at(&d, sh, k));
      outs[i].shape = shapes[i];
      outs[i].data = hexbytes(t, "data", &outs[i].len);
    }
    epara_write_infer_response(w, (uint32_t)num(m, "requestId"), outs, count, has(m, "queueUs") ? num(m, "queueUs") : -1,
                               has(m, "computeUs") ? num(m, "computeUs") : -1);
    return 1;
  }
  return 0;
}

void test_encoders(void) {
  char path[512], name[128], type[64];
  snprintf(path, sizeof path, "%s/valid.json", t_vectors);
  long len = read_file(path, text, sizeof text);
  CHECK(len > 0 && json_parse(&d, text, (size_t)len, toks, (int)(sizeof toks / sizeof toks[0])) == 0, "valid.json");
  if (len <= 0) return;
  int vs = json_get(&d, 0, "vectors");
  int covered = 0;
  static const char *const must[] = {"HELLO", "AUTH", "HEARTBEAT", "STATE", "ERROR", "BYE", "PING", "PONG",
                                     "DEPLOY_ACCEPT", "DEPLOY_CHUNK_ACK", "DEPLOY_RESULT", "INFER_RESPONSE"};
  int seen[12] = {0};
  for (int i = 0; i < d.tok[vs].size; i++) {
    int v = json_at(&d, vs, i);
    json_str(&d, json_get(&d, v, "name"), name, sizeof name);
    json_str(&d, json_get(&d, v, "type"), type, sizeof type);
    int m = json_get(&d, v, "message"), h = json_get(&d, v, "header");
    static uint8_t frame[8192], want_body[8192], want_frame[8192], want_wire[9000], wire[9000];
    epara_cw w;
    epara_cw_init(&w, frame + EPARA_HEADER_SIZE, sizeof frame - EPARA_MIN_FRAME);
    pool_at = 0, list_at = 0, bytes_at = 0;
    if (!encode(type, m, &w)) continue;
    covered++;
    for (int k = 0; k < 12; k++)
      if (!strcmp(type, must[k])) seen[k] = 1;
    long bn = json_hex(&d, json_get(&d, v, "body_hex"), want_body, sizeof want_body);
    long fn = json_hex(&d, json_get(&d, v, "frame_hex"), want_frame, sizeof want_frame);
    long wn = json_hex(&d, json_get(&d, v, "wire_hex"), want_wire, sizeof want_wire);
    CHECK(!w.overflow && bytes_eq(frame + EPARA_HEADER_SIZE, w.pos, want_body, (size_t)bn), "%s body", name);
    size_t flen = epara_frame_seal(frame, (uint8_t)num(h, "type"), (uint8_t)num(h, "flags"), (uint16_t)num(h, "seq"), (uint16_t)num(h, "corr"), (uint16_t)w.pos);
    CHECK(bytes_eq(frame, flen, want_frame, (size_t)fn), "%s frame", name);
    size_t en = epara_cobs_encode(frame, flen, wire, sizeof wire - 1);
    wire[en++] = 0;
    CHECK(bytes_eq(wire, en, want_wire, (size_t)wn), "%s wire", name);
  }
  CHECK(covered >= 20, "encoded %d vectors", covered);
  for (int k = 0; k < 12; k++) CHECK(seen[k], "a vector for %s", must[k]);
  /* a body that does not fit is flagged, never written past the buffer */
  uint8_t tiny[4];
  epara_cw w;
  epara_cw_init(&w, tiny, sizeof tiny);
  epara_write_heartbeat(&w, 123456);
  CHECK(w.overflow && w.pos <= sizeof tiny, "overflow flagged");
}
