/*
 * Bodies of the messages a device sends (SPEC §5), written as deterministic CBOR. Pure functions
 * over plain structs, so the tests can hold each one to the golden vectors.
 */
#ifndef EPARA_ENCODE_H
#define EPARA_ENCODE_H
#include "cbor.h"

typedef struct {
  const char *device_id;
  uint8_t device_class;
  uint8_t proto_min, proto_max;
  const char *firmware;
  uint64_t cpu_cores, memory_kib, compute_mops;
  uint64_t gpu_count, gpu_memory_kib;       /* sent when non-zero */
  const char *const *accelerators; uint8_t n_accelerators;
  const char *const *runtimes; uint8_t n_runtimes;
  const char *const *formats; uint8_t n_formats;
  const char *const *transports; uint8_t n_transports;
  uint32_t max_frame, rx_window;
  uint32_t keepalive_ms;                    /* 0: omitted */
  const uint8_t *resume;                    /* 8 bytes, or NULL */
} epara_hello;

typedef struct {
  const char *name, *version;
  uint8_t status;
  uint64_t queue_len, served, violations;
  int has_batch;
  uint64_t batch;
} epara_service_state;

typedef struct {
  uint64_t load_permille, mem_free_kib;
  int has_gpu; uint64_t gpu_permille;
  const epara_service_state *services; size_t n_services;
  int has_temperature; int64_t temperature_deci_c;
  int has_power; uint64_t power_mw;
  int has_link; int has_rssi; int64_t rssi_dbm; uint64_t rx_errors, tx_retries;
  int has_frames; uint64_t good, bad_crc, oversize;
  uint64_t uptime_ms;
} epara_state_report;

typedef struct {
  const char *name; size_t name_len;
  uint8_t tag;
  uint8_t ndims;
  const uint64_t *shape;
  const uint8_t *data; size_t len;
} epara_tensor_out;

void epara_write_hello(epara_cw *w, const epara_hello *h);
void epara_write_auth(epara_cw *w, const uint8_t server_nonce[16], const uint8_t device_nonce[16], const uint8_t mac[32]);
void epara_write_heartbeat(epara_cw *w, uint64_t uptime_ms);
void epara_write_state(epara_cw *w, const epara_state_report *s);
/* reason NULL: the table's reason for the code; hint / field NULL or empty: omitted. */
void epara_write_error(epara_cw *w, uint16_t code, const char *reason, const char *hint, const char *field);
/* code < 0: omitted; reason NULL: omitted. */
void epara_write_bye(epara_cw *w, int code, const char *reason);
void epara_write_pong(epara_cw *w, const uint8_t *data, size_t n, int has_data);
void epara_write_deploy_accept(epara_cw *w, uint32_t id, uint64_t next_offset, uint32_t window);
void epara_write_chunk_ack(epara_cw *w, uint32_t id, uint64_t next_offset);
/* code < 0 and active_version NULL: omitted. */
void epara_write_deploy_result(epara_cw *w, uint32_t id, uint8_t state, int code, const char *active_version);
/* queue_us / compute_us < 0: omitted. */
void epara_write_infer_response(epara_cw *w, uint32_t request_id, const epara_tensor_out *outs, size_t n, int64_t queue_us, int64_t compute_us);
void epara_write_tensor(epara_cw *w, const epara_tensor_out *t);

#endif
