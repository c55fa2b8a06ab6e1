/*
 * The validating reader of SPEC §4, in one pass over the body, like src/protocol/cbor-subset.ts
 * and a hardware parser: each head is checked for well-formedness and for the subset as it is
 * read, so the first violation in byte order decides between msg.cbor and msg.non_deterministic.
 * Recursion is bounded by EPARA_CBOR_MAX_DEPTH (a deeper head is rejected before descending), so
 * the stack use is fixed whatever the input.
 */
#include "cbor.h"
#include "error_codes.h"

typedef struct {
  const uint8_t *b;
  size_t pos;
  size_t end;
  size_t at; /* offset of the violation */
} rd;

static int malformed(rd *r, size_t at) {
  r->at = at;
  return EPARA_E_MSG_CBOR;
}

static int outside(rd *r, size_t at) {
  r->at = at;
  return EPARA_E_MSG_NON_DETERMINISTIC;
}

/* The argument of the head at head_at (its first byte already consumed), in shortest form. */
static int read_arg(rd *r, unsigned ai, size_t head_at, uint64_t *out) {
  if (ai < 24) {
    *out = ai;
    return 0;
  }
  if (ai >= 28 && ai <= 30) return malformed(r, head_at);
  if (ai == 31) return outside(r, head_at); /* indefinite length */
  unsigned n = ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : 8;
  if (r->end - r->pos < n) return malformed(r, r->pos);
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++) v = (v << 8) | r->b[r->pos + i];
  r->pos += n;
  static const uint64_t shortest_min[9] = {0, 24, 0x100, 0, 0x10000, 0, 0, 0, 0x100000000ull};
  if (v < shortest_min[n]) return outside(r, head_at);
  if (v > EPARA_CBOR_MAX_INT) return outside(r, head_at);
  *out = v;
  return 0;
}

/* RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
static int utf8_ok(const uint8_t *s, size_t n, size_t *bad) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    unsigned k;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) k = 1, cp = c & 0x1Fu, min = 0x80;
    else if ((c & 0xF0) == 0xE0) k = 2, cp = c & 0x0Fu, min = 0x800;
    else if ((c & 0xF8) == 0xF0) k = 3, cp = c & 0x07u, min = 0x10000;
    else {
      *bad = i;
      return 0;
    }
    if (i + k >= n) {
      *bad = i;
      return 0;
    }
    for (unsigned j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) {
        *bad = i;
        return 0;
      }
      cp = (cp << 6) | (s[i + j] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      *bad = i;
      return 0;
    }
    i += k + 1;
  }
  return 1;
}

unsigned epara_tag_width(uint64_t tag) {
  switch (tag) {
  case 64: case 72: return 1;
  case 69: case 77: return 2;
  case 70: case 78: case 85: return 4;
  case 79: case 86: return 8;
  default: return 0;
  }
}

static int item(rd *r, unsigned depth) {
  if (r->pos >= r->end) return malformed(r, r->pos);
  size_t head_at = r->pos;
  uint8_t ib = r->b[r->pos++];
  unsigned major = ib >> 5, ai = ib & 0x1Fu;
  uint64_t arg = 0;
  int e;
  /* RFC 8949 §3.4.2: AI 31 on an integer or a tag is not well-formed (on majors 2-5 it is an
   * indefinite length: well-formed, only outside the subset). */
  if (ai == 31 && (major <= 1 || major == 6)) return malformed(r, head_at);
  if (major != 7) {
    if ((e = read_arg(r, ai, head_at, &arg)) != 0) return e;
  }
  switch (major) {
  case 0:
    return 0;
  case 1:
    /* -1 - arg must stay within -(2^53 - 1). */
    if (arg >= EPARA_CBOR_MAX_INT) return outside(r, head_at);
    return 0;
  case 2:
  case 3: {
    if (arg > r->end - r->pos) return malformed(r, r->pos);
    if (major == 3) {
      size_t bad;
      if (!utf8_ok(r->b + r->pos, (size_t)arg, &bad)) return malformed(r, r->pos + bad);
    }
    r->pos += (size_t)arg;
    return 0;
  }
  case 4: {
    if (depth >= EPARA_CBOR_MAX_DEPTH) return outside(r, head_at);
    /* Every item takes at least one byte: a count beyond what is left is malformed at once. */
    if (arg > r->end - r->pos) return malformed(r, r->pos);
    for (uint64_t i = 0; i < arg; i++)
      if ((e = item(r, depth + 1)) != 0) return e;
    return 0;
  }
  case 5: {
    if (depth >= EPARA_CBOR_MAX_DEPTH) return outside(r, head_at);
    if (arg > (r->end - r->pos) / 2) return malformed(r, r->pos);
    int last = -1;
    for (uint64_t i = 0; i < arg; i++) {
      size_t key_at = r->pos;
      if (r->pos >= r->end) return malformed(r, r->pos);
      uint8_t kb = r->b[r->pos];
      if (kb > 23) {
        /* A key of another kind is outside the subset, but a truncated one is still msg.cbor. */
        if ((e = item(r, depth + 1)) != 0) return e;
        return outside(r, key_at);
      }
      r->pos++;
      if ((int)kb <= last) return outside(r, key_at); /* unsorted or duplicate */
      last = kb;
      if ((e = item(r, depth + 1)) != 0) return e;
    }
    return 0;
  }
  case 6: {
    unsigned width = epara_tag_width(arg);
    if (width == 0) return outside(r, head_at);
    if (depth >= EPARA_CBOR_MAX_DEPTH) return outside(r, head_at);
    size_t content_at = r->pos;
    if ((e = item(r, depth + 1)) != 0) return e;
    if ((r->b[content_at] >> 5) != 2) return outside(r, content_at);
    rd tmp = *r;
    tmp.pos = content_at + 1;
    uint64_t len = 0;
    (void)read_arg(&tmp, r->b[content_at] & 0x1Fu, content_at, &len);
    if (len % width != 0) return outside(r, content_at);
    return 0;
  }
  default: /* major 7 */
    if (ai == 20 || ai == 21) return 0;
    if (ai == 24) {
      if (r->pos >= r->end) return malformed(r, r->pos);
      uint8_t v = r->b[r->pos++];
      if (v < 32) return malformed(r, head_at);
      return outside(r, head_at);
    }
    if (ai >= 25 && ai <= 27) {
      size_t size = ai == 25 ? 2 : ai == 26 ? 4 : 8;
      if (r->end - r->pos < size) return malformed(r, r->pos);
      return outside(r, head_at); /* a float */
    }
    if (ai >= 28) return malformed(r, head_at); /* reserved, or a break outside an indefinite item */
    return outside(r, head_at);                 /* null, undefined, simple values */
  }
}

int epara_utf8_valid(const uint8_t *s, size_t n) {
  size_t bad;
  return utf8_ok(s, n, &bad);
}

int epara_cbor_check(const uint8_t *b, size_t n, size_t *at) {
  rd r = {b, 0, n, 0};
  int e = item(&r, 0);
  if (e == 0 && r.pos != n) e = malformed(&r, r.pos); /* trailing bytes */
  /*
   * SPEC §4 precedence: a malformation anywhere wins over a subset violation anywhere. The pass
   * above stops at the first problem; when that is a subset violation, the whole body is scanned
   * for well-formedness before msg.non_deterministic is reported.
   */
  if (e == EPARA_E_MSG_NON_DETERMINISTIC && epara_cbor_well_formed(b, n) == EPARA_E_MSG_CBOR) {
    e = EPARA_E_MSG_CBOR;
    r.at = 0; /* the offset of the malformation is not tracked by the scan */
  }
  if (at) *at = r.at;
  return e;
}
