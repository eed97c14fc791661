# SPDX-License-Identifier: Apache-2.0
"""The guest side of a PV console, for krata-consoled's test backend.

A zone NAME lives in RINGDIR/NAME/: `ring` is the xencons_interface page
(xen/io/console.h: in[1024], out[2048], then in_cons, in_prod, out_cons,
out_prod as little-endian u32), `notify-host`/`notify-guest` are FIFOs
standing in for the event channel. Removing `ring` is the domain's death.
"""
import os
import select
import struct
import subprocess
import sys
import time

IN_SIZE, OUT_SIZE = 1024, 2048
OFF_IN, OFF_OUT = 0, 1024
OFF_IN_CONS, OFF_IN_PROD, OFF_OUT_CONS, OFF_OUT_PROD = 3072, 3076, 3080, 3084
M32 = 0xFFFFFFFF


class Guest:
    def __init__(self, ringdir, name):
        import mmap
        self.dir = os.path.join(ringdir, name)
        os.makedirs(self.dir)
        ring = os.path.join(self.dir, "ring")
        with open(ring, "wb") as f:
            f.write(b"\0" * 4096)
        for fifo in ("notify-host", "notify-guest"):
            os.mkfifo(os.path.join(self.dir, fifo))
        self.fd = os.open(ring, os.O_RDWR)
        self.mm = mmap.mmap(self.fd, 4096)
        self.nh = os.open(os.path.join(self.dir, "notify-host"), os.O_RDWR | os.O_NONBLOCK)
        self.ng = os.open(os.path.join(self.dir, "notify-guest"), os.O_RDWR | os.O_NONBLOCK)
        self.input = bytearray()

    def get(self, off):
        return struct.unpack_from("<I", self.mm, off)[0]

    def set(self, off, v):
        struct.pack_into("<I", self.mm, off, v & M32)

    def notify(self):
        try:
            os.write(self.nh, b"!")
        except BlockingIOError:
            pass

    def wait_host(self, timeout):
        r, _, _ = select.select([self.ng], [], [], timeout)
        if r:
            try:
                while os.read(self.ng, 4096):
                    pass
            except BlockingIOError:
                pass

    def write(self, data, timeout=20.0):
        """Writes all of data to out[], waiting for the host to make room."""
        deadline = time.monotonic() + timeout
        data = memoryview(data)
        while len(data):
            cons, prod = self.get(OFF_OUT_CONS), self.get(OFF_OUT_PROD)
            space = OUT_SIZE - ((prod - cons) & M32)
            if space <= 0:
                if time.monotonic() > deadline:
                    raise TimeoutError("host stopped draining the console output ring")
                self.notify()
                self.wait_host(0.5)
                continue
            n = min(space, len(data))
            for i in range(n):
                self.mm[OFF_OUT + ((prod + i) & (OUT_SIZE - 1))] = data[i]
            self.set(OFF_OUT_PROD, prod + n)  # x86 keeps the stores in order
            data = data[n:]
            self.notify()

    def read_input(self, max_bytes=IN_SIZE):
        cons, prod = self.get(OFF_IN_CONS), self.get(OFF_IN_PROD)
        n = min((prod - cons) & M32, max_bytes)
        out = bytes(self.mm[OFF_IN + ((cons + i) & (IN_SIZE - 1))] for i in range(n))
        self.set(OFF_IN_CONS, cons + n)
        if n:
            self.notify()
        self.input += out
        return out

    def wait_input(self, needle, timeout=10.0, chunk=IN_SIZE, pause=0.0):
        deadline = time.monotonic() + timeout
        while needle not in self.input:
            if time.monotonic() > deadline:
                raise TimeoutError(f"guest never received {needle!r}; got {bytes(self.input[-200:])!r}")
            if not self.read_input(chunk):
                self.wait_host(0.1)
            elif pause:
                time.sleep(pause)
        return bytes(self.input)

    def die(self):
        os.unlink(os.path.join(self.dir, "ring"))


def busctl(*args, check=True):
    return subprocess.run(["busctl", "--system", *args], capture_output=True, text=True, check=check)


def console_call(method, signature, *args, check=True):
    return busctl("call", "org.krata.Console1", "/org/krata/console1", "org.krata.Console1",
                  method, signature, *[str(a) for a in args], check=check)


def list_zones():
    """{name: (domid, state, clients, bytes)} from ListZones."""
    out = console_call("ListZones", "").stdout.split()
    n = int(out[1])
    res, i = {}, 2
    for _ in range(n):
        name, domid, state, clients, total = out[i:i + 5]
        res[name.strip('"')] = (int(domid), state.strip('"'), int(clients), int(total))
        i += 5
    return res


def wait_for(cond, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)
