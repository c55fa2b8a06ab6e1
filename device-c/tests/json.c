#include "json.h"
#include <stdlib.h>
#include <string.h>

/* Recursive descent; each token records where the next sibling starts, for quick skipping. */
typedef struct {
  const char *s;
  size_t len, pos;
  jtok *tok;
  int n, cap;
} jp;

static void ws(jp *p) {
  while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r' || p->s[p->pos] == '\t')) p->pos++;
}

static int value(jp *p);

static int new_tok(jp *p, jtype t, int start) {
  if (p->n >= p->cap) return -1;
  jtok *k = &p->tok[p->n];
  k->type = t;
  k->start = start;
  k->end = start;
  k->size = 0;
  k->next = 0;
  return p->n++;
}

static int string(jp *p) {
  p->pos++; /* opening quote */
  int i = new_tok(p, J_STR, (int)p->pos);
  if (i < 0) return -1;
  while (p->pos < p->len && p->s[p->pos] != '"') {
    if (p->s[p->pos] == '\\') p->pos++;
    p->pos++;
  }
  if (p->pos >= p->len) return -1;
  p->tok[i].end = (int)p->pos;
  p->pos++;
  p->tok[i].next = p->n;
  return 0;
}

static int value(jp *p) {
  ws(p);
  if (p->pos >= p->len) return -1;
  char c = p->s[p->pos];
  if (c == '"') return string(p);
  if (c == '{' || c == '[') {
    int i = new_tok(p, c == '{' ? J_OBJ : J_ARR, (int)p->pos);
    if (i < 0) return -1;
    char close = c == '{' ? '}' : ']';
    p->pos++;
    ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
      p->pos++;
    } else {
      for (;;) {
        if (c == '{') {
          ws(p);
          if (p->pos >= p->len || p->s[p->pos] != '"' || string(p)) return -1;
          ws(p);
          if (p->pos >= p->len || p->s[p->pos] != ':') return -1;
          p->pos++;
        }
        if (value(p)) return -1;
        p->tok[i].size++;
        ws(p);
        if (p->pos >= p->len) return -1;
        if (p->s[p->pos] == ',') {
          p->pos++;
          continue;
        }
        if (p->s[p->pos] != close) return -1;
        p->pos++;
        break;
      }
    }
    p->tok[i].end = (int)p->pos;
    p->tok[i].next = p->n;
    return 0;
  }
  int i = new_tok(p, J_PRIM, (int)p->pos);
  if (i < 0) return -1;
  while (p->pos < p->len && strchr(",}] \n\r\t", p->s[p->pos]) == NULL) p->pos++;
  p->tok[i].end = (int)p->pos;
  p->tok[i].next = p->n;
  return 0;
}

int json_parse(jdoc *d, const char *text, size_t len, jtok *tok, int cap) {
  jp p = {text, len, 0, tok, 0, cap};
  d->text = text;
  d->tok = tok;
  int e = value(&p);
  d->n = p.n;
  return e;
}

int json_eq(const jdoc *d, int t, const char *s) {
  size_t n = strlen(s);
  const jtok *k = &d->tok[t];
  return k->type == J_STR && (size_t)(k->end - k->start) == n && memcmp(d->text + k->start, s, n) == 0;
}

int json_get(const jdoc *d, int obj, const char *key) {
  if (obj < 0 || d->tok[obj].type != J_OBJ) return -1;
  int t = obj + 1;
  for (int i = 0; i < d->tok[obj].size; i++) {
    int v = d->tok[t].next;
    if (json_eq(d, t, key)) return v;
    t = d->tok[v].next;
  }
  return -1;
}

int json_at(const jdoc *d, int arr, int idx) {
  if (arr < 0 || d->tok[arr].type != J_ARR || idx >= d->tok[arr].size) return -1;
  int t = arr + 1;
  for (int i = 0; i < idx; i++) t = d->tok[t].next;
  return t;
}

void json_str(const jdoc *d, int t, char *buf, size_t cap) {
  size_t k = 0;
  if (t >= 0) {
    for (int i = d->tok[t].start; i < d->tok[t].end && k + 1 < cap; i++) {
      if (d->text[i] == '\\') i++;
      buf[k++] = d->text[i];
    }
  }
  buf[k] = 0;
}

long long json_int(const jdoc *d, int t) {
  char b[32];
  json_str(d, t, b, sizeof b);
  return strtoll(b, NULL, 10);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long json_hex(const jdoc *d, int t, uint8_t *out, size_t cap) {
  if (t < 0) return -1;
  int n = d->tok[t].end - d->tok[t].start;
  if (n % 2 || (size_t)(n / 2) > cap) return -1;
  for (int i = 0; i < n / 2; i++) {
    int a = hexval(d->text[d->tok[t].start + 2 * i]), b = hexval(d->text[d->tok[t].start + 2 * i + 1]);
    if (a < 0 || b < 0) return -1;
    out[i] = (uint8_t)(a * 16 + b);
  }
  return n / 2;
}
