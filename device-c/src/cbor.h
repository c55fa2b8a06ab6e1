/*
 * The deterministic CBOR subset of SPEC §4: a writer that can only produce it, a validating
 * checker that gives the spec's error code (msg.cbor / msg.non_deterministic), and zero-copy
 * accessors that read an already checked body in place.
 */
#ifndef EPARA_CBOR_H
#define EPARA_CBOR_H
#include <stddef.h>
#include <stdint.h>

#define EPARA_CBOR_MAX_DEPTH 8
/* Integers and lengths are at most 2^53 - 1 (exact in a double, SPEC §4). */
#define EPARA_CBOR_MAX_INT 0x1FFFFFFFFFFFFFull

/* ---- writer ---------------------------------------------------------------------------- */

typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t pos;
  int overflow; /* set when a write did not fit; everything after it is dropped */
} epara_cw;

void epara_cw_init(epara_cw *w, uint8_t *buf, size_t cap);
void epara_cw_head(epara_cw *w, uint8_t major, uint64_t arg); /* shortest form */
void epara_cw_uint(epara_cw *w, uint64_t v);
void epara_cw_int(epara_cw *w, int64_t v);
void epara_cw_bool(epara_cw *w, int v);
void epara_cw_bytes(epara_cw *w, const uint8_t *b, size_t n);
void epara_cw_text(epara_cw *w, const char *s, size_t n);
void epara_cw_cstr(epara_cw *w, const char *s); /* NUL-terminated text */
/* Map head for `n` pairs; keys are written with epara_cw_uint in increasing order by the caller. */
void epara_cw_map(epara_cw *w, size_t n);
void epara_cw_array(epara_cw *w, size_t n);
/* Reserve a one-byte map head (n <= 23) and fill it in later, when the count is known. */
size_t epara_cw_map_begin(epara_cw *w);
void epara_cw_map_end(epara_cw *w, size_t at, unsigned count);

/* ---- checker --------------------------------------------------------------------------- */

/*
 * Checks that b[0..n) is exactly one data item in the subset. Returns 0, EPARA_E_MSG_CBOR or
 * EPARA_E_MSG_NON_DETERMINISTIC, with the byte offset of the offending head in *at.
 */
int epara_cbor_check(const uint8_t *b, size_t n, size_t *at);

/*
 * Stage (a) alone: 0 when b[0..n) is one well-formed RFC 8949 item with valid UTF-8 text and no
 * trailing bytes, else EPARA_E_MSG_CBOR (EPARA_E_MSG_NON_DETERMINISTIC only past its frame budget,
 * see cbor_wellformed.c).
 */
int epara_cbor_well_formed(const uint8_t *b, size_t n);
/* RFC 3629 UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
int epara_utf8_valid(const uint8_t *s, size_t n);

/* Element width of an allowed RFC 8746 typed-array tag (SPEC §4.1), 0 for any other tag. */
unsigned epara_tag_width(uint64_t tag);

/* ---- reader (only on checked bodies) ---------------------------------------------------- */

typedef struct {
  const uint8_t *p; /* the item's head */
} epara_item;

uint8_t epara_item_major(epara_item it);
/* The head's argument (value, length or count), and where the content starts. */
uint64_t epara_item_arg(epara_item it, const uint8_t **content);
/* The next item after `it` (skipping its content). */
epara_item epara_item_next(epara_item it);
/* Map lookup by key 0..23: found -> 1 and *out is the value. */
int epara_map_get(epara_item map, unsigned key, epara_item *out);
/* Array element i (0-based) of an array item; the caller knows i < count. */
epara_item epara_array_at(epara_item arr, size_t i);
/* Byte or text string content: returns the pointer and stores the length. */
const uint8_t *epara_item_str(epara_item it, size_t *len);
/* Major 7 boolean: 1 true, 0 false. */
int epara_item_bool(epara_item it);
/* 1 when the item is a tag head (major 6); the tag number in *tag and the enclosed item in *inner. */
int epara_item_tag(epara_item it, uint64_t *tag, epara_item *inner);

#endif
