/*
 * epara device library: the device side of the epara protocol (protocol/SPEC.md) for
 * microcontrollers. No heap: the caller owns the epara_dev struct and one memory block for the
 * frame buffers. Byte in / byte out: feed what the UART / BLE / socket received with
 * epara_dev_feed, and the library calls cfg.write with bytes to send. Timers run from
 * epara_dev_tick with a millisecond clock the caller supplies (it may wrap).
 *
 * One thread: call every epara_dev_* function from the same context (or under one lock).
 */
#ifndef EPARA_DEVICE_H
#define EPARA_DEVICE_H
#include <stddef.h>
#include <stdint.h>
#include "error_codes.h"
#include "cobs.h"
#include "frame.h"
#include "message.h"

#define EPARA_KEY_LEN 32
#define EPARA_NONCE_LEN 16
#define EPARA_SESSION_ID_LEN 8
#define EPARA_MAX_WINDOW 8      /* response-cache slots (and the rxWindow the device can announce) */
#define EPARA_MAX_SERVICES 4    /* services reported in STATE */
#define EPARA_SERVICE_MAX 64    /* service names, UTF-8 bytes (SPEC §4 text limits) */
#define EPARA_VERSION_MAX 32    /* version names */
/* Protocol versions this library speaks (SPEC §8). Version 2's keys (STATE memKiB/busyUs,
 * PLACEMENT pipeline) are all optional, so a version-1 device stays a conforming peer. */
#define EPARA_PROTOCOL_MIN 1
#define EPARA_PROTOCOL_MAX 1
#define EPARA_MAX_TENSORS 4     /* inputs or outputs per inference */
#define EPARA_MAX_DIMS 4

/* Memory the caller provides to epara_dev_init, for a max_frame and an rx_window. */
#define EPARA_DEV_MEM(max_frame, rx_window) ((size_t)(3u + (rx_window)) * (size_t)(max_frame))

typedef enum {
  EPARA_ST_IDLE = 0,  /* no link, or the link was declared lost: call epara_dev_start on a new link */
  EPARA_ST_HELLO,     /* HELLO sent, waiting for CHALLENGE */
  EPARA_ST_AUTH,      /* AUTH sent, waiting for WELCOME */
  EPARA_ST_READY,     /* session up */
  EPARA_ST_CLOSED     /* BYE sent or received, or the handshake failed: close the link */
} epara_state;

typedef enum {
  EPARA_EV_READY = 1,     /* WELCOME verified; code = 1 when the session was resumed */
  EPARA_EV_LINK_LOST,     /* a request went unanswered after all retries: close and reconnect with backoff */
  EPARA_EV_REFUSED,       /* the server answered HELLO/AUTH with ERROR `code`: back off (SPEC §9) */
  EPARA_EV_SERVER_MAC,    /* WELCOME's serverMac did not verify: BYE 208 sent, link must close */
  EPARA_EV_VERSION,       /* CHALLENGE version outside our range: BYE 120/121 sent */
  EPARA_EV_BYE,           /* the server said BYE (code) */
  EPARA_EV_BAD_FRAME,     /* a frame was rejected with `code` (for logs and counters) */
  EPARA_EV_DEPLOYED,      /* a deployment finished: code 0 ready, else its error code */
  EPARA_EV_SESSION_GONE   /* nothing heard for leaseMs: the old session will not be resumed */
} epara_event;

/* An artifact offered by DEPLOY_OFFER (SPEC §5.11). */
typedef struct {
  uint32_t deployment_id;
  uint8_t kind;           /* 0 onnx, 1 int8-fc-weights, 2 blob */
  uint8_t category;
  uint64_t size;
  uint32_t chunk_size;
  uint8_t sha256[32];
  char service[EPARA_SERVICE_MAX + 1];
  char version[EPARA_VERSION_MAX + 1];
} epara_offer;

/*
 * Artifact storage, e.g. a flash partition. Every function returns 0 or a wire error code
 * (deploy.no_space, deploy.unsupported_kind, deploy.too_large, deploy.load_failed, ...).
 */
typedef struct {
  /* A new or repeated offer. Set *next_offset to the bytes already persisted for this same
   * deployment_id and sha256 (resume after a reconnect or reboot), else 0 (and start over). */
  int (*begin)(void *user, const epara_offer *o, uint64_t *next_offset);
  /* Persist data at offset (always the current nextOffset: chunks arrive in order). The library
   * only acknowledges the bytes after this returns 0, so persist the offset too. */
  int (*write)(void *user, const epara_offer *o, uint64_t offset, const uint8_t *data, size_t n);
  /* Read back stored bytes for the SHA-256 check. */
  int (*read)(void *user, const epara_offer *o, uint64_t offset, uint8_t *buf, size_t n);
  /* The hash matched: load the artifact and run a warm-up. 0 ready; else the previous version
   * keeps serving and the error code is reported (deploy.load_failed, deploy.warmup_failed). */
  int (*activate)(void *user, const epara_offer *o);
  /* The hash did not match: drop the partial data (the next offer starts at 0). */
  void (*discard)(void *user, const epara_offer *o);
} epara_storage;

typedef struct {
  const char *name;       /* points into the request frame: not NUL-terminated */
  size_t name_len;
  uint8_t tag;            /* RFC 8746 tag: 64 uint8, 72 int8, 78 int32, 85 float32, ... */
  uint8_t ndims;
  uint64_t shape[EPARA_MAX_DIMS];
  uint64_t elements;      /* product(shape) */
  const uint8_t *data;    /* little-endian elements, len bytes */
  size_t len;
} epara_tensor;

/* What a service takes: checked before the model runs (infer.bad_input otherwise). */
typedef struct {
  uint8_t n_inputs;
  uint8_t tag[EPARA_MAX_TENSORS];
  uint64_t elements[EPARA_MAX_TENSORS];
} epara_signature;

typedef struct {
  /* The input signature of a service that is ready; 0 when found, else infer.unknown_service. */
  int (*signature)(void *user, const char *service, epara_signature *sig);
  /* Run the model. Fill out[0..*n_out) (data may point at the callback's own memory, valid until
   * the next call). Return 0, or an infer.* code (infer.runtime, infer.bad_input). */
  int (*run)(void *user, const char *service, const epara_tensor *in, size_t n_in, epara_tensor *out, size_t *n_out);
} epara_models;

typedef struct {
  uint16_t load_permille;
  uint64_t mem_free_kib;
} epara_load;

typedef struct {
  /* identity and capabilities (HELLO, SPEC §5.1) */
  const char *device_id;            /* [A-Za-z0-9._-]{1,64} */
  const uint8_t *key;               /* the provisioned key (32 bytes from `epara register`) */
  uint8_t key_len;                  /* 16..64; 0: 32 */
  uint8_t device_class;             /* 3 mcu */
  const char *firmware;             /* <= 32 bytes */
  uint32_t cpu_cores, memory_kib, compute_mops;
  const char *const *runtimes; uint8_t n_runtimes;
  const char *const *formats; uint8_t n_formats;
  const char *const *transports; uint8_t n_transports;
  uint16_t max_frame;               /* 64..65535; also sizes the buffers */
  uint8_t rx_window;                /* 1..EPARA_MAX_WINDOW */
  uint32_t keepalive_ms;            /* 0: let the server choose */
  /* reliability (SPEC §7.2): per-attempt timeout and retransmissions of our requests */
  uint32_t request_timeout_ms;      /* 0: 2000 */
  uint8_t retries;                  /* 0: 3 */
  /* platform */
  void (*write)(void *user, const uint8_t *bytes, size_t n);
  int (*random)(void *user, uint8_t *out, size_t n); /* a CSPRNG; 0 on success */
  void (*event)(void *user, epara_event ev, int code);
  void (*load)(void *user, epara_load *out);         /* optional, for STATE */
  uint32_t (*now_us)(void *user);                    /* optional: deadlineUs checks and computeUs */
  const epara_storage *storage;     /* optional: without it offers get deploy.unsupported_kind */
  const epara_models *models;       /* optional: without it inferences get infer.unknown_service */
  void *user;
} epara_config;

typedef struct {
  char name[EPARA_SERVICE_MAX + 1];
  char version[EPARA_VERSION_MAX + 1];
  uint8_t status;       /* 0 loading, 1 ready, 2 failed, 3 unloaded */
  uint8_t used;
  uint32_t served;      /* since the last STATE */
  uint32_t violations;  /* since the last STATE */
} epara_service;

typedef struct {
  uint8_t used;
  uint8_t req_type;
  uint16_t req_seq;
  uint16_t len;
} epara_cache_slot;

/* The device. Allocate it statically; its fields are private to the library. */
typedef struct {
  epara_config cfg;
  epara_state state;
  uint8_t *rx, *pend, *ntf, *cache; /* frame buffers carved from the caller's memory */
  epara_cobs_dec dec;
  uint16_t max_frame;               /* negotiated (ours until CHALLENGE) */
  uint16_t tx_seq;
  /* our outstanding request (HELLO, AUTH or HEARTBEAT), kept for retransmission */
  uint8_t pend_active, pend_type, pend_attempts;
  uint16_t pend_seq, pend_len;
  uint32_t pend_due;
  /* handshake */
  uint8_t server_nonce[EPARA_NONCE_LEN], device_nonce[EPARA_NONCE_LEN];
  uint8_t session_id[EPARA_SESSION_ID_LEN];
  uint8_t have_session;
  uint32_t lease_ms, heartbeat_ms, state_ms;
  uint32_t now, last_heard, next_heartbeat, next_state, boot;
  /* response cache for retransmitted requests (SPEC §5) */
  epara_cache_slot slots[EPARA_MAX_WINDOW];
  uint8_t n_slots, next_slot;
  /* deployment in progress */
  epara_offer offer;
  uint8_t offer_active;
  uint8_t offer_ready;              /* committed and serving: a repeated COMMIT gets the same answer */
  uint32_t plan_version;
  uint8_t have_plan;
  uint64_t next_offset;
  /* services and counters for STATE */
  epara_service services[EPARA_MAX_SERVICES];
  uint32_t frames_good, frames_bad_crc, frames_oversize;
  /* transmit staging: COBS output is coalesced into writes of up to this many bytes */
  uint8_t out[64];
  uint8_t out_len;
} epara_dev;

/* 0, or EPARA_E_INTERNAL when the config or the memory block is unusable. */
int epara_dev_init(epara_dev *d, const epara_config *cfg, uint8_t *mem, size_t mem_len);
/* A new link is up: send HELLO (with resume when a session can still be resumed). */
void epara_dev_start(epara_dev *d, uint32_t now_ms);
/* Bytes received from the link. */
void epara_dev_feed(epara_dev *d, const uint8_t *bytes, size_t n, uint32_t now_ms);
/* Run timers: retransmissions, HEARTBEAT, STATE. Call at least every 50 ms or so. */
void epara_dev_tick(epara_dev *d, uint32_t now_ms);
/* The link dropped (socket closed, BLE disconnected): forget what was in flight. */
void epara_dev_link_down(epara_dev *d);
/* Leave: send BYE (code 0 for a normal leave) if the session is up. */
void epara_dev_close(epara_dev *d, uint16_t code, const char *reason);
epara_state epara_dev_state(const epara_dev *d);
/* Register a service that is already installed (e.g. found in flash at boot), ready to serve. */
int epara_dev_add_service(epara_dev *d, const char *name, const char *version, uint8_t status);

#endif
