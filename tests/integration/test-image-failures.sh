#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-imaged against a misbehaving registry (fake-registry.py): each failure
# gives its own clear error naming the image, leaves no partial image or blob
# behind, and the daemon keeps serving (the next pull in the same daemon works).
# Also: a dropped connection resumes with Range; redirects are followed.
source "$(dirname "$0")/lib-image.sh"

build_busybox "$WORK/L" latest amd64 hello-fake
# a three-layer image for the parallel download check
umoci tag --image "$WORK/L:latest" three
for i in 2 3; do
  umoci unpack --image "$WORK/L:three" "$WORK/b$i" >/dev/null
  head -c 200000 /dev/urandom >"$WORK/b$i/rootfs/etc/layer$i"
  umoci repack --image "$WORK/L:three" "$WORK/b$i" >/dev/null
  rm -rf "$WORK/b$i"
done
start_fake_registry "$WORK/L"
write_conf "StallTimeoutSec=2" "ConnectTimeoutSec=2" "Retries=1"

check() { # PATTERN MODE
  local ref="$R/$2/busybox:latest"
  expect_fail "Pulling $ref failed: .*$1" dev "$KRATACTL" image pull "$ref"
  [ "$(image_count)" -eq 0 ] || fail "$2: an image was left behind"
  assert_no_partial
}

check "digest mismatch" badblob
check "truncated|Transferred a partial file" truncated
check "manifest is [0-9]+ bytes, more than the 4194304 allowed|larger than 4194304 bytes" bigmanifest
check "unsupported media type 'application/vnd.example.unknown'" unknownmedia
check "not found on .* \(HTTP 404\)" status404
check "answered HTTP 500" status500
s=$(date +%s)
check "timeout" hang
[ $(( $(date +%s) - s )) -lt 30 ] || fail "the hanging registry took too long to time out"
note "Ctrl-C on kratactl cancels the transfer"
expect_fail "Pull of $R/hang/busybox:latest canceled" dev timeout -s INT 2 "$KRATACTL" image pull "$R/hang/busybox:latest"
assert_no_partial
expect_fail "Invalid image reference" dev "$KRATACTL" image pull "$R/UPPER/case:latest"
expect_fail "Invalid platform" dev "$KRATACTL" image pull --platform=/ "$R/ok/busybox:latest"

note "the daemon keeps serving: one daemon, a failure then a success"
dev bash -c '! kratactl image pull "$1/badblob/busybox:latest" 2>/dev/null && kratactl image pull "$1/ok/busybox:latest"' _ "$R" >/dev/null \
  || fail "a good pull after a bad one failed in the same daemon"
[ "$(grep -c 'Pulling .* as transfer' "$WORK/dev/dbus/log")" -eq 2 ] || fail "expected both pulls in one daemon"
# start the next cases from an empty cache
dev "$KRATACTL" image rm "$R/ok/busybox:latest"
dev "$KRATACTL" image prune --all >/dev/null

note "a dropped connection resumes with Range"
dev "$KRATACTL" image pull "$R/flaky/busybox:latest" >/dev/null || fail "flaky pull did not resume"
grep -q '"GET /v2/flaky/busybox/blobs/sha256:[0-9a-f]* HTTP/1.1" 206' "$WORK/fake.log" || fail "no Range request was made"
dev "$KRATACTL" image rm "$R/flaky/busybox:latest"
dev "$KRATACTL" image prune --all >/dev/null

note "redirected blobs are followed"
dev "$KRATACTL" image pull "$R/redirect/busybox:latest" >/dev/null || fail "redirected pull failed"
grep -q '"GET /elsewhere/' "$WORK/fake.log" || fail "the redirect was not followed"
assert_no_partial

note "layers download in parallel: three layers held back 1 s each arrive in well under 3 s"
dev "$KRATACTL" image rm "$R/redirect/busybox:latest"
dev "$KRATACTL" image prune --all >/dev/null
dev "$KRATACTL" image pull "$R/slow/busybox:three" >/dev/null || fail "three-layer pull failed"
ms=$(sed -n 's/.*slow\/busybox:three: downloaded 4 blobs, [0-9]* bytes, in \([0-9]*\) ms.*/\1/p' "$WORK/dev/dbus/log")
note "downloaded a config and 3 layers in ${ms:-?} ms"
[ -n "$ms" ] && [ "$ms" -lt 2500 ] || fail "layers were not downloaded in parallel (${ms:-no} ms)"
dev "$KRATACTL" image prune --all >/dev/null
assert_no_partial

note "plain HTTP only for loopback and InsecureRegistries="
ip=$(ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}')
if [ -z "$ip" ]; then
  note "no non-loopback IPv4 address here: skipping the plain-HTTP refusal case"
else
  port=$(free_port)
  mkdir -p "$WORK/registry-ext/data"
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: "%s:%s"}\n' \
    "$WORK/registry-ext/data" "$ip" "$port" >"$WORK/registry-ext/config.yml"
  docker-registry serve "$WORK/registry-ext/config.yml" >"$WORK/registry-ext/log" 2>&1 &
  PIDS+=($!)
  wait_http "http://$ip:$port/v2/"
  push "$WORK/L:latest" "$ip:$port/ext/busybox:latest"
  # a TLS handshake against a plain-HTTP server fails: the registry must be spoken to over HTTPS
  expect_fail "Pulling $ip:$port/ext/busybox:latest failed: .*TLS handshake failed.*InsecureRegistries=" dev "$KRATACTL" image pull "$ip:$port/ext/busybox:latest"
  write_conf "StallTimeoutSec=2" "ConnectTimeoutSec=2" "Retries=1" "InsecureRegistries=$ip:$port"
  dev "$KRATACTL" image pull "$ip:$port/ext/busybox:latest" >/dev/null || fail "InsecureRegistries= did not allow plain HTTP"
fi
note "ok"
