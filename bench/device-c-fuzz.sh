#!/usr/bin/env bash
# Fuzzes the C device library's receive path with libFuzzer (clang, ASan + UBSan) for a bounded
# time: bench/device-c-fuzz.sh [seconds, default 60]. Seeds: every golden vector's wire bytes,
# fed to a device before and after the handshake. Exits non-zero when the fuzzer finds a crash
# (the reproducer is left in device-c/build/fuzz-artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
command -v clang >/dev/null || { echo "device-c fuzz: SKIPPED, clang is not installed (apt-get install clang)"; exit 0; }
make -s -C device-c fuzz
corpus=device-c/build/fuzz-corpus
mkdir -p "$corpus" device-c/build/fuzz-artifacts
node -e '
const fs = require("fs");
const dir = process.argv[1];
let n = 0;
for (const f of ["valid", "invalid"]) {
  for (const v of JSON.parse(fs.readFileSync(`protocol/vectors/${f}.json`, "utf8")).vectors) {
    const wire = Buffer.from(v.wire_hex, "hex");
    for (const mode of [0, 1]) {
      const parts = [Buffer.from([mode])];
      for (let i = 0; i < wire.length; i += 63) { const p = wire.subarray(i, i + 63); parts.push(Buffer.from([p.length - 1]), p); }
      fs.writeFileSync(`${dir}/${v.name}-${mode}`, Buffer.concat(parts));
      n++;
    }
  }
}
console.log(`device-c fuzz: ${n} seeds from protocol/vectors`);
' "$corpus"
start=$(date +%s)
set +e
device-c/build/fuzz-rx -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
  -artifact_prefix=device-c/build/fuzz-artifacts/ "$corpus" 2> device-c/build/fuzz.log
rc=$?
set -e
grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|cov:" device-c/build/fuzz.log | tail -4
echo "device-c fuzz: libFuzzer ran $(( $(date +%s) - start )) s, exit $rc ($( [ $rc -eq 0 ] && echo 'no crash, no leak, no sanitizer report' || echo 'FOUND A PROBLEM: see device-c/build/fuzz.log and device-c/build/fuzz-artifacts/'))"
exit $rc
