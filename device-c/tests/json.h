/* A minimal JSON tokenizer for the test runner (reads the JSON files in protocol/vectors); no heap. */
#ifndef EPARA_TEST_JSON_H
#define EPARA_TEST_JSON_H
#include <stddef.h>
#include <stdint.h>

typedef enum { J_OBJ, J_ARR, J_STR, J_PRIM } jtype;
typedef struct {
  jtype type;
  int start, end; /* [start, end) in the text; strings without their quotes */
  int size;       /* children: pairs for objects, items for arrays */
  int next;       /* index of the token after this one and all its children */
} jtok;

typedef struct {
  const char *text;
  jtok *tok;
  int n;
} jdoc;

/* Tokenize text[0..len) into tok (capacity cap). Returns 0 on success. */
int json_parse(jdoc *d, const char *text, size_t len, jtok *tok, int cap);
/* Value token of `key` in object token `obj`, or -1. */
int json_get(const jdoc *d, int obj, const char *key);
/* i-th element of array token `arr`, or -1. */
int json_at(const jdoc *d, int arr, int i);
/* Compare a string token with s. */
int json_eq(const jdoc *d, int t, const char *s);
/* Copy a string token into buf (NUL-terminated, no escape processing beyond \" and \\). */
void json_str(const jdoc *d, int t, char *buf, size_t cap);
long long json_int(const jdoc *d, int t);
/* Decode a hex string token into out; returns the byte count or -1. */
long json_hex(const jdoc *d, int t, uint8_t *out, size_t cap);

#endif
