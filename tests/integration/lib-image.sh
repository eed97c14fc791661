# SPDX-License-Identifier: Apache-2.0
# Helpers for the krata-imaged integration tests (sourced, bash).
# Everything started here is recorded and stopped by PID in cleanup_all.
set -euo pipefail

SRC=${KRATA_SOURCE_ROOT:?KRATA_SOURCE_ROOT is not set (run through meson test)}
BUILD=${KRATA_BUILD_ROOT:?KRATA_BUILD_ROOT is not set (run through meson test)}
KRATACTL=$BUILD/src/kratactl/kratactl
IMAGED=$BUILD/src/imaged/krata-imaged
PIDS=()
WORK=$(mktemp -d /tmp/krata-imaged-test.XXXXXX)

cleanup_all() {
  local rc=$?
  trap - EXIT
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup_all EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

need() {
  for c in "$@"; do
    command -v "$c" >/dev/null || fail "$c is missing: run tools/install-deps"
  done
}
need docker-registry umoci skopeo unsquashfs
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import jwt, cryptography" 2>/dev/null || fail "Debian python3 with python3-jwt and python3-cryptography is missing: run tools/install-deps"
[ -x /bin/busybox ] || fail "/bin/busybox is missing (busybox-static): run tools/install-deps"
[ -x "$KRATACTL" ] && [ -x "$IMAGED" ] || fail "build tree $BUILD lacks kratactl or krata-imaged"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # URL [seconds]
  local i
  for i in $(seq $((${2:-10} * 20))); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.05
  done
  fail "nothing answers at $1"
}

# start_registry NAME [EXTRA-YAML]: docker-registry on 127.0.0.1, sets REG_<NAME>=host:port;
# its log (with ACCESSLOG_OFF=false: one line per request) is $WORK/registry-NAME/log
start_registry() {
  local name=$1 extra=${2:-} port dir
  port=$(free_port)
  dir=$WORK/registry-$name
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: ${ACCESSLOG_OFF:-true}}}
storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
$extra
YML
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$port/v2/"
  printf -v "REG_$name" '%s' "127.0.0.1:$port"
}

# start_fake_registry LAYOUT: tests/integration/fake-registry.py serving
# LAYOUT on a free port (its log is $WORK/fake.log); sets R=127.0.0.1:PORT
start_fake_registry() {
  /usr/bin/python3 "$SRC/tests/integration/fake-registry.py" "$1" "$WORK/fake-port" 2>"$WORK/fake.log" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/fake-port" ] && break; sleep 0.05; done
  [ -s "$WORK/fake-port" ] || fail "fake registry did not start"
  R=127.0.0.1:$(cat "$WORK/fake-port")
}

# build_busybox LAYOUT TAG [ARCH] [MARKER]: a single-layer image with busybox-static
build_busybox() {
  local layout=$1 tag=$2 arch=${3:-amd64} marker=${4:-hello} b=$WORK/bundle-$RANDOM
  [ -d "$layout" ] || umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$b" >/dev/null
  mkdir -p "$b/rootfs/bin" "$b/rootfs/etc"
  cp /bin/busybox "$b/rootfs/bin/busybox"
  ln -s busybox "$b/rootfs/bin/sh"
  echo "$marker" >"$b/rootfs/etc/marker"
  umoci repack --image "$layout:$tag" "$b" >/dev/null
  umoci config --image "$layout:$tag" --config.cmd /bin/sh --os linux --architecture "$arch" >/dev/null
  rm -rf "$b"
}

# push LAYOUT:TAG HOST:PORT/REPO:TAG [skopeo args...]
push() {
  local src=$1 dst=$2; shift 2
  skopeo copy -q --dest-tls-verify=false "$@" "oci:$src" "docker://$dst" >/dev/null
}

# Runs a command under tools/dev-env with this test's state directory.
# The daemon's output (dev-env's bus log) must carry no sanitizer report
# (the tests also run against an ASan+UBSan build: KRATA_BUILD_ROOT=build-asan).
dev() {
  local rc=0
  KRATA_DEV_DIR=$WORK/dev KRATA_BUILD_DIR=$BUILD "$SRC/tools/dev-env" "$@" || rc=$?
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/dev/dbus/log" 2>/dev/null; then
    cat "$WORK/dev/dbus/log" >&2
    fail "krata-imaged reported a sanitizer error"
  fi
  return $rc
}

state_dir() { echo "$WORK/dev/state"; }

# imaged.conf for this test's daemon
write_conf() {
  mkdir -p "$WORK/dev/etc"
  printf '%s\n' "$@" >"$WORK/dev/etc/imaged.conf"
}

# expect_fail PATTERN COMMAND...: the command must fail and say PATTERN on stderr
expect_fail() {
  local pattern=$1 rc=0; shift
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ $rc -ne 0 ] || { cat "$WORK/err" >&2; fail "'$*' succeeded, expected failure matching '$pattern'"; }
  grep -Eq -- "$pattern" "$WORK/err" || { cat "$WORK/err" >&2; fail "'$*' failed without saying '$pattern'"; }
  note "failed as expected: $(grep -E -- "$pattern" "$WORK/err" | head -n1)"
}

image_count() {
  dev "$KRATACTL" -o json image list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# The image store must hold no half-made image or blob.
assert_no_partial() {
  local s
  s=$(state_dir)
  if [ -d "$s/images" ] && find "$s/images" "$s/blobs" -mindepth 1 -maxdepth 2 -name '.tmp-*' | grep -q .; then
    find "$s/images" "$s/blobs" -name '.tmp-*' >&2
    fail "temporary files left behind"
  fi
}
