#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-networkd.service: systemd accepts it without a word, its sandbox
# exposure stays at or below 2.5, and the activation file names it.
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?}
build=${KRATA_BUILD_ROOT:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (tools/install-deps)"
tmp=$(mktemp -d /tmp/krata-unit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The unit as installed, pointing at the build tree's binary so verify finds it.
sed "s|@LIBEXECDIR@|$build/net|" "$src/units/krata-networkd.service.in" >"$tmp/krata-networkd.service"
out=$(systemd-analyze verify --man=no "$tmp/krata-networkd.service" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "verify complained: $out"
out=$(systemd-analyze security --offline=yes --threshold=25 "$tmp/krata-networkd.service" 2>&1) ||
  fail "exposure above 2.5: $(tail -n1 <<<"$out")"
echo "ok - $(tail -n1 <<<"$out")"
grep -qx 'SystemdService=krata-networkd.service' "$src/units/org.krata.Network1.service" || fail "activation file"
grep -qx 'BusName=org.krata.Network1' "$src/units/krata-networkd.service.in" || fail "BusName"
command -v xmllint >/dev/null && { xmllint --noout "$src/units/org.krata.Network1.conf" || fail "bus policy is not well-formed XML"; }
echo "ok - activation file and bus policy"
