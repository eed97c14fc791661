#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The shared pull client (shared/image-pull.c) through `kratactl image pull`:
# krata-imaged going away in the middle of a pull is noticed at once (exit 4,
# one line naming the image), not waited out. The registry never answers, so
# only the daemon's end can finish the pull.
source "$(dirname "$0")/lib-image.sh"

build_busybox "$WORK/L" latest amd64 hello-client
start_fake_registry "$WORK/L"
write_conf "StallTimeoutSec=300" "ConnectTimeoutSec=300" "Retries=0"

note "krata-imaged killed during a pull: kratactl says so and exits 4"
rc=0
dev bash -c '
  kratactl image pull "$1/hang/busybox:latest" 2>"$2" & pull=$!
  for _ in $(seq 200); do grep -q "as transfer" "$3" && break; sleep 0.05; done
  grep -q "as transfer" "$3" || { echo "FAIL: the pull never started" >&2; exit 99; }
  pid=$(busctl --system --json=short call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.krata.Images1 | python3 -c "import json, sys; print(json.load(sys.stdin)[\"data\"][0])")
  kill -KILL "$pid"
  wait $pull' _ "$R" "$WORK/err" "$WORK/dev/dbus/log" || rc=$?
[ $rc -eq 4 ] || { cat "$WORK/err" >&2; fail "kratactl exited $rc, not 4 (unavailable)"; }
grep -q "krata-imaged exited while pulling $R/hang/busybox:latest" "$WORK/err" || { cat "$WORK/err" >&2; fail "kratactl did not say why"; }
note "ok"
