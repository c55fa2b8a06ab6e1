/*
 * epara-schema-dump: prints the C message catalogue (src/schema.c), one line per field, so a test
 * can hold it to the TypeScript catalogue (src/protocol/messages/catalogue.ts):
 *   protocol <min> <max>   (first line: the versions the library speaks)
 *   <MESSAGE> <path> <R|O> <kind> <min> <max> [pattern]
 * Array elements are `path[]`; the element of a range is `path[]` with kind uint.
 */
#include <stdio.h>
#include "schema.h"
#include "epara_device.h"

static const char *kind(uint8_t t) {
  static const char *const names[] = {"uint", "int", "tstr", "bstr", "bool", "array", "range", "map", "tensor"};
  return t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static void type_line(const char *msg, const char *path, int required, const epara_type *t);

static void fields(const char *msg, const char *prefix, const epara_field *f, uint8_t n) {
  for (uint8_t i = 0; i < n; i++) {
    char path[256];
    snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", f[i].name);
    type_line(msg, path, f[i].required, f[i].type);
  }
}

static void type_line(const char *msg, const char *path, int required, const epara_type *t) {
  int ranged = t->t == EPARA_S_UINT || t->t == EPARA_S_TSTR || t->t == EPARA_S_BSTR || t->t == EPARA_S_ARRAY;
  if (ranged) printf("%s %s %s %s %llu %llu%s\n", msg, path, required ? "R" : "O", kind(t->t), (unsigned long long)t->min, (unsigned long long)t->max, t->device_id ? " pattern" : "");
  else printf("%s %s %s %s - -\n", msg, path, required ? "R" : "O", kind(t->t));
  char sub[256];
  snprintf(sub, sizeof sub, "%s[]", path);
  if (t->t == EPARA_S_ARRAY || t->t == EPARA_S_RANGE) type_line(msg, sub, 1, t->of);
  if (t->t == EPARA_S_MAP) fields(msg, path, t->fields, t->nfields);
}

int main(void) {
  printf("protocol %d %d\n", EPARA_PROTOCOL_MIN, EPARA_PROTOCOL_MAX);
  for (size_t i = 0; i < epara_schema_count(); i++) {
    const epara_message_schema *m = epara_schema_at(i);
    printf("%s - type %u\n", m->name, m->type);
    fields(m->name, "", m->fields, m->nfields);
  }
  return 0;
}
