/*
 * epara-decode: runs frames through the library's receive checks and prints the verdict, for the
 * differential test against the TypeScript codec (test/device-c/decoder-agrees-with-typescript).
 * stdin: one frame per line, as hex (unencoded: header, body, CRC). stdout: one line per frame,
 * "<code> <field>" (code 0 and "-" when the frame is accepted, "-" when there is no field).
 */
#include <stdio.h>
#include <string.h>
#include "message.h"

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int main(void) {
  static char line[300000];
  static uint8_t frame[150000];
  while (fgets(line, sizeof line, stdin)) {
    size_t n = 0;
    for (size_t i = 0; line[i] && line[i + 1] && hexval(line[i]) >= 0 && hexval(line[i + 1]) >= 0 && n < sizeof frame; i += 2)
      frame[n++] = (uint8_t)(hexval(line[i]) * 16 + hexval(line[i + 1]));
    epara_rx rx;
    epara_message_decode(frame, n, 65535, &rx);
    printf("%d %s\n", rx.code, rx.field[0] ? rx.field : "-");
  }
  return 0;
}
