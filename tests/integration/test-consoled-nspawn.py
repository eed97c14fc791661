#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The guest side and the checks for test-consoled-nspawn.sh."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consoled_guest import Guest, fail, wait_for  # noqa: E402

rig, rdir = os.environ["KRATA_RIG"], os.environ["KRATA_RIG_DIR"]


def x(*args, check=True, **kw):
    r = subprocess.run([rig, "exec", rdir, *args], capture_output=True, **kw)
    if check and r.returncode != 0:
        fail(f"{' '.join(args)} failed ({r.returncode}): {r.stderr!r}")
    return r


def call(*args, user=None, check=True):
    pre = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] if user else []
    return x(*pre, "busctl", "call", "org.krata.Console1", "/org/krata/console1", "org.krata.Console1",
             *args, check=check, text=True)


def check(cond, msg):
    if not cond:
        fail(msg)
    print(f"ok: {msg}")


g = Guest(os.path.join(rdir, "root/var/lib/krata-test-ring"), "z1")
g.write(b"before activation\n")
call("RegisterZone", "su", "z1", "5")
check(x("systemctl", "is-active", "krata-consoled.service", text=True).stdout.strip() == "active",
      "RegisterZone starts krata-consoled.service through SystemdService= (Type=dbus, sandboxed)")
# root without any capability: the /dev/xen nodes need none
for a in (["assert-activated", rdir, "krata-consoled.service", "org.krata.Console1"],
          ["assert-sandbox", rdir, "krata-consoled.service", "root", "0000000000000000"]):
    r = subprocess.run([rig, *a], capture_output=True, text=True)
    check(r.returncode == 0, (r.stdout + r.stderr).strip())
lines = b"".join(b"journal line %04d\n" % i for i in range(1000))
g.write(lines)
wait_for(lambda: x("kratactl", "zone", "logs", "z1").stdout == b"before activation\n" + lines, "zone logs in the container")
check(True, "zone logs returns every line under the sandbox")

attach = subprocess.Popen([rig, "exec", rdir, "sh", "-c", "printf 'typed in the container\\n' | kratactl zone attach z1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
try:
    g.wait_input(b"typed in the container\n")
except TimeoutError as e:
    attach.kill()
    fail(f"{e}; attach said: {attach.communicate()}; daemon: {x('journalctl', '-u', 'krata-consoled', '-o', 'cat', 'SYSLOG_IDENTIFIER=krata-consoled', text=True).stdout}")
check(True, "kratactl zone attach (fd passing through the real dbus-daemon) delivers input to the guest")

r = call("ListZones", user="bob")
check(r.returncode == 0 and '"z1"' in r.stdout, "an unprivileged user may list zones")
r = call("GetLog", "s", "z1", user="bob", check=False)
check(r.returncode != 0 and ("Access denied" in r.stderr or "AccessDenied" in r.stderr or "Authentication" in r.stderr),
      f"an unprivileged user may not read a console ({r.stderr.strip()})")
r = x("setpriv", "--reuid=bob", "--regid=bob", "--init-groups", "kratactl", "zone", "attach", "z1",
      check=False, text=True, stdin=subprocess.DEVNULL)
check(r.returncode == 5, f"kratactl zone attach as bob exits 5 (denied): {r.stderr.strip()}")

j = x("journalctl", "-o", "cat", "ZONE=z1", text=True).stdout
check("journal line 0999" in j and "before activation" in j, "zone output is in the journal with ZONE=z1")

# A burst beyond a zone's journal budget (2000 lines at once, then 100 a
# second: src/consoled/journal-limit.h) is cut short in the journal (not in
# the scrollback), and the cut is reported with the next line let through.
time.sleep(1.1)
g.write(b"".join(b"burst %05d\n" % i for i in range(6000)))
time.sleep(1.1)
g.write(b"after the burst\n")
wait_for(lambda: x("kratactl", "zone", "logs", "z1").stdout.endswith(b"burst 05999\nafter the burst\n"), "the burst in the scrollback")
j = wait_for(lambda: (lambda o: o if "after the burst" in o else None)(x("journalctl", "-o", "cat", "ZONE=z1", text=True).stdout),
             "the journal to catch up")
n = j.count("burst ")
check(0 < n < 6000 and "Suppressed" in j and "after the burst" in j,
      f"a zone's journal output is rate-limited ({n} of 6000 burst lines logged, the rest counted) while the scrollback keeps all")

g.die()
try:
    attach.wait(timeout=10)
except subprocess.TimeoutExpired:
    attach.kill()
    fail("attach did not end when the zone died")
check(attach.returncode == 0, "the attached client got EOF when the zone died")
call("UnregisterZone", "s", "z1")
wait_for(lambda: x("systemctl", "is-active", "krata-consoled.service", check=False, text=True).stdout.strip() == "inactive",
         "the service to stop when idle", timeout=15)
check(True, "krata-consoled stops on its own once it holds no zones")
r = x("journalctl", "-u", "krata-consoled.service", "-o", "cat", "-p", "warning", text=True).stdout
check("SECCOMP" not in r and "SIGSYS" not in r, "no seccomp kills under the shipped filter")
print("PASS")
