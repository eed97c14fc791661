#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""latency.py ADDR PORT N: N sequential TCP connect + 1 request/response +
close against net-helper.py's tcp-server; prints "median_us p90_us"."""
import socket
import statistics
import sys
import time

addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
samples = []
for _ in range(n):
    t = time.perf_counter()
    with socket.create_connection((addr, port), timeout=5) as c:
        c.sendall(b"ping")
        c.recv(64)
    samples.append((time.perf_counter() - t) * 1e6)
samples.sort()
print("%d %d" % (statistics.median(samples), samples[int(len(samples) * 0.9)]))
