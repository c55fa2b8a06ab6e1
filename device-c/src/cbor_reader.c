/*
 * Zero-copy accessors over a body that epara_cbor_check accepted: every head is then known to be
 * in shortest form and in bounds, so they read without re-checking.
 */
#include "cbor.h"

uint8_t epara_item_major(epara_item it) { return (uint8_t)(it.p[0] >> 5); }

uint64_t epara_item_arg(epara_item it, const uint8_t **content) {
  unsigned ai = it.p[0] & 0x1Fu;
  const uint8_t *p = it.p + 1;
  uint64_t v;
  if (ai < 24) v = ai;
  else {
    unsigned n = ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : 8;
    v = 0;
    for (unsigned i = 0; i < n; i++) v = (v << 8) | p[i];
    p += n;
  }
  if (content) *content = p;
  return v;
}

epara_item epara_item_next(epara_item it) {
  const uint8_t *c;
  uint8_t major = epara_item_major(it);
  if (major == 7) {
    epara_item n = {it.p + 1};
    return n; /* false / true: the only simple values the checker lets through */
  }
  uint64_t arg = epara_item_arg(it, &c);
  epara_item x = {c};
  switch (major) {
  case 2:
  case 3: x.p = c + arg; return x;
  case 4:
    for (uint64_t i = 0; i < arg; i++) x = epara_item_next(x);
    return x;
  case 5:
    for (uint64_t i = 0; i < 2 * arg; i++) x = epara_item_next(x);
    return x;
  case 6: return epara_item_next(x);
  default: return x; /* 0, 1: the head is the whole item */
  }
}

int epara_map_get(epara_item map, unsigned key, epara_item *out) {
  if (epara_item_major(map) != 5) return 0;
  const uint8_t *c;
  uint64_t n = epara_item_arg(map, &c);
  epara_item k = {c};
  for (uint64_t i = 0; i < n; i++) {
    epara_item v = {k.p + 1};
    if (k.p[0] > 23) v = epara_item_next(k); /* keys of another kind are rejected earlier; skip anyway */
    else if (k.p[0] == key) {
      *out = v;
      return 1;
    } else if (k.p[0] > key) return 0; /* sorted: it is not there */
    k = epara_item_next(v);
  }
  return 0;
}

epara_item epara_array_at(epara_item arr, size_t i) {
  const uint8_t *c;
  (void)epara_item_arg(arr, &c);
  epara_item x = {c};
  while (i--) x = epara_item_next(x);
  return x;
}

const uint8_t *epara_item_str(epara_item it, size_t *len) {
  const uint8_t *c;
  *len = (size_t)epara_item_arg(it, &c);
  return c;
}

int epara_item_bool(epara_item it) { return it.p[0] == 0xF5; }

int epara_item_tag(epara_item it, uint64_t *tag, epara_item *inner) {
  if (epara_item_major(it) != 6) return 0;
  const uint8_t *c;
  *tag = epara_item_arg(it, &c);
  inner->p = c;
  return 1;
}
