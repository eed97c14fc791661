#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tiny servers and clients for the krata-networkd tests (stdlib only).

  tcp-server ADDR PORT      answer each connection's line with "pong:LINE"
  udp-echo ADDR PORT        echo datagrams
  dns-server ADDR PORT      A test.krata. -> 192.0.2.7, AAAA -> 2001:db8::7, else NXDOMAIN
  tcp-client ADDR PORT      send "ping", print the answer (exit 1 on failure)
  udp-client ADDR PORT      send "ping", print the echo
  dns-query SERVER NAME A|AAAA  print the first answer's address
  tcp-connect ADDR PORT     print how a connection attempt ends: "connected",
                            an errno name (ECONNREFUSED, EHOSTUNREACH, ...) or "timeout"
  udp-send ADDR PORT        send one datagram "mark"
  capture IFACE PREFIX...   count IPv4/IPv6 packets on IFACE whose destination is in
                            one of the prefixes, until a UDP datagram to port 7999
                            arrives (the end mark); print "pool=N mark=1"
Servers print "ready" once listening and run until killed.
"""
import errno
import ipaddress
import socket
import struct
import sys
import threading

TIMEOUT = 5


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp_server(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen(64)
    print("ready", flush=True)

    def serve(c):
        with c:
            c.settimeout(TIMEOUT)
            try:
                data = c.recv(4096)
                c.sendall(b"pong:" + data)
            except OSError:
                pass

    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def udp_echo(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    if family(addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(b"echo:" + data, peer)


def dns_server(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 12:
            continue
        qid = q[:2]
        i = 12
        labels = []
        while i < len(q) and q[i] != 0:
            n = q[i]
            labels.append(q[i + 1:i + 1 + n].decode(errors="replace"))
            i += 1 + n
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        question = q[12:i + 5]
        name = ".".join(labels).lower()
        answers = b""
        rcode = 3
        if name == "test.krata":
            rcode = 0
            if qtype == 1:
                answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_pton(socket.AF_INET, "192.0.2.7")
            elif qtype == 28:
                answers = b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, "2001:db8::7")
        flags = 0x8180 | rcode
        hdr = qid + struct.pack("!HHHHH", flags, 1, 1 if answers else 0, 0, 0)
        s.sendto(hdr + question + answers, peer)


def tcp_client(addr, port):
    with socket.create_connection((addr, port), timeout=TIMEOUT) as c:
        c.sendall(b"ping")
        print(c.recv(4096).decode())


def udp_client(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    for _ in range(3):  # datagrams may be lost while neighbours are learnt
        s.sendto(b"ping", (addr, port))
        try:
            print(s.recvfrom(4096)[0].decode())
            return
        except socket.timeout:
            continue
    sys.exit("udp: no answer")


def dns_query(server, name, qtype):
    t = {"A": 1, "AAAA": 28}[qtype]
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack("!HH", t, 1)
    s = socket.socket(family(server), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(q, (server, 53))
    r = s.recvfrom(4096)[0]
    qid, flags, qd, an = struct.unpack("!HHHH", r[:8])
    if qid != 0x1234 or flags & 0xf or an == 0:
        sys.exit("dns: bad answer id=%x flags=%x an=%d" % (qid, flags, an))
    rdata = r[-(4 if t == 1 else 16):]
    print(socket.inet_ntop(socket.AF_INET if t == 1 else socket.AF_INET6, rdata))


def tcp_connect(addr, port):
    c = socket.socket(family(addr), socket.SOCK_STREAM)
    c.settimeout(TIMEOUT)
    try:
        c.connect((addr, port))
        print("connected")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))


def udp_send(addr, port):
    socket.socket(family(addr), socket.SOCK_DGRAM).sendto(b"mark", (addr, port))


def capture(iface, *prefixes):
    nets = [ipaddress.ip_network(p) for p in prefixes]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))  # ETH_P_ALL
    s.bind((iface, 0))
    s.settimeout(60)  # a bound on a test that lost its end mark
    print("ready", flush=True)
    pool = 0
    while True:
        try:
            f = s.recv(65535)
        except socket.timeout:
            print("pool=%d mark=0" % pool, flush=True)
            return
        etype = struct.unpack("!H", f[12:14])[0]
        if etype == 0x0800 and len(f) >= 34:
            dst, proto, l4 = ipaddress.ip_address(f[30:34]), f[23], 14 + (f[14] & 0xf) * 4
        elif etype == 0x86dd and len(f) >= 54:
            dst, proto, l4 = ipaddress.ip_address(f[38:54]), f[20], 54
        else:
            continue
        if any(dst in n for n in nets):
            pool += 1
            print("pool packet to %s proto %d" % (dst, proto), flush=True)
        elif proto == 17 and len(f) >= l4 + 4 and struct.unpack("!H", f[l4 + 2:l4 + 4])[0] == 7999:
            print("pool=%d mark=1" % pool, flush=True)
            return


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "dns-query":
        return dns_query(args[0], args[1], args[2])
    if cmd == "capture":
        return capture(*args)
    fn = {"tcp-server": tcp_server, "udp-echo": udp_echo, "dns-server": dns_server,
          "tcp-client": tcp_client, "udp-client": udp_client, "tcp-connect": tcp_connect,
          "udp-send": udp_send}[cmd]
    fn(args[0], int(args[1]))


if __name__ == "__main__":
    main()
