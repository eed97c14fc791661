#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""krata-consoled on a private bus with the test backend: this script plays
the guest. Run through test-consoled.sh (which starts tools/dev-env)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consoled_guest import Guest, console_call, fail, list_zones, wait_for  # noqa: E402

ringdir = os.environ["KRATA_CONSOLED_TEST_RING_DIR"]
work = os.environ["KRATA_DEV_DIR"]
LINES = 10000
procs = []


def spawn(args, stdin=subprocess.DEVNULL, name="out"):
    out = open(os.path.join(work, name), "wb")
    p = subprocess.Popen(["kratactl", *args], stdin=stdin, stdout=out, stderr=subprocess.PIPE)
    procs.append(p)
    return p, os.path.join(work, name)


def check(cond, msg):
    if not cond:
        fail(msg)
    print(f"ok: {msg}")


try:
    g = Guest(ringdir, "z1")
    # Output the guest wrote before the hand-over is not lost.
    g.write(b"early boot line\n")
    console_call("RegisterZone", "su", "z1", 7)
    check(list_zones()["z1"][:2] == (7, "running"), "RegisterZone activates consoled and lists the zone")
    r = console_call("RegisterZone", "su", "z2", 7, check=False)
    check(r.returncode != 0 and "already" in r.stderr,
          "a second zone on the same domain is refused")
    r = console_call("RegisterZone", "su", "Bad_Name", 8, check=False)
    check(r.returncode != 0, "an invalid zone name is refused")

    follower, follower_out = spawn(["zone", "logs", "-f", "z1"], name="follow")
    reader, reader_out = spawn(["zone", "attach", "--read-only", "z1"], name="reader")
    wr, ww = os.pipe()
    # The writer uses --history: output through FollowLog, input through
    # OpenConsole (two clients), as `zone launch --attach` will.
    writer, writer_out = spawn(["zone", "attach", "--history", "z1"], stdin=wr, name="writer")
    os.close(wr)
    wait_for(lambda: list_zones()["z1"][2] == 4, "four clients attached")

    second = subprocess.run(["kratactl", "zone", "attach", "z1"], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=10)
    check(second.returncode != 0 and "writer" in second.stderr,
          f"a second writer is refused ({second.stderr.strip()})")
    check(list_zones()["z1"][2] == 4, "the refused writer left no client behind")

    expected = b"".join(b"line %05d of the console test\r\n" % i for i in range(LINES))
    t0 = time.monotonic()
    for i in range(0, LINES, 50):
        g.write(expected[i * 32:(i + 50) * 32])
    t_write = time.monotonic() - t0
    print(f"info: guest wrote {LINES} lines ({len(expected)} bytes) in {t_write:.2f}s")

    def log():
        return subprocess.run(["kratactl", "zone", "logs", "z1"], capture_output=True, check=True).stdout
    full = b"early boot line\n" + expected
    wait_for(lambda: log() == full, "GetLog to hold every line")
    check(True, f"zone logs returns all {LINES} lines in order, nothing lost or repeated")

    # Input: more than the 1024-byte ring holds, taken slowly by the guest.
    payload = b"".join(b"input %04d\n" % i for i in range(600))  # 6600 bytes
    os.write(ww, b"hello from the host\n")
    g.wait_input(b"hello from the host\n")
    check(True, "input from the writer reaches the guest's ring")
    os.write(ww, payload)
    got = g.wait_input(payload, timeout=30, chunk=300, pause=0.01)
    check(got == b"hello from the host\n" + payload, "6600 bytes of input arrive exactly once, in order, through a 1 KiB ring")

    # Window size goes to the backend (xenstore krata/winsize on Xen).
    console_call("Resize", "sqq", "z1", 40, 120)
    with open(os.path.join(ringdir, "z1", "winsize")) as f:
        check(f.read().strip() == "40 120", "Resize publishes the window size for the guest")

    # A hostile guest: producer index far beyond the ring.
    g.set(3084, g.get(3080) + 100000)
    g.notify()
    time.sleep(0.2)
    g.write(b"after resync\n")
    wait_for(lambda: log().endswith(b"after resync\n"), "output after a bogus index")
    check("z1" in list_zones(), "a guest moving its index wrongly is resynchronised, the daemon lives on")
    full += b"after resync\n"

    # A stalled reader on another zone: it skips what scrolled out of the
    # 1 MiB scrollback, while a fast reader of the same zone and everything
    # on z1 carry on.
    g2 = Guest(ringdir, "z2")
    console_call("RegisterZone", "su", "z2", 8)
    stalled = subprocess.Popen(["kratactl", "zone", "logs", "-f", "z2"], stdout=subprocess.PIPE)
    procs.append(stalled)
    fast, fast_out = spawn(["zone", "logs", "-f", "z2"], name="fast")
    wait_for(lambda: list_zones()["z2"][2] == 2, "two readers on z2")
    N2 = 100000
    flood = b"".join(b"flood %06d.........................\n" % i for i in range(N2))
    t0 = time.monotonic()
    g2.write(flood, timeout=60)
    t_flood = time.monotonic() - t0
    g.write(b"z1 still served\n")
    wait_for(lambda: log().endswith(b"z1 still served\n"), "z1 output during the z2 flood")
    check(True, f"z2 drains at full speed past a stalled reader ({len(flood)} bytes in {t_flood:.2f}s, "
                f"{len(flood) / t_flood / 1e6:.1f} MB/s through the 2 KiB ring, Python guest) and z1 is still served")
    full += b"z1 still served\n"
    g2.die()
    fast.wait(timeout=20)
    with open(fast_out, "rb") as f:
        check(f.read() == flood, "the fast reader of the flooded zone got every byte")
    got = stalled.stdout.read()
    stalled.wait(timeout=20)
    lines = got.split(b"\n")
    nums = [int(line[6:12]) for line in lines if len(line) == 37 and line.startswith(b"flood ")]
    check(len(got) < len(flood) and got.endswith(flood[-37:]) and nums == sorted(set(nums)),
          f"the stalled reader skipped {len(flood) - len(got)} bytes, in order, no repeats, up to the end")
    console_call("UnregisterZone", "s", "z2")

    # A writer that vanishes while its input is still queued (the guest is
    # not reading): what it sent still arrives, once, when the guest reads.
    g3 = Guest(ringdir, "z3")
    console_call("RegisterZone", "su", "z3", 9)
    blob = b"".join(b"queued %05d\n" % i for i in range(1000))  # 13000 bytes
    rq, wq = os.pipe()
    quitter = subprocess.Popen(["kratactl", "zone", "attach", "z3"], stdin=rq,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(rq)
    os.write(wq, blob)
    os.close(wq)
    # The daemon holds 1 KiB in the ring and 4 KiB in its buffer; the rest
    # sits in the socket. Wait until kratactl has handed everything over.
    wait_for(lambda: g3.get(3076) == 1024, "the input ring to fill")
    time.sleep(0.5)
    quitter.kill()
    quitter.wait()
    got = g3.wait_input(blob, timeout=20, chunk=200, pause=0.005)
    check(got == blob, "input queued by a writer that was killed arrives exactly once when the guest reads it")
    wait_for(lambda: list_zones()["z3"][2] == 0, "the vanished writer to be released")
    g3.die()
    console_call("UnregisterZone", "s", "z3")

    # Death: every client sees EOF.
    g.die()
    for p, what in ((follower, "logs -f"), (reader, "read-only attach"), (writer, "writer attach")):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            fail(f"{what} did not get EOF after the zone died")
        check(p.returncode == 0, f"{what} got EOF and exited 0 after the zone died")
    with open(follower_out, "rb") as f:
        check(f.read() == full, "logs -f saw every byte exactly once")
    with open(writer_out, "rb") as f:
        check(f.read() == full, "attach --history showed the history and everything after, exactly once")
    with open(reader_out, "rb") as f:
        data = f.read()
        check(data == expected + b"after resync\nz1 still served\n", "the read-only attach saw every line written after it attached")
    check(list_zones()["z1"][1] == "dead", "the zone is listed as dead")
    check(log() == full, "the log of a dead zone stays readable until it is unregistered")
    r = subprocess.run(["kratactl", "zone", "attach", "z1"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    check(r.returncode != 0, "writing to a dead zone is refused")

    console_call("UnregisterZone", "s", "z1")
    r = subprocess.run(["kratactl", "zone", "logs", "z1"], capture_output=True, text=True)
    check(r.returncode == 3, "logs of an unknown zone exit 3 (not found)")

    # With no zones left, the daemon exits (KRATA_CONSOLED_EXIT_IDLE_TIME=1).
    def gone():
        r = subprocess.run(["busctl", "--system", "status", "org.krata.Console1"], capture_output=True)
        return r.returncode != 0
    wait_for(gone, "consoled to exit when idle", timeout=15)
    check(True, "consoled exits when it holds no zones")
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
print("PASS")
