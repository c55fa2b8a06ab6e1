/* CRC-32C and COBS against protocol/vectors/crc.json and cobs.json, plus the streaming decoder's edges. */
#include <string.h>
#include "test.h"
#include "json.h"
#include "cobs.h"
#include "crc32c.h"

static char text[1 << 20];
static jtok toks[1 << 16];
static uint8_t a[4096], b[4096], c[4096];

static int load(const char *name, jdoc *d) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", t_vectors, name);
  long n = read_file(path, text, sizeof text);
  CHECK(n > 0, "read %s", path);
  if (n <= 0) return -1;
  int e = json_parse(d, text, (size_t)n, toks, (int)(sizeof toks / sizeof toks[0]));
  CHECK(e == 0, "parse %s", path);
  return e ? -1 : json_get(d, 0, "vectors");
}

void test_codec_vectors(void) {
  jdoc d;
  char name[128];
  int vs = load("crc.json", &d);
  CHECK(vs >= 0 && d.tok[vs].size > 0, "crc vectors present");
  for (int i = 0; vs >= 0 && i < d.tok[vs].size; i++) {
    int v = json_at(&d, vs, i);
    json_str(&d, json_get(&d, v, "name"), name, sizeof name);
    long n = json_hex(&d, json_get(&d, v, "data_hex"), a, sizeof a);
    long long want = json_int(&d, json_get(&d, v, "crc32c"));
    CHECK(n >= 0 && epara_crc32c(a, (size_t)n) == (uint32_t)want, "crc %s", name);
  }
  CHECK(epara_crc32c((const uint8_t *)"123456789", 9) == 0xE3069283u, "check value");

  vs = load("cobs.json", &d);
  CHECK(vs >= 0 && d.tok[vs].size > 0, "cobs vectors present");
  for (int i = 0; vs >= 0 && i < d.tok[vs].size; i++) {
    int v = json_at(&d, vs, i);
    json_str(&d, json_get(&d, v, "name"), name, sizeof name);
    long dn = json_hex(&d, json_get(&d, v, "decoded_hex"), a, sizeof a);
    long en = json_hex(&d, json_get(&d, v, "encoded_hex"), b, sizeof b);
    size_t got = epara_cobs_encode(a, (size_t)dn, c, sizeof c);
    CHECK(bytes_eq(c, got, b, (size_t)en), "cobs encode %s", name);
    /* decode the wire form (encoded + delimiter) with the streaming decoder */
    epara_cobs_dec dec;
    uint8_t out[4096];
    epara_cobs_dec_init(&dec, out, sizeof out);
    epara_cobs_status st = EPARA_COBS_MORE;
    for (long k = 0; k < en; k++) st = epara_cobs_dec_byte(&dec, b[k]);
    CHECK(st == EPARA_COBS_MORE, "no early end %s", name);
    st = epara_cobs_dec_byte(&dec, 0);
    CHECK(st == EPARA_COBS_FRAME && bytes_eq(out, dec.len, a, (size_t)dn), "cobs decode %s (status %d)", name, st);
  }

  /* SPEC §3: a superfluous 01 after a final 0xFF block decodes to nothing. */
  {
    uint8_t run[256], out[300];
    for (int i = 0; i < 254; i++) run[i] = (uint8_t)(i % 255 + 1);
    size_t n = epara_cobs_encode(run, 254, c, sizeof c);
    c[n++] = 0x01;
    epara_cobs_dec dec;
    epara_cobs_dec_init(&dec, out, sizeof out);
    epara_cobs_status st = EPARA_COBS_MORE;
    for (size_t k = 0; k < n; k++) st = epara_cobs_dec_byte(&dec, c[k]);
    st = epara_cobs_dec_byte(&dec, 0);
    CHECK(st == EPARA_COBS_FRAME && bytes_eq(out, dec.len, run, 254), "superfluous 01 accepted");
  }
  /* Two delimiters in a row are an empty piece, ignored. */
  {
    epara_cobs_dec dec;
    uint8_t out[16];
    epara_cobs_dec_init(&dec, out, sizeof out);
    CHECK(epara_cobs_dec_byte(&dec, 0) == EPARA_COBS_EMPTY, "empty piece");
  }
  /* A piece longer than the limit is reported once and never buffered past cap. */
  {
    epara_cobs_dec dec;
    uint8_t out[64];
    epara_cobs_dec_init(&dec, out, sizeof out);
    int reports = 0;
    for (int k = 0; k < 1000; k++)
      if (epara_cobs_dec_byte(&dec, 0x11) == EPARA_COBS_DISCARDING) reports++;
    CHECK(reports == 1, "discard reported once (%d)", reports);
    CHECK(epara_cobs_dec_byte(&dec, 0) == EPARA_COBS_MORE, "delimiter ends the discarded piece silently");
    CHECK(epara_cobs_dec_byte(&dec, 0) == EPARA_COBS_EMPTY, "resynchronised");
  }
}
