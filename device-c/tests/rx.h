/* A receiver as the device runs it (COBS stream -> frame -> message checks), for the vector tests. */
#ifndef EPARA_TEST_RX_H
#define EPARA_TEST_RX_H
#include "message.h"

/* Room for every invalid vector back to back plus the frame after them (66 + 1 in spec 1.1);
 * an event past it is counted in `lost`, and the stream test fails on any, rather than reading
 * a full log as a frame the library let through. */
#define RX_MAX_EVENTS 160
typedef struct {
  int n;
  int lost;
  int code[RX_MAX_EVENTS];
  char field[RX_MAX_EVENTS][EPARA_FIELD_PATH_MAX];
  epara_header h[RX_MAX_EVENTS];
  uint8_t body[RX_MAX_EVENTS][1024];
  size_t body_len[RX_MAX_EVENTS];
  uint8_t frame[RX_MAX_EVENTS][2048];
  size_t frame_len[RX_MAX_EVENTS];
} rx_log;

/* Feed wire bytes through a fresh receiver with max_frame; every frame or rejection is logged. */
void rx_run(const uint8_t *wire, size_t n, size_t max_frame, rx_log *log);

#endif
