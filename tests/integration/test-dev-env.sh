#!/usr/bin/env bash
# tools/dev-env and the kratactl skeleton: private bus, state dirs, exit codes,
# and that every process dev-env started is gone afterwards.
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?}
export KRATA_BUILD_DIR=${KRATA_BUILD_ROOT:?}
dev=$src/tools/dev-env
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "# kratactl --version through dev-env"
out=$("$dev" kratactl --version) || fail "dev-env kratactl --version failed"
[[ $out == "kratactl "* ]] || fail "unexpected version output: $out"

echo "# the private bus answers and state dirs are private"
"$dev" bash -c '
  set -e
  [ -n "$DBUS_SYSTEM_BUS_ADDRESS" ]
  busctl --system status >/dev/null
  case "$KRATA_STATE_DIR" in /tmp/krata-dev.*) ;; *) exit 9;; esac
  [ -d "$KRATA_STATE_DIR" ] && [ -d "$KRATA_RUNTIME_DIR" ]
  echo "$KRATA_DEV_DIR" > /tmp/krata-test-devdir.'"$$"'
' || fail "private bus or state dirs not set up"
devdir=$(cat /tmp/krata-test-devdir.$$); rm -f /tmp/krata-test-devdir.$$
[ ! -e "$devdir" ] || fail "dev-env left $devdir behind"

echo "# exit status passes through; background children are stopped"
set +e
"$dev" bash -c 'sleep 300 & echo $! > /tmp/krata-test-sleep.$PPID; exit 7'
rc=$?
set -e
[ $rc = 7 ] || fail "exit status $rc, expected 7"
for f in /tmp/krata-test-sleep.*; do
  [ -f "$f" ] || continue
  pid=$(cat "$f"); rm -f "$f"
  if kill -0 "$pid" 2>/dev/null && grep -qsz KRATA_DEV_ID /proc/$pid/environ; then
    kill "$pid"; fail "dev-env left process $pid running"
  fi
done

echo "# kratactl exit codes"
k=$KRATA_BUILD_DIR/src/kratactl/kratactl
set +e
"$k" >/dev/null 2>&1; [ $? = 2 ] || fail "no arguments should exit 2"
"$k" frobnicate >/dev/null 2>&1; [ $? = 2 ] || fail "unknown group should exit 2"
"$k" --output yaml zone list >/dev/null 2>&1; [ $? = 2 ] || fail "bad --output should exit 2"
"$k" --log-level loud zone list >/dev/null 2>&1; [ $? = 2 ] || fail "bad --log-level should exit 2"
"$k" zone frobnicate >/dev/null 2>&1; [ $? = 2 ] || fail "unknown verb should exit 2"
set -e
"$k" --help | grep -q "Exit status" || fail "--help lacks exit codes"
for g in zone image kernel network; do
  "$k" $g --help | grep -q "Usage: kratactl \[OPTIONS\] $g" || fail "$g --help"
done
echo "ok"
