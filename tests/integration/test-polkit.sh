#!/usr/bin/env bash
# bus_verify_polkit_async() on a private bus without polkit: root is allowed,
# an unprivileged caller is refused with a clear error.
set -euo pipefail
export KRATA_BUILD_DIR=${KRATA_BUILD_ROOT:?}
server=$KRATA_BUILD_ROOT/tests/integration/polkit-server
exec "$KRATA_SOURCE_ROOT/tools/dev-env" bash -c '
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
"'"$server"'" & pid=$!
for _ in $(seq 100); do busctl --system status org.krata.Test >/dev/null 2>&1 && break; sleep 0.05; done
out=$(busctl --system call org.krata.Test /org/krata/test org.krata.Test Guarded)
[ "$out" = "s \"allowed\"" ] || fail "root: $out"
echo "# root allowed"
if out=$(setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --system --print-reply --dest=org.krata.Test /org/krata/test org.krata.Test.Guarded 2>&1); then
  fail "nobody was allowed: $out"
fi
case "$out" in *"polkit is not running, so only root may do this"*) ;; *) fail "unexpected refusal: $out";; esac
echo "# unprivileged refused: $out"
busctl --system call org.krata.Test /org/krata/test org.krata.Test Quit
wait $pid
'
