#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-consoled.service: systemd-analyze verify says nothing, and the
# sandbox's exposure is at most 2.0. (test-consoled-nspawn.sh runs it for real.)
set -euo pipefail
build=${KRATA_BUILD_ROOT:?}
tmp=$(mktemp -d /tmp/krata-consoled-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# verify checks that ExecStart= exists: point it at the build tree's binary.
sed "s|^ExecStart=.*|ExecStart=$build/src/consoled/krata-consoled|" \
  "$build/units/krata-consoled.service" >"$tmp/krata-consoled.service"
out=$(systemd-analyze verify --man=no "$tmp/krata-consoled.service" 2>&1) || true
[ -z "$out" ] || { echo "FAIL: systemd-analyze verify:"; echo "$out"; exit 1; }
echo "ok: systemd-analyze verify is silent"
sec=$(systemd-analyze security --offline=yes --threshold=20 "$tmp/krata-consoled.service" 2>&1) ||
  { echo "$sec" | tail -n 30; echo "FAIL: exposure above 2.0"; exit 1; }
echo "ok: $(echo "$sec" | grep -o 'Overall exposure level.*')"
