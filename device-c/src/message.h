/*
 * One received frame through every check of SPEC §3/§4/§5, in the spec's order: frame layer,
 * message type, CBOR subset, schema. What a receiver needs to answer (or not) comes back with it.
 */
#ifndef EPARA_MESSAGE_H
#define EPARA_MESSAGE_H
#include "frame.h"
#include "schema.h"

typedef struct {
  int code;              /* 0, or the wire error code */
  int header_ok;         /* the CRC held: `h` can be trusted (an ERROR can be correlated) */
  epara_header h;
  const uint8_t *body;   /* valid when code is 0 or a msg.* error */
  size_t body_len;
  const epara_message_schema *schema;
  size_t cbor_at;        /* body offset of a msg.cbor / msg.non_deterministic violation */
  char field[EPARA_FIELD_PATH_MAX]; /* offending field for msg.schema and frame.header */
} epara_rx;

void epara_message_decode(const uint8_t *frame, size_t n, size_t max_frame, epara_rx *out);

#endif
