#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every unit in units/, driven by units/exposure-ceilings: `systemd-analyze
# verify` says nothing at all, the sandbox's offline exposure is within the
# unit's ceiling, and a unit without a ceiling fails. Also: each D-Bus
# activation file names a unit that exists and whose BusName= is its Name=,
# and each bus policy is well-formed XML. (The nspawn tests run them for real.)
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?} build=${KRATA_BUILD_ROOT:?}
table=$src/units/exposure-ceilings
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze missing (tools/install-deps)" >&2; exit 1; }
work=$(mktemp -d /tmp/krata-test-units.XXXXXX)
trap 'rm -rf "$work"' EXIT

declare -A ceiling=()
while read -r unit max _; do
  case "$unit" in ''|'#'*) continue;; esac
  ceiling[$unit]=$max
done <"$table"

# The unit as installed, except that ExecStart= points at the build tree's
# binary of that name: verify insists the binary exists.
render() {
  local in=$1 out=$2 exe name bin
  sed 's|@LIBEXECDIR@|/usr/libexec/krata|g' "$in" >"$out"
  grep -q '@[A-Z_]*@' "$out" && { bad "$in: unknown @VARIABLE@ left: $(grep -o '@[A-Z_]*@' "$out" | head -n1)"; return 1; }
  while read -r exe; do
    name=$(basename "$exe")
    bin=$(find "$build" -path "$build/meson-*" -prune -o -type f -name "$name" -perm -u+x -print -quit)
    [ -n "$bin" ] || { bad "$in: ExecStart binary $name is not in the build tree $build"; return 1; }
    sed -i "s|$exe|$bin|g" "$out"
  done < <(sed -n 's/^Exec[A-Za-z]*=[-+!@:]*\([^ ]*\).*/\1/p' "$out" | sort -u)
}

units=()
for f in "$src"/units/krata*.service.in "$src"/units/krata*.service "$src"/units/krata*.socket \
         "$src"/units/krata*.socket.in "$src"/units/krata*.target; do
  [ -e "$f" ] && units+=("$f")
done
[ ${#units[@]} -gt 0 ] || { echo "FAIL: no units found in $src/units" >&2; exit 1; }
for f in "${units[@]}"; do
  unit=$(basename "$f" .in)
  max=${ceiling[$unit]:-}
  [ -n "$max" ] || { bad "$unit has no row in units/exposure-ceilings"; continue; }
  unset "ceiling[$unit]"
  # a template is checked as an instance
  inst=${unit/@./@test.}
  render "$f" "$work/$inst" || continue
  out=$(cd "$work" && systemd-analyze verify --man=no "$inst" 2>&1) || true
  [ -z "$out" ] || { bad "systemd-analyze verify $unit:"; echo "$out" >&2; continue; }
  if [ "$max" = - ]; then echo "ok - $unit verify"; continue; fi
  thr=$(awk -v m="$max" 'BEGIN { printf "%d", m * 10 + 0.5 }')
  if out=$(cd "$work" && systemd-analyze security --offline=yes --threshold="$thr" "$inst" 2>&1); then
    echo "ok - $unit verify; $(grep -o 'Overall exposure level.*' <<<"$out" | sed 's/ for [^:]*:/:/') (ceiling $max)"
  else
    grep '✗' <<<"$out" >&2 || true
    bad "$unit above its ceiling $max: $(grep -o 'Overall exposure level.*' <<<"$out")"
  fi
done
for unit in "${!ceiling[@]}"; do bad "units/exposure-ceilings names $unit, which is not in units/"; done

for f in "$src"/units/org.krata.*.service; do
  [ -e "$f" ] || continue
  name=$(sed -n 's/^Name=//p' "$f"); svc=$(sed -n 's/^SystemdService=//p' "$f")
  [ "$(basename "$f" .service)" = "$name" ] || bad "$f: Name=$name does not match the file name"
  in=$src/units/$svc.in; [ -e "$in" ] || in=$src/units/$svc
  [ -n "$svc" ] && [ -e "$in" ] || { bad "$f: SystemdService=$svc is not a unit in units/"; continue; }
  grep -qx "BusName=$name" "$in" || bad "$svc: BusName= is not $name"
  echo "ok - $name activates $svc"
done
for f in "$src"/units/*.conf "$src"/units/*.policy; do
  [ -e "$f" ] || continue
  python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$f" 2>/dev/null \
    || bad "$(basename "$f") is not well-formed XML"
done
[ $fail = 0 ] || exit 1
echo "ok"
