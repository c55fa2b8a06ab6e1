/*
 * Every valid vector decodes to its header and body with no error; every invalid vector is
 * rejected exactly once with its expected code (and field); and a stream of all the invalid
 * vectors still lets the valid frame after them through (SPEC §3 resynchronisation).
 */
#include <string.h>
#include "test.h"
#include "json.h"
#include "rx.h"
#include "error_codes.h"

static char text[1 << 20];
static jtok toks[1 << 16];
static uint8_t wire[8192], frame[4096], body[4096], stream[1 << 16];
static rx_log log_;

static int load(const char *name, jdoc *d) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", t_vectors, name);
  long n = read_file(path, text, sizeof text);
  CHECK(n > 0, "read %s", path);
  if (n <= 0 || json_parse(d, text, (size_t)n, toks, (int)(sizeof toks / sizeof toks[0]))) return -1;
  return json_get(d, 0, "vectors");
}

void test_message_vectors(void) {
  jdoc d;
  char name[128], field[128];
  int vs = load("valid.json", &d);
  int nvalid = vs >= 0 ? d.tok[vs].size : 0;
  CHECK(nvalid >= 37, "valid vectors present (%d)", nvalid);
  uint8_t heartbeat_wire[64];
  size_t heartbeat_len = 0;
  for (int i = 0; i < nvalid; i++) {
    int v = json_at(&d, vs, i);
    json_str(&d, json_get(&d, v, "name"), name, sizeof name);
    long wn = json_hex(&d, json_get(&d, v, "wire_hex"), wire, sizeof wire);
    long fn = json_hex(&d, json_get(&d, v, "frame_hex"), frame, sizeof frame);
    long bn = json_hex(&d, json_get(&d, v, "body_hex"), body, sizeof body);
    int h = json_get(&d, v, "header");
    rx_run(wire, (size_t)wn, 65535, &log_);
    CHECK(log_.n == 1 && log_.code[0] == 0, "%s decodes (events %d, code %d, field %s)", name, log_.n, log_.code[0], log_.field[0]);
    if (log_.n != 1) continue;
    CHECK(bytes_eq(log_.frame[0], log_.frame_len[0], frame, (size_t)fn), "%s frame bytes", name);
    CHECK(bytes_eq(log_.body[0], log_.body_len[0], body, (size_t)bn), "%s body bytes", name);
    CHECK(log_.h[0].version == json_int(&d, json_get(&d, h, "version")) && log_.h[0].type == json_int(&d, json_get(&d, h, "type")) &&
              log_.h[0].flags == json_int(&d, json_get(&d, h, "flags")) && log_.h[0].seq == json_int(&d, json_get(&d, h, "seq")) &&
              log_.h[0].corr == json_int(&d, json_get(&d, h, "corr")),
          "%s header", name);
    if (strcmp(name, "heartbeat") == 0) memcpy(heartbeat_wire, wire, (size_t)wn), heartbeat_len = (size_t)wn;
  }

  vs = load("invalid.json", &d);
  int ninvalid = vs >= 0 ? d.tok[vs].size : 0;
  CHECK(ninvalid >= 45, "invalid vectors present (%d)", ninvalid);
  size_t sn = 0;
  int in_stream = 0;
  for (int i = 0; i < ninvalid; i++) {
    int v = json_at(&d, vs, i);
    json_str(&d, json_get(&d, v, "name"), name, sizeof name);
    long wn = json_hex(&d, json_get(&d, v, "wire_hex"), wire, sizeof wire);
    long long max_frame = json_int(&d, json_get(&d, v, "max_frame"));
    long long want = json_int(&d, json_get(&d, v, "expect_wire"));
    int ft = json_get(&d, v, "field");
    json_str(&d, ft, field, sizeof field);
    rx_run(wire, (size_t)wn, (size_t)max_frame, &log_);
    CHECK(log_.n == 1 && log_.code[0] == want, "%s: want %lld (%s), got %d events, first code %d", name, want, epara_err_name((int)want), log_.n,
          log_.n ? log_.code[0] : 0);
    if (ft >= 0 && log_.n == 1) CHECK(strcmp(log_.field[0], field) == 0, "%s: field want %s got %s", name, field, log_.field[0]);
    if (max_frame == 512 && sn + (size_t)wn < sizeof stream) {
      memcpy(stream + sn, wire, (size_t)wn);
      sn += (size_t)wn;
      in_stream++;
    }
  }
  /* all of them back to back, then a good HEARTBEAT: it must still get through */
  memcpy(stream + sn, heartbeat_wire, heartbeat_len);
  sn += heartbeat_len;
  rx_run(stream, sn, 512, &log_);
  CHECK(log_.n == in_stream + 1, "stream: %d events for %d invalid + 1 valid", log_.n, in_stream);
  int rejected = 0;
  for (int k = 0; k < log_.n - 1; k++) rejected += log_.code[k] != 0;
  CHECK(rejected == in_stream, "stream: every invalid frame rejected (%d of %d)", rejected, in_stream);
  CHECK(log_.n > 0 && log_.code[log_.n - 1] == 0 && log_.h[log_.n - 1].type == 0x08, "stream: the heartbeat after them decodes");
}
