/* The CBOR writer: every head in its shortest form, definite lengths only (SPEC §4). */
#include "cbor.h"

void epara_cw_init(epara_cw *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->pos = 0;
  w->overflow = 0;
}

static int room(epara_cw *w, size_t n) {
  if (w->overflow || n > w->cap - w->pos) {
    w->overflow = 1;
    return 0;
  }
  return 1;
}

void epara_cw_head(epara_cw *w, uint8_t major, uint64_t arg) {
  uint8_t mt = (uint8_t)(major << 5);
  unsigned extra = arg < 24 ? 0 : arg <= 0xFF ? 1 : arg <= 0xFFFF ? 2 : arg <= 0xFFFFFFFFu ? 4 : 8;
  if (!room(w, 1 + extra)) return;
  uint8_t *b = w->buf + w->pos;
  switch (extra) {
  case 0: b[0] = (uint8_t)(mt | arg); break;
  case 1: b[0] = mt | 24; break;
  case 2: b[0] = mt | 25; break;
  case 4: b[0] = mt | 26; break;
  default: b[0] = mt | 27; break;
  }
  for (unsigned i = 0; i < extra; i++) b[1 + i] = (uint8_t)(arg >> (8 * (extra - 1 - i)));
  w->pos += 1 + extra;
}

void epara_cw_uint(epara_cw *w, uint64_t v) { epara_cw_head(w, 0, v); }

void epara_cw_int(epara_cw *w, int64_t v) {
  if (v >= 0) epara_cw_head(w, 0, (uint64_t)v);
  else epara_cw_head(w, 1, (uint64_t)(-(v + 1)));
}

void epara_cw_bool(epara_cw *w, int v) {
  if (!room(w, 1)) return;
  w->buf[w->pos++] = v ? 0xF5 : 0xF4;
}

static void raw(epara_cw *w, const uint8_t *b, size_t n) {
  if (!room(w, n)) return;
  for (size_t i = 0; i < n; i++) w->buf[w->pos + i] = b[i];
  w->pos += n;
}

void epara_cw_bytes(epara_cw *w, const uint8_t *b, size_t n) {
  epara_cw_head(w, 2, n);
  raw(w, b, n);
}

void epara_cw_text(epara_cw *w, const char *s, size_t n) {
  epara_cw_head(w, 3, n);
  raw(w, (const uint8_t *)s, n);
}

void epara_cw_cstr(epara_cw *w, const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  epara_cw_text(w, s, n);
}

void epara_cw_map(epara_cw *w, size_t n) { epara_cw_head(w, 5, n); }
void epara_cw_array(epara_cw *w, size_t n) { epara_cw_head(w, 4, n); }

size_t epara_cw_map_begin(epara_cw *w) {
  size_t at = w->pos;
  if (room(w, 1)) w->buf[w->pos++] = 0xA0;
  return at;
}

void epara_cw_map_end(epara_cw *w, size_t at, unsigned count) {
  if (!w->overflow && count <= 23) w->buf[at] = (uint8_t)(0xA0 | count);
}
