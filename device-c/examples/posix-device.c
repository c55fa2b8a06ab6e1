/*
 * posix-device: the epara C device library on a POSIX host, speaking over TCP or a serial line
 * (a tty, or a pty from socat) exactly as a microcontroller would over its UART.
 *
 *   posix-device --id mcu-01 --key-file mcu-01.key --tcp 127.0.0.1:7878 --data-dir /tmp/mcu-01
 *   posix-device --id mcu-01 --key 00112233... --serial /dev/pts/7 --baud 115200 --data-dir DIR
 *
 * It serves `int8-fc-weights` artifacts (the Basys 3 kernel's layout: 16 inputs, 4 outputs,
 * OUT*IN int8 weights row-major then OUT int32 LE biases) through the library's INFER callback:
 * one int8 tensor of 16 elements in; `scores` int32 [4] (post-ReLU, wrapping) and `class`
 * uint8 [1] out, bit-exact with firmware-sims/fpga/int8-fc-model.ts.
 *
 * Artifacts and partial transfers are kept in --data-dir (written and fsync'd before a chunk is
 * acknowledged), so a transfer resumes after a dropped link or a restart, and deployed models
 * are served again after a restart. The key is read once and never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "epara_device.h"

#define IN 16
#define OUT 4
#define ARTIFACT_SIZE (OUT * IN + 4 * OUT)
#define MAX_FRAME 512
#define WINDOW 4

typedef struct {
  int used;
  char name[EPARA_SERVICE_MAX + 1];
  char version[EPARA_VERSION_MAX + 1];
  int8_t w[OUT * IN];
  int32_t b[OUT];
} model;

static struct {
  const char *id, *tcp, *serial, *dir;
  int baud, verbose, exit_on_refuse;
  uint8_t key[64];
  size_t key_len;
  int fd;
  model models[EPARA_MAX_SERVICES];
  int32_t scores[OUT];
  uint8_t klass;
  uint64_t scores_shape[1], class_shape[1];
  unsigned backoff_ms, max_backoff_ms;
  int version_refused;
  int want_reconnect;
  int refused_code;
} app;

static volatile sig_atomic_t stopping;

static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "posix-device: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static uint32_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static uint32_t now_us(void *user) {
  (void)user;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

/* ---- platform callbacks ---------------------------------------------------------------------- */

static void link_write(void *user, const uint8_t *b, size_t n) {
  (void)user;
  while (n > 0 && app.fd >= 0) {
    ssize_t k = write(app.fd, b, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = {app.fd, POLLOUT, 0};
      poll(&p, 1, 100);
      continue;
    }
    if (k <= 0) {
      app.want_reconnect = 1; /* the peer went away; the main loop reconnects */
      return;
    }
    b += k;
    n -= (size_t)k;
  }
}

static int csprng(void *user, uint8_t *out, size_t n) {
  (void)user;
  int fd = open("/dev/urandom", O_RDONLY);
  if (fd < 0) return -1;
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(fd, out + got, n - got);
    if (k <= 0) break;
    got += (size_t)k;
  }
  close(fd);
  return got == n ? 0 : -1;
}

static void on_event(void *user, epara_event ev, int code) {
  (void)user;
  const char *name = epara_err_name(code);
  switch (ev) {
  case EPARA_EV_READY: say("registered as %s (resumed %d)", app.id, code); app.backoff_ms = 200; break;
  case EPARA_EV_LINK_LOST: say("link lost: %s (%d), reconnecting", name ? name : "?", code); app.want_reconnect = 1; break;
  case EPARA_EV_REFUSED:
    say("handshake refused: %s (%d)", name ? name : "?", code);
    app.want_reconnect = 1;
    app.refused_code = code;
    if (code == EPARA_E_PROTO_VERSION_TOO_OLD || code == EPARA_E_PROTO_VERSION_TOO_NEW) app.version_refused = 1;
    break;
  case EPARA_EV_SERVER_MAC: say("the server's WELCOME MAC does not verify: %s (%d); not talking to it", name, code); app.want_reconnect = 1; break;
  case EPARA_EV_VERSION: say("no common protocol version: %s (%d): upgrade one side", name, code); app.want_reconnect = 1; app.version_refused = 1; break;
  case EPARA_EV_BYE: say("server said BYE (code %d)", code); app.want_reconnect = 1; break;
  case EPARA_EV_DEPLOYED: say("deployment finished: %s (%d)", code ? name : "ready", code); break;
  case EPARA_EV_SESSION_GONE: say("the old session's lease has passed: starting a new one"); break;
  case EPARA_EV_BAD_FRAME: if (app.verbose) say("rejected a frame: %s (%d)", name ? name : "?", code); break;
  }
}

/* ---- storage: the data directory -------------------------------------------------------------- */

static void path_of(char *out, size_t cap, const char *leaf) { snprintf(out, cap, "%s/%s", app.dir, leaf); }

static void hex(const uint8_t *b, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) out[2 * i] = d[b[i] >> 4], out[2 * i + 1] = d[b[i] & 15];
  out[2 * n] = 0;
}

/* Write a small file atomically (temp + fsync + rename): a SIGKILL leaves the old or the new one. */
static int write_atomic(const char *leaf, const void *data, size_t n) {
  char path[1024], tmp[1100];
  path_of(path, sizeof path, leaf);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  int ok = write(fd, data, n) == (ssize_t)n && fsync(fd) == 0;
  close(fd);
  return ok && rename(tmp, path) == 0 ? 0 : -1;
}

/* partial.meta: "<deploymentId> <sha256 hex> <size> <persisted bytes>" */
static int partial_meta(uint32_t *id, char sha[65], uint64_t *size, uint64_t *have) {
  char path[1024];
  path_of(path, sizeof path, "partial.meta");
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  unsigned long long s = 0, h = 0;
  unsigned long i = 0;
  int n = fscanf(f, "%lu %64s %llu %llu", &i, sha, &s, &h);
  fclose(f);
  if (n != 4) return -1;
  *id = (uint32_t)i, *size = s, *have = h;
  return 0;
}

static int save_partial_meta(const epara_offer *o, uint64_t have) {
  char sha[65], text[160];
  hex(o->sha256, 32, sha);
  int n = snprintf(text, sizeof text, "%lu %s %llu %llu\n", (unsigned long)o->deployment_id, sha, (unsigned long long)o->size, (unsigned long long)have);
  return write_atomic("partial.meta", text, (size_t)n);
}

static int st_begin(void *user, const epara_offer *o, uint64_t *next) {
  (void)user;
  if (o->kind != 1) return EPARA_E_DEPLOY_UNSUPPORTED_KIND; /* int8-fc-weights only */
  if (o->size > 64 * 1024) return EPARA_E_DEPLOY_TOO_LARGE;
  uint32_t id;
  char sha[65], want[65];
  uint64_t size, have;
  hex(o->sha256, 32, want);
  if (partial_meta(&id, sha, &size, &have) == 0 && id == o->deployment_id && strcmp(sha, want) == 0 && size == o->size) {
    *next = have; /* same deployment and hash: resume where the persisted bytes end (SPEC §5.11) */
    return 0;
  }
  char path[1024];
  path_of(path, sizeof path, "partial.bin");
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return EPARA_E_DEPLOY_NO_SPACE;
  close(fd);
  *next = 0;
  return save_partial_meta(o, 0) == 0 ? 0 : EPARA_E_DEPLOY_NO_SPACE;
}

static int st_write(void *user, const epara_offer *o, uint64_t offset, const uint8_t *data, size_t n) {
  (void)user;
  char path[1024];
  path_of(path, sizeof path, "partial.bin");
  int fd = open(path, O_WRONLY);
  if (fd < 0) return EPARA_E_DEPLOY_NO_SPACE;
  int ok = pwrite(fd, data, n, (off_t)offset) == (ssize_t)n && fsync(fd) == 0;
  close(fd);
  /* The data is durable before the offset that names it. */
  if (!ok || save_partial_meta(o, offset + n) != 0) return EPARA_E_DEPLOY_NO_SPACE;
  return 0;
}

static int st_read(void *user, const epara_offer *o, uint64_t offset, uint8_t *buf, size_t n) {
  (void)user, (void)o;
  char path[1024];
  path_of(path, sizeof path, "partial.bin");
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  int ok = pread(fd, buf, n, (off_t)offset) == (ssize_t)n;
  close(fd);
  return ok ? 0 : -1;
}

static model *model_for(const char *name, int create) {
  model *free_slot = NULL;
  for (int i = 0; i < EPARA_MAX_SERVICES; i++) {
    if (app.models[i].used && strcmp(app.models[i].name, name) == 0) return &app.models[i];
    if (!app.models[i].used && !free_slot) free_slot = &app.models[i];
  }
  return create ? free_slot : NULL;
}

static void parse_weights(model *m, const uint8_t *a) {
  memcpy(m->w, a, OUT * IN);
  for (int o = 0; o < OUT; o++) {
    const uint8_t *p = a + OUT * IN + 4 * o;
    m->b[o] = (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
  }
}

/* models/<service>: "<version>\n" then the 80-byte artifact. */
static void save_model(const model *m, const uint8_t *a) {
  uint8_t buf[EPARA_VERSION_MAX + 2 + ARTIFACT_SIZE];
  size_t vn = strlen(m->version);
  memcpy(buf, m->version, vn);
  buf[vn] = '\n';
  memcpy(buf + vn + 1, a, ARTIFACT_SIZE);
  char leaf[EPARA_SERVICE_MAX + 16];
  snprintf(leaf, sizeof leaf, "model-%s", m->name);
  if (write_atomic(leaf, buf, vn + 1 + ARTIFACT_SIZE) != 0) say("could not persist model %s (errno %d)", m->name, errno);
}

static int st_activate(void *user, const epara_offer *o) {
  (void)user;
  uint8_t a[ARTIFACT_SIZE];
  if (o->size != ARTIFACT_SIZE) return EPARA_E_DEPLOY_LOAD_FAILED; /* not the 16x4 kernel layout */
  if (st_read(user, o, 0, a, sizeof a) != 0) return EPARA_E_DEPLOY_LOAD_FAILED;
  model *m = model_for(o->service, 1);
  if (!m) return EPARA_E_DEPLOY_NO_SPACE;
  m->used = 1;
  snprintf(m->name, sizeof m->name, "%s", o->service);
  snprintf(m->version, sizeof m->version, "%s", o->version);
  parse_weights(m, a);
  save_model(m, a);
  return 0;
}

static void st_discard(void *user, const epara_offer *o) {
  (void)user, (void)o;
  char path[1024];
  path_of(path, sizeof path, "partial.meta");
  unlink(path);
  path_of(path, sizeof path, "partial.bin");
  unlink(path);
}

/* Models deployed before a restart serve again (and are reported in STATE). */
static void load_models(epara_dev *d) {
  /* models.txt (rewritten atomically when the set changes) names the deployed services. */
  char idx[1024];
  path_of(idx, sizeof idx, "models.txt");
  FILE *f = fopen(idx, "r");
  if (!f) return;
  char name[EPARA_SERVICE_MAX + 1];
  while (fscanf(f, "%64s", name) == 1) {
    char leaf[EPARA_SERVICE_MAX + 16], p[1100];
    snprintf(leaf, sizeof leaf, "model-%s", name);
    path_of(p, sizeof p, leaf);
    FILE *mf = fopen(p, "rb");
    if (!mf) continue;
    uint8_t buf[EPARA_VERSION_MAX + 2 + ARTIFACT_SIZE];
    size_t n = fread(buf, 1, sizeof buf, mf);
    fclose(mf);
    uint8_t *nl = memchr(buf, '\n', n < EPARA_VERSION_MAX + 1 ? n : EPARA_VERSION_MAX + 1);
    if (!nl || (size_t)(buf + n - (nl + 1)) != ARTIFACT_SIZE) continue;
    model *m = model_for(name, 1);
    if (!m) break;
    m->used = 1;
    snprintf(m->name, sizeof m->name, "%s", name);
    memcpy(m->version, buf, (size_t)(nl - buf));
    m->version[nl - buf] = 0;
    parse_weights(m, nl + 1);
    epara_dev_add_service(d, m->name, m->version, 1);
  }
  fclose(f);
}

static void save_model_index(void) {
  char text[EPARA_MAX_SERVICES * (EPARA_SERVICE_MAX + 2) + 1];
  size_t n = 0;
  for (int i = 0; i < EPARA_MAX_SERVICES; i++)
    if (app.models[i].used) n += (size_t)snprintf(text + n, sizeof text - n, "%s\n", app.models[i].name);
  write_atomic("models.txt", text, n);
}

/* ---- the model: int8 fully connected, 16 -> 4 ----------------------------------------------- */

static int signature(void *user, const char *service, epara_signature *sig) {
  (void)user;
  if (!model_for(service, 0)) return EPARA_E_INFER_UNKNOWN_SERVICE;
  sig->n_inputs = 1;
  sig->tag[0] = 72; /* int8 */
  sig->elements[0] = IN;
  return 0;
}

static int run(void *user, const char *service, const epara_tensor *in, size_t n_in, epara_tensor *out, size_t *n_out) {
  (void)user, (void)n_in;
  const model *m = model_for(service, 0);
  if (!m) return EPARA_E_INFER_UNKNOWN_SERVICE;
  const int8_t *x = (const int8_t *)in[0].data;
  int best = 0;
  for (int o = 0; o < OUT; o++) {
    /* int32 accumulation wrapping mod 2^32 like the RTL: unsigned arithmetic, then reinterpret. */
    uint32_t acc = (uint32_t)m->b[o];
    for (int i = 0; i < IN; i++) acc += (uint32_t)((int32_t)m->w[o * IN + i] * (int32_t)x[i]);
    int32_t s = acc > 0x7FFFFFFFu ? 0 : (int32_t)acc; /* ReLU */
    app.scores[o] = s;
    if (s > app.scores[best]) best = o;
  }
  app.klass = (uint8_t)best;
  /* scores travel little-endian (RFC 8746 tag 78): write them so on any host */
  static uint8_t le[4 * OUT];
  for (int o = 0; o < OUT; o++) {
    uint32_t v = (uint32_t)app.scores[o];
    le[4 * o] = (uint8_t)v, le[4 * o + 1] = (uint8_t)(v >> 8), le[4 * o + 2] = (uint8_t)(v >> 16), le[4 * o + 3] = (uint8_t)(v >> 24);
  }
  out[0] = (epara_tensor){.name = "scores", .name_len = 6, .tag = 78, .ndims = 1, .shape = {OUT}, .elements = OUT, .data = le, .len = sizeof le};
  out[1] = (epara_tensor){.name = "class", .name_len = 5, .tag = 64, .ndims = 1, .shape = {1}, .elements = 1, .data = &app.klass, .len = 1};
  *n_out = 2;
  return 0;
}

/* ---- links -------------------------------------------------------------------------------------- */

static int open_tcp(const char *spec) {
  char host[256];
  const char *colon = strrchr(spec, ':');
  if (!colon || (size_t)(colon - spec) >= sizeof host) return -1;
  memcpy(host, spec, (size_t)(colon - spec));
  host[colon - spec] = 0;
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res) return -1;
  int fd = socket(res->ai_family, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

/* 0 for a rate this example does not know */
static speed_t baud_of(int b) {
  switch (b) {
  case 9600: return B9600;
  case 19200: return B19200;
  case 38400: return B38400;
  case 57600: return B57600;
  case 115200: return B115200;
  case 230400: return B230400;
  default: return 0;
  }
}

static int open_serial(const char *path, int baud) {
  int fd = open(path, O_RDWR | O_NOCTTY);
  if (fd < 0) return -1;
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    /* raw 8N1, no echo, no flow control, no line editing */
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    cfsetispeed(&t, baud_of(baud));
    cfsetospeed(&t, baud_of(baud));
    tcsetattr(fd, TCSANOW, &t);
  }
  return fd;
}

static int open_link(void) { return app.tcp ? open_tcp(app.tcp) : open_serial(app.serial, app.baud); }

/* ---- main -------------------------------------------------------------------------------------- */

static int parse_hex_key(const char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) n--;
  if (n % 2 || n / 2 < 16 || n / 2 > sizeof app.key) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    app.key[i] = (uint8_t)v;
  }
  app.key_len = n / 2;
  return 0;
}

static void usage(const char *why) {
  fprintf(stderr,
          "posix-device: %s\n"
          "usage: posix-device --id ID (--key HEX | --key-file PATH) (--tcp HOST:PORT | --serial PATH [--baud N])\n"
          "                    --data-dir DIR [--timeout-ms N] [--retries N] [--max-backoff-ms N] [--exit-on-refuse] [--verbose]\n"
          "  the key is the hex key printed once by `epara register ID --class mcu`\n",
          why);
  exit(2);
}

static void on_signal(int s) {
  (void)s;
  stopping = 1;
}

int main(int argc, char **argv) {
  const char *key_hex = NULL, *key_file = NULL;
  unsigned timeout_ms = 0, retries = 0;
  app.baud = 115200;
  app.fd = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--verbose")) app.verbose = 1;
    else if (!strcmp(a, "--exit-on-refuse")) app.exit_on_refuse = 1;
    else if (!v) usage("an option is missing its value");
    else if (!strcmp(a, "--id")) app.id = v, i++;
    else if (!strcmp(a, "--key")) key_hex = v, i++;
    else if (!strcmp(a, "--key-file")) key_file = v, i++;
    else if (!strcmp(a, "--tcp")) app.tcp = v, i++;
    else if (!strcmp(a, "--serial")) app.serial = v, i++;
    else if (!strcmp(a, "--baud")) app.baud = atoi(v), i++;
    else if (!strcmp(a, "--data-dir")) app.dir = v, i++;
    else if (!strcmp(a, "--timeout-ms")) timeout_ms = (unsigned)atoi(v), i++;
    else if (!strcmp(a, "--retries")) retries = (unsigned)atoi(v), i++;
    else if (!strcmp(a, "--max-backoff-ms")) app.max_backoff_ms = (unsigned)atoi(v), i++;
    else usage("unknown option");
  }
  if (!app.id || !app.dir || (!app.tcp == !app.serial)) usage("--id, --data-dir and one of --tcp / --serial are required");
  if (!baud_of(app.baud)) usage("--baud must be one of 9600, 19200, 38400, 57600, 115200, 230400");
  if (timeout_ms && (timeout_ms < 50 || timeout_ms > 60000)) usage("--timeout-ms must be in 50..60000");
  if (retries > 20) usage("--retries must be in 1..20");
  if (!app.max_backoff_ms) app.max_backoff_ms = 10000;
  if (app.max_backoff_ms < 200 || app.max_backoff_ms > 600000) usage("--max-backoff-ms must be in 200..600000");
  if (key_file) {
    static char text[256];
    FILE *f = fopen(key_file, "r");
    if (!f || !fgets(text, sizeof text, f)) usage("cannot read --key-file");
    fclose(f);
    key_hex = text;
  }
  if (!key_hex || parse_hex_key(key_hex) != 0) usage("the key must be 16..64 bytes of hex (as printed by `epara register`)");
  mkdir(app.dir, 0700);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  static const char *const runtimes[] = {"int8-fc"};
  static const char *const formats[] = {"int8-fc-weights"};
  static const char *const transports_tcp[] = {"tcp"};
  static const char *const transports_uart[] = {"uart"};
  static const epara_storage storage = {st_begin, st_write, st_read, st_activate, st_discard};
  static const epara_models models = {signature, run};
  epara_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.device_id = app.id;
  cfg.key = app.key;
  cfg.key_len = (uint8_t)app.key_len;
  cfg.device_class = 3; /* mcu */
  cfg.firmware = "epara-device-c 0.1";
  cfg.cpu_cores = 1;
  cfg.memory_kib = 256;
  cfg.compute_mops = 50;
  cfg.runtimes = runtimes, cfg.n_runtimes = 1;
  cfg.formats = formats, cfg.n_formats = 1;
  cfg.transports = app.tcp ? transports_tcp : transports_uart, cfg.n_transports = 1;
  cfg.max_frame = MAX_FRAME;
  cfg.rx_window = WINDOW;
  /* SPEC §7.2 request timeouts: TCP 2 s x 3, UART 0.5 s x 5 */
  cfg.request_timeout_ms = timeout_ms ? timeout_ms : app.tcp ? 2000 : 500;
  cfg.retries = (uint8_t)(retries ? retries : app.tcp ? 3 : 5);
  cfg.write = link_write;
  cfg.random = csprng;
  cfg.event = on_event;
  cfg.now_us = now_us;
  cfg.storage = &storage;
  cfg.models = &models;

  static epara_dev dev;
  static uint8_t mem[EPARA_DEV_MEM(MAX_FRAME, WINDOW)];
  if (epara_dev_init(&dev, &cfg, mem, sizeof mem) != 0) usage("bad configuration");
  load_models(&dev);
  app.backoff_ms = 200;

  while (!stopping) {
    if (app.fd < 0) app.fd = open_link();
    if (app.fd < 0) {
      say("cannot open %s (errno %d), retrying", app.tcp ? app.tcp : app.serial, errno);
    } else {
      app.want_reconnect = 0;
      epara_dev_start(&dev, now_ms());
      while (!stopping && !app.want_reconnect) {
        struct pollfd p = {app.fd, POLLIN, 0};
        int r = poll(&p, 1, 20);
        if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
          uint8_t buf[512];
          ssize_t k = read(app.fd, buf, sizeof buf);
          if (k > 0) epara_dev_feed(&dev, buf, (size_t)k, now_ms());
          else if (k == 0 && app.tcp) {
            say("the server closed the link");
            break;
          } else if (k < 0 && errno != EINTR && errno != EAGAIN) break;
        }
        epara_dev_tick(&dev, now_ms());
        /* keep the model index in step with what the library serves */
        static int saved_models = -1;
        int count = 0;
        for (int i = 0; i < EPARA_MAX_SERVICES; i++) count += app.models[i].used;
        if (count != saved_models) save_model_index(), saved_models = count;
      }
      if (stopping) epara_dev_close(&dev, 0, "shutting down");
      epara_dev_link_down(&dev);
      if (app.tcp || stopping) {
        close(app.fd);
        app.fd = -1;
      }
    }
    if (stopping) break;
    if (app.refused_code && app.exit_on_refuse) return 3;
    app.refused_code = 0;
    /* SPEC §7.2 reconnect backoff: 200 ms doubling to the maximum (10 s), +-50 % jitter; after a
     * version error no sooner than the maximum (§8 rule 4: the answer will not change by itself) */
    uint8_t r8;
    csprng(NULL, &r8, 1);
    unsigned wait = app.backoff_ms / 2 + (unsigned)((uint64_t)app.backoff_ms * r8 / 255u);
    if (app.version_refused) wait = app.max_backoff_ms + (unsigned)((uint64_t)app.max_backoff_ms * r8 / 510u);
    app.version_refused = 0;
    struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    app.backoff_ms = app.backoff_ms * 2 > app.max_backoff_ms ? app.max_backoff_ms : app.backoff_ms * 2;
    /* a serial line stays open: the next HELLO goes out on the same tty */
  }
  if (app.fd >= 0) close(app.fd);
  return 0;
}
