#include <string.h>
#include "rx.h"
#include "cobs.h"
#include "error_codes.h"

static uint8_t buf[65536];

static void add(rx_log *log, int code, const char *field) {
  if (log->n >= RX_MAX_EVENTS) {
    log->lost++;
    return;
  }
  log->code[log->n] = code;
  strncpy(log->field[log->n], field ? field : "", EPARA_FIELD_PATH_MAX - 1);
  log->field[log->n][EPARA_FIELD_PATH_MAX - 1] = 0;
  log->n++;
}

void rx_run(const uint8_t *wire, size_t n, size_t max_frame, rx_log *log) {
  epara_cobs_dec d;
  memset(log, 0, sizeof *log);
  epara_cobs_dec_init(&d, buf, max_frame);
  for (size_t i = 0; i < n; i++) {
    epara_cobs_status st = epara_cobs_dec_byte(&d, wire[i]);
    if (st == EPARA_COBS_BAD) add(log, EPARA_E_FRAME_COBS, 0);
    else if (st == EPARA_COBS_TOO_LONG || st == EPARA_COBS_DISCARDING) add(log, EPARA_E_FRAME_OVERSIZE, 0);
    else if (st == EPARA_COBS_FRAME) {
      epara_rx rx;
      epara_message_decode(buf, d.len, max_frame, &rx);
      int k = log->n;
      add(log, rx.code, rx.field);
      if (k < RX_MAX_EVENTS) {
        log->h[k] = rx.h;
        if (d.len <= sizeof log->frame[k]) memcpy(log->frame[k], buf, d.len), log->frame_len[k] = d.len;
        if (rx.body && rx.body_len <= sizeof log->body[k]) memcpy(log->body[k], rx.body, rx.body_len), log->body_len[k] = rx.body_len;
      }
    }
  }
}
