#include "message.h"
#include "error_codes.h"

static void copy_field(char *dst, const char *src) {
  size_t i = 0;
  if (src)
    for (; src[i] && i + 1 < EPARA_FIELD_PATH_MAX; i++) dst[i] = src[i];
  dst[i] = 0;
}

void epara_message_decode(const uint8_t *frame, size_t n, size_t max_frame, epara_rx *out) {
  const char *hf = 0;
  out->field[0] = 0;
  out->schema = 0;
  out->body = 0;
  out->body_len = 0;
  out->cbor_at = 0;
  out->code = epara_frame_parse(frame, n, max_frame, &out->h, &hf);
  out->header_ok = out->code == 0 || out->code == EPARA_E_FRAME_VERSION || out->code == EPARA_E_FRAME_HEADER;
  if (out->code) {
    copy_field(out->field, hf);
    return;
  }
  out->schema = epara_schema_for(out->h.type);
  if (!out->schema) {
    out->code = EPARA_E_MSG_UNKNOWN_TYPE;
    return;
  }
  out->body = frame + EPARA_HEADER_SIZE;
  out->body_len = out->h.len;
  out->code = epara_cbor_check(out->body, out->body_len, &out->cbor_at);
  if (out->code) return;
  out->code = epara_schema_check(out->schema, out->body, out->body_len, out->field);
}
