/*
 * The message catalogue of SPEC §5 as data (the same table as src/protocol/messages/catalogue.ts):
 * for every type its fields' keys, names, types and presence, and the walker that checks a body
 * against it, naming the offending field like the TypeScript codec (`caps.memoryKiB`,
 * `inputs[0].data`).
 */
#ifndef EPARA_SCHEMA_H
#define EPARA_SCHEMA_H
#include <stddef.h>
#include <stdint.h>
#include "cbor.h"

enum {
  EPARA_T_HELLO = 0x01, EPARA_T_CHALLENGE = 0x02, EPARA_T_AUTH = 0x03, EPARA_T_WELCOME = 0x04,
  EPARA_T_BYE = 0x05, EPARA_T_PING = 0x06, EPARA_T_PONG = 0x07, EPARA_T_HEARTBEAT = 0x08,
  EPARA_T_HEARTBEAT_ACK = 0x09, EPARA_T_STATE = 0x0A, EPARA_T_ERROR = 0x0B,
  EPARA_T_PLACEMENT = 0x10, EPARA_T_PLACEMENT_ACK = 0x11,
  EPARA_T_DEPLOY_OFFER = 0x20, EPARA_T_DEPLOY_ACCEPT = 0x21, EPARA_T_DEPLOY_CHUNK = 0x22,
  EPARA_T_DEPLOY_CHUNK_ACK = 0x23, EPARA_T_DEPLOY_COMMIT = 0x24, EPARA_T_DEPLOY_RESULT = 0x25,
  EPARA_T_INFER_REQUEST = 0x30, EPARA_T_INFER_RESPONSE = 0x31, EPARA_T_INFER_CANCEL = 0x32
};

typedef enum { EPARA_S_UINT, EPARA_S_INT, EPARA_S_TSTR, EPARA_S_BSTR, EPARA_S_BOOL, EPARA_S_ARRAY,
               EPARA_S_RANGE, EPARA_S_MAP, EPARA_S_TENSOR } epara_stype;

struct epara_field;
typedef struct epara_type {
  uint8_t t;        /* epara_stype */
  uint8_t device_id; /* tstr: the deviceId pattern [A-Za-z0-9._-] */
  uint64_t min, max; /* uint: value; tstr/bstr: bytes; array: items */
  const struct epara_type *of;        /* array element, range element */
  const struct epara_field *fields;   /* map */
  uint8_t nfields;
} epara_type;

typedef struct epara_field {
  uint8_t key;
  uint8_t required;
  const char *name;
  const epara_type *type;
} epara_field;

typedef struct {
  uint8_t type;
  const char *name;
  const epara_field *fields;
  uint8_t nfields;
} epara_message_schema;

#define EPARA_FIELD_PATH_MAX 64
#define EPARA_TENSOR_NAME_MAX 128 /* UTF-8 bytes (SPEC §4.1) */

/* The schema of a message type, NULL when the type is not defined (msg.unknown_type). */
const epara_message_schema *epara_schema_for(uint8_t type);
/* All schemas, for tests that compare the table with the TypeScript catalogue. */
const epara_message_schema *epara_schema_at(size_t i);
size_t epara_schema_count(void);

/* 1 for the request types (RSP clear, expects an answer), per SPEC §5's kind column. */
int epara_is_request_type(uint8_t type);

/*
 * Check a body already accepted by epara_cbor_check against the schema. Returns 0 or
 * EPARA_E_MSG_SCHEMA with the field path in `field` (empty when the body itself is not a map).
 */
int epara_schema_check(const epara_message_schema *s, const uint8_t *body, size_t n, char field[EPARA_FIELD_PATH_MAX]);

#endif
