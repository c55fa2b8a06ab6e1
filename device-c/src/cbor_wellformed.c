/*
 * RFC 8949 well-formedness of a whole body (Appendix C), plus valid UTF-8 in every text string
 * and exactly one item with no trailing bytes: stage (a) of SPEC §4's precedence rule. It runs
 * only when the subset checker stopped at a subset violation, to learn whether a malformation
 * anywhere in the body makes it msg.cbor instead (the same split as src/protocol/cbor-well-formed.ts).
 *
 * No recursion and no heap: definite-length containers do not need a stack, only a count of the
 * items still owed (an array of n adds n, a map 2n, a tag 1; each head pays one). Only an
 * indefinite-length container needs a frame of its own, holding the count owed inside it and,
 * for a map, the parity of its direct children. EPARA_CBOR_WF_FRAMES frames are kept; a body
 * nesting more indefinite-length items than that (never one this protocol sends) is still
 * scanned for every malformation a head or a string shows by itself, and is 112 when none is found.
 */
#include "cbor.h"
#include "error_codes.h"

#ifndef EPARA_CBOR_WF_FRAMES
#define EPARA_CBOR_WF_FRAMES 24
#endif

enum { F_ROOT, F_ARRAY, F_MAP, F_BYTES, F_TEXT };

typedef struct {
  uint32_t owed;   /* items still owed by definite containers opened in this frame */
  uint8_t kind;
  uint8_t odd;     /* F_MAP: an odd number of direct children so far (a key without its value) */
} wf_frame;

/* Heads and strings only, for a body past the frame budget: local malformations. */
static int local_scan(const uint8_t *b, size_t p, size_t end) {
  while (p < end) {
    uint8_t ib = b[p++];
    unsigned major = ib >> 5, ai = ib & 0x1Fu;
    if (ai >= 28 && ai <= 30) return EPARA_E_MSG_CBOR;
    if (ai == 31) {
      if (major <= 1 || major == 6) return EPARA_E_MSG_CBOR;
      continue;
    }
    uint64_t arg = ai;
    if (ai >= 24) {
      size_t size = (size_t)1 << (ai - 24);
      if (size > end - p) return EPARA_E_MSG_CBOR;
      arg = 0;
      for (size_t i = 0; i < size; i++) arg = (arg << 8) | b[p + i];
      p += size;
    }
    if (major == 7 && ai == 24 && arg < 32) return EPARA_E_MSG_CBOR;
    if (major == 2 || major == 3) {
      if (arg > end - p) return EPARA_E_MSG_CBOR;
      if (major == 3 && !epara_utf8_valid(b + p, (size_t)arg)) return EPARA_E_MSG_CBOR;
      p += (size_t)arg;
    }
  }
  return EPARA_E_MSG_NON_DETERMINISTIC;
}

int epara_cbor_well_formed(const uint8_t *b, size_t n) {
  wf_frame st[EPARA_CBOR_WF_FRAMES];
  int top = 0;
  size_t p = 0;
  st[0].owed = 1, st[0].kind = F_ROOT, st[0].odd = 0;
  while (top > 0 || st[0].owed > 0) {
    if (p >= n) return EPARA_E_MSG_CBOR; /* truncated: an item or a break is due */
    uint8_t ib = b[p++];
    unsigned major = ib >> 5, ai = ib & 0x1Fu;
    wf_frame *f = &st[top];
    int in_string = f->kind == F_BYTES || f->kind == F_TEXT;
    if (ib == 0xFF) {
      /* a break closes the innermost indefinite item, and only when nothing is owed inside it */
      if (f->kind == F_ROOT || f->owed != 0 || f->odd) return EPARA_E_MSG_CBOR;
      top--;
      continue;
    }
    if (in_string && (major != (f->kind == F_BYTES ? 2u : 3u) || ai == 31)) return EPARA_E_MSG_CBOR;
    /* this head fills a slot owed by a definite container, or is a direct child of an indefinite one */
    if (f->owed > 0) f->owed--;
    else if (f->kind == F_MAP) f->odd ^= 1;
    if (ai == 31) {
      if (major <= 1 || major == 6 || major == 7) return EPARA_E_MSG_CBOR;
      if (top + 1 >= EPARA_CBOR_WF_FRAMES) return local_scan(b, p, n);
      top++;
      st[top].owed = 0, st[top].odd = 0;
      st[top].kind = major == 2 ? F_BYTES : major == 3 ? F_TEXT : major == 4 ? F_ARRAY : F_MAP;
      continue;
    }
    if (ai >= 28) return EPARA_E_MSG_CBOR;
    uint64_t arg = ai;
    if (ai >= 24) {
      size_t size = (size_t)1 << (ai - 24);
      if (size > n - p) return EPARA_E_MSG_CBOR;
      arg = 0;
      for (size_t i = 0; i < size; i++) arg = (arg << 8) | b[p + i];
      p += size;
    }
    switch (major) {
    case 2:
    case 3:
      if (arg > n - p) return EPARA_E_MSG_CBOR;
      if (major == 3 && !epara_utf8_valid(b + p, (size_t)arg)) return EPARA_E_MSG_CBOR;
      p += (size_t)arg;
      break;
    case 4:
    case 5: {
      /* every owed item takes at least one byte: more than what is left cannot be well-formed */
      uint64_t items = major == 5 ? 2 * arg : arg;
      if (arg > n || items > n - p || f->owed + items > n - p) return EPARA_E_MSG_CBOR;
      f->owed += (uint32_t)items;
      break;
    }
    case 6:
      if (f->owed + 1 > n - p) return EPARA_E_MSG_CBOR;
      f->owed += 1;
      break;
    case 7:
      if (ai == 24 && arg < 32) return EPARA_E_MSG_CBOR;
      break;
    default:
      break; /* integers: the head is the whole item */
    }
  }
  return p == n ? 0 : EPARA_E_MSG_CBOR; /* trailing bytes */
}
