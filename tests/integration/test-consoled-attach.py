#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`kratactl zone attach` in a real terminal (tmux): typed keys reach the
guest raw, guest output shows up, SIGWINCH passes the size on, Ctrl+]
detaches and the terminal settings are exactly restored. This script plays
the guest; run it through test-consoled.sh attach."""
import os
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consoled_guest import Guest, console_call, fail, list_zones, wait_for  # noqa: E402

if not shutil.which("tmux"):
    fail("tmux is missing: run tools/install-deps")

ringdir = os.environ["KRATA_CONSOLED_TEST_RING_DIR"]
work = os.environ["KRATA_DEV_DIR"]
sock = f"krata-consoled-test-{os.getpid()}"
server_pid = None
socket_path = None


def tmux(*args, check=True):
    return subprocess.run(["tmux", "-L", sock, *args], capture_output=True, text=True, check=check)


def screen():
    return tmux("capture-pane", "-p", "-t", "t").stdout


def check(cond, msg):
    if not cond:
        fail(f"{msg}\n--- screen ---\n{screen()}")
    print(f"ok: {msg}")


def winsize_file():
    try:
        with open(os.path.join(ringdir, "z1", "winsize")) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


try:
    g = Guest(ringdir, "z1")
    console_call("RegisterZone", "su", "z1", 3)
    before, after, rc = (os.path.join(work, n) for n in ("stty-before", "stty-after", "rc"))
    inner = (f"stty -g > {before}; kratactl zone attach z1; echo $? > {rc}; "
             f"stty -g > {after}; exec sleep 600")
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
         "sh -c " + shlex.quote(inner))
    server_pid = int(tmux("display-message", "-p", "-t", "t", "#{pid}").stdout.strip())
    socket_path = tmux("display-message", "-p", "#{socket_path}").stdout.strip()
    tmux("set-option", "-t", "t", "status", "off")
    wait_for(lambda: "Press Ctrl+] to detach" in screen(), "the attach banner")
    check(True, "attach starts in the terminal and says how to detach")

    def pane_size():
        h, w = tmux("display-message", "-p", "-t", "t", "#{pane_height} #{pane_width}").stdout.split()
        return f"{h} {w}"
    wait_for(lambda: winsize_file() == pane_size(), "the initial window size")
    check(True, f"the window size ({winsize_file()}) reaches the guest on attach")

    tmux("send-keys", "-t", "t", "echo hi", "Enter")
    got = g.wait_input(b"echo hi\r")
    check(got == b"echo hi\r", "typed keys reach the guest raw (Enter is CR, no local echo or line editing)")
    tmux("send-keys", "-t", "t", "C-c")
    g.wait_input(b"\x03")
    check(True, "Ctrl+C goes to the guest instead of killing the client")

    g.write(b"guest says hello\r\n")
    wait_for(lambda: "guest says hello" in screen(), "guest output on the screen")
    check(True, "guest output appears on the terminal")

    tmux("resize-window", "-t", "t", "-x", "90", "-y", "25")
    wait_for(lambda: winsize_file() == pane_size() and pane_size().startswith("25"), "the new window size", timeout=5)
    check(True, f"SIGWINCH passes the new size ({winsize_file()}) on")

    tmux("send-keys", "-t", "t", "C-]")
    wait_for(lambda: os.path.exists(after) and os.path.getsize(after) > 0, "attach to exit after Ctrl+]")
    with open(rc) as f:
        check(f.read().strip() == "0", "Ctrl+] detaches with exit status 0")
    with open(before) as f1, open(after) as f2:
        check(f1.read() == f2.read(), "the terminal settings are restored exactly (stty -g before == after)")
    check("Detached from zone z1" in screen(), "the detach is announced")
    check(b"\x1d" not in g.input, "the detach key itself is not sent to the guest")
    wait_for(lambda: list_zones()["z1"][2] == 0, "the client to be gone from consoled")
    check(True, "detaching leaves no client in consoled")

    # Re-attach works, and the writer slot was released by the detach.
    tmux("respawn-pane", "-k", "-t", "t", "sh -c 'kratactl zone attach z1; exec sleep 600'")
    wait_for(lambda: list_zones()["z1"][2] == 1, "the re-attach")
    tmux("send-keys", "-t", "t", "again", "Enter")
    g.wait_input(b"again\r")
    check(True, "re-attach after a detach can write again")
    g.die()
    wait_for(lambda: "console of zone z1 closed" in screen(), "EOF on zone death")
    check(True, "zone death ends the attached session with a message")
    console_call("UnregisterZone", "s", "z1")
finally:
    if server_pid:
        tmux("kill-server", check=False)
    if socket_path:  # tmux leaves its socket behind
        try:
            os.unlink(socket_path)
        except FileNotFoundError:
            pass
print("PASS")
