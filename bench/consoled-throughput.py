#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run by consoled-throughput: a Python guest floods one console with
11.6 MB while `kratactl zone logs -f` follows; prints a table row."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["KRATA_SOURCE_ROOT"], "tests", "integration"))
from consoled_guest import Guest, console_call, list_zones, wait_for  # noqa: E402

run = sys.argv[1]
g = Guest(os.environ["KRATA_CONSOLED_TEST_RING_DIR"], "b" + run)
console_call("RegisterZone", "su", "b" + run, 5)
pid = int(subprocess.run(["pidof", "krata-consoled"], capture_output=True, text=True).stdout.split()[0])


def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


follower = subprocess.Popen(["kratactl", "zone", "logs", "-f", "b" + run], stdout=subprocess.DEVNULL)
wait_for(lambda: list_zones()["b" + run][2] == 1, "the reader")
data = b"".join(b"bench line %07d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" % i for i in range(200000))
c0, t0 = cpu(), time.monotonic()
g.write(data, timeout=120)
wait_for(lambda: list_zones()["b" + run][3] == len(data), "the drain", timeout=60)
t1, c1 = time.monotonic(), cpu()
mb = len(data) / 1e6
print(f"| {run} | {mb:.1f} | {t1 - t0:.2f} | {mb / (t1 - t0):.1f} | {c1 - c0:.2f} | {(c1 - c0) / mb * 1000:.1f} |")
g.die()
follower.wait(timeout=10)
console_call("UnregisterZone", "s", "b" + run)
