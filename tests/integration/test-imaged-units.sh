#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-imaged's unit, activation file and bus policy: systemd-analyze verify
# finds nothing, the sandbox's exposure is at most 2.0, the XML is well-formed.
set -euo pipefail
SRC=${KRATA_SOURCE_ROOT:?} BUILD=${KRATA_BUILD_ROOT:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing: run tools/install-deps"
work=$(mktemp -d /tmp/krata-imaged-units.XXXXXX)
trap 'rm -rf "$work"' EXIT

# the installed ExecStart= does not exist here: point it at the build tree
sed "s|^ExecStart=.*|ExecStart=$BUILD/src/imaged/krata-imaged|" "$BUILD/units/krata-imaged.service" \
  >"$work/krata-imaged.service"
out=$(cd "$work" && systemd-analyze verify --man=no krata-imaged.service 2>&1) || fail "verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify complained: $out"
sec=$(cd "$work" && systemd-analyze security --offline=yes --threshold=20 krata-imaged.service 2>&1) \
  || fail "exposure above 2.0: $(echo "$sec" | tail -n1)"
echo "# $(echo "$sec" | grep 'Overall exposure')"
grep -qx 'SystemdService=krata-imaged.service' "$SRC/units/org.krata.Images1.service" || fail "activation file"
/usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$SRC/units/org.krata.Images1.conf" \
  || fail "bus policy is not well-formed XML"
echo "# ok"
