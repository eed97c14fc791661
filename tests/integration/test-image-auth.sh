#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Registry authentication: htpasswd (Basic) and the bearer-token flow through
# a small token server (token-server.py), anonymous and with credentials from
# the docker-style auth file ($KRATA_CONFIG_DIR/auth.json, or AuthFile=).
source "$(dirname "$0")/lib-image.sh"
need htpasswd

build_busybox "$WORK/L" latest amd64 hello-auth
mkdir -p "$WORK/dev/etc"
auth_file() { # USER PASSWORD REGISTRY [style]
  if [ "${4:-auth}" = auth ]; then
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$3" "$(printf '%s:%s' "$1" "$2" | base64 -w0)"
  else
    printf '{"auths":{"https://%s":{"username":"%s","password":"%s"}}}\n' "$3" "$1" "$2"
  fi >"$WORK/creds.json"
}

note "htpasswd (Basic)"
htpasswd -Bbn krata s3cret >"$WORK/htpasswd"
start_registry basic "auth: {htpasswd: {realm: krata-test, path: $WORK/htpasswd}}"
push "$WORK/L:latest" "$REG_basic/private/busybox:latest" --dest-creds krata:s3cret
ref=$REG_basic/private/busybox:latest
write_conf "AuthFile=$WORK/creds.json"
expect_fail "requires a login \(Basic\)" dev "$KRATACTL" image pull "$ref"
auth_file krata wrong "$REG_basic"
expect_fail "refused our credentials \(HTTP 401\)" dev "$KRATACTL" image pull "$ref"
auth_file krata s3cret "$REG_basic"
dev "$KRATACTL" image pull "$ref" >/dev/null || fail "Basic auth pull failed"
auth_file krata s3cret "$REG_basic" userpass
dev "$KRATACTL" image pull --force "$ref" >/dev/null || fail "Basic auth pull (username/password form) failed"
assert_no_partial

note "bearer tokens"
mkdir -p "$WORK/token"
/usr/bin/python3 "$SRC/tests/integration/token-server.py" "$WORK/token" krata t0ken krata-test 2>"$WORK/token.log" &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$WORK/token/port" ] && break; sleep 0.05; done
[ -s "$WORK/token/port" ] || { cat "$WORK/token.log" >&2; fail "token server did not start"; }
TP=$(cat "$WORK/token/port")
start_registry bearer "auth: {token: {realm: \"http://127.0.0.1:$TP/token\", service: krata-test, issuer: krata-test-issuer, rootcertbundle: $WORK/token/cert.pem}}"
push "$WORK/L:latest" "$REG_bearer/public/busybox:latest" --dest-creds krata:t0ken
push "$WORK/L:latest" "$REG_bearer/private/busybox:latest" --dest-creds krata:t0ken
rm -f "$WORK/creds.json"
stats() { curl -sf "http://127.0.0.1:$TP/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

anon0=$(stats anonymous)
dev "$KRATACTL" image pull "$REG_bearer/public/busybox:latest" >/dev/null || fail "anonymous bearer pull failed"
[ "$(stats anonymous)" -gt "$anon0" ] || fail "no anonymous token was requested"
note "a re-pull reuses the token: one manifest request, no token request"
anon1=$(stats anonymous)
dev bash -c 'kratactl image pull "$1" >/dev/null && kratactl image pull "$1" >/dev/null' _ "$REG_bearer/public/busybox:latest" \
  || fail "bearer re-pull failed"
[ "$(stats anonymous)" -eq $((anon1 + 1)) ] || fail "the re-pull fetched another token"
[ "$(grep -c 'Pulled .*(.* 1 registry requests)' "$WORK/dev/dbus/log")" -eq 1 ] || fail "the re-pull took more than one request"
expect_fail "HTTP 401" dev "$KRATACTL" image pull "$REG_bearer/private/busybox:latest"
auth_file krata wrong "$REG_bearer"
expect_fail "token server .* refused our credentials \(HTTP 401\)" dev "$KRATACTL" image pull "$REG_bearer/private/busybox:latest"
auth_file krata t0ken "$REG_bearer"
authd0=$(stats authenticated)
dev "$KRATACTL" image pull "$REG_bearer/private/busybox:latest" >/dev/null || fail "bearer pull with credentials failed"
[ "$(stats authenticated)" -gt "$authd0" ] || fail "no authenticated token was requested"
assert_no_partial
note "ok"
