/* What device.c shares with the per-message-family files (handshake.c, deploy.c, infer.c, state.c). */
#ifndef EPARA_DEVICE_INTERNAL_H
#define EPARA_DEVICE_INTERNAL_H
#include "epara_device.h"
#include "encode.h"

/* The request being answered: its header, and its checked body. */
typedef struct {
  const epara_header *h;
  epara_item body;
} epara_req;

/* Start a response to `r` in a response-cache slot; send it with epara__respond. */
void epara__rsp_begin(epara_dev *d, epara_cw *w);
void epara__respond(epara_dev *d, const epara_req *r, uint8_t type, epara_cw *w);
void epara__respond_error(epara_dev *d, const epara_req *r, uint16_t code, const char *reason, const char *field);
/* A notification (STATE, BYE, DEPLOY_RESULT): built in its own buffer. */
void epara__ntf_begin(epara_dev *d, epara_cw *w);
void epara__notify(epara_dev *d, uint8_t type, epara_cw *w);
/* A request of ours (HELLO, AUTH, HEARTBEAT), kept until answered and retransmitted on timeout. */
void epara__req_begin(epara_dev *d, epara_cw *w);
void epara__request(epara_dev *d, uint8_t type, epara_cw *w);
void epara__event(epara_dev *d, epara_event ev, int code);

/* handshake.c */
void epara__send_hello(epara_dev *d);
void epara__on_challenge(epara_dev *d, epara_item body);
void epara__on_welcome(epara_dev *d, epara_item body);
/* deploy.c */
void epara__on_deploy_offer(epara_dev *d, const epara_req *r);
void epara__on_deploy_chunk(epara_dev *d, const epara_req *r);
void epara__on_deploy_commit(epara_dev *d, const epara_req *r);
/* infer.c */
void epara__on_infer(epara_dev *d, const epara_req *r);
void epara__on_placement(epara_dev *d, const epara_req *r);
/* state.c */
void epara__send_state(epara_dev *d);
epara_service *epara__service(epara_dev *d, const char *name, size_t n, int create);

/* Small helpers over checked bodies. */
uint64_t epara__get_uint(epara_item map, unsigned key, uint64_t dflt);
/* Copy a text field into dst (capacity cap incl. NUL); 0 when absent or too long. */
int epara__get_text(epara_item map, unsigned key, char *dst, size_t cap);
const uint8_t *epara__get_bytes(epara_item map, unsigned key, size_t *len);
size_t epara__strlen(const char *s);
void epara__copy(uint8_t *dst, const uint8_t *src, size_t n);

#endif
