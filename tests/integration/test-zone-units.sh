#!/usr/bin/env bash
# krata-zoned.service and krata-zone@.service: systemd-analyze verify prints
# nothing, and the sandbox exposure stays at or below 2.0.
set -euo pipefail
build=${KRATA_BUILD_ROOT:?}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Point ExecStart at the build tree so verify can check the binary.
sed "s|^ExecStart=.*krata-zoned|ExecStart=$build/src/zoned/krata-zoned|" \
  "$build/units/krata-zoned.service" >"$tmp/krata-zoned.service"
sed "s|^ExecStart=.*krata-zone |ExecStart=$build/src/zone/krata-zone |" \
  "$build/units/krata-zone@.service" >"$tmp/krata-zone@web.service"
rc=0
for u in "$tmp/krata-zoned.service" "$tmp/krata-zone@web.service"; do
  out=$(systemd-analyze verify --man=no "$u" 2>&1 || true)
  if [ -n "$out" ]; then echo "FAIL: verify $(basename "$u"): $out" >&2; rc=1; fi
  line=$(systemd-analyze security --offline=yes --threshold=20 "$u" 2>&1 | grep 'Overall exposure' || true)
  echo "$line"
  systemd-analyze security --offline=yes --threshold=20 "$u" >/dev/null 2>&1 ||
    { echo "FAIL: $(basename "$u") exposure above 2.0: $line" >&2; rc=1; }
done
grep -q '^SystemdService=krata-zoned.service' "${KRATA_SOURCE_ROOT:?}/units/org.krata.Zones1.service" ||
  { echo "FAIL: activation file" >&2; rc=1; }
exit $rc
