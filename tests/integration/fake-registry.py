#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A misbehaving OCI registry for krata-imaged's failure tests.

Serves the images of an OCI layout read-only. The first component of the
repository name selects the behaviour: ok/, badblob/ (a flipped byte),
truncated/ (every layer response stops halfway), flaky/ (the first layer
response stops halfway, Range requests work), bigmanifest/ (5 MiB manifest),
unknownmedia/ (a layer of an unknown media type), status404/, status500/,
hang/ (accepts, never answers), redirect/ (blobs answer 307 elsewhere),
slow/ (each layer is held back one second, to show parallel downloads).
Usage: fake-registry.py LAYOUT PORTFILE  (writes the port it listens on)."""
import hashlib
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAYOUT = sys.argv[1]
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
flaky_seen = set()
lock = threading.Lock()


def blob(digest):
    hexd = digest.split(":", 1)[1]
    if not all(c in "0123456789abcdef" for c in hexd):
        return None
    try:
        with open(os.path.join(LAYOUT, "blobs", "sha256", hexd), "rb") as f:
            return f.read()
    except OSError:
        return None


def tagged(tag):
    with open(os.path.join(LAYOUT, "index.json")) as f:
        idx = json.load(f)
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m["digest"], m["mediaType"]
    return None, None


def manifest_for(mode, ref):
    """Returns (body, media type) of the manifest this mode serves."""
    if ref.startswith("sha256:"):
        body = blob(ref)
        if body is None:
            return None, None
        return body, json.loads(body).get("mediaType", MANIFEST)
    digest, mtype = tagged(ref)
    if digest is None:
        return None, None
    body = blob(digest)
    if mode == "unknownmedia":
        m = json.loads(body)
        m["layers"][0]["mediaType"] = "application/vnd.example.unknown"
        body = json.dumps(m).encode()
    elif mode == "bigmanifest":
        m = json.loads(body)
        m["annotations"] = {"padding": "x" * (5 * 1024 * 1024)}
        body = json.dumps(m).encode()
    return body, mtype


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-registry: " + (fmt % args) + "\n")

    def send(self, code, body=b"", ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def cut(self, body, ctype):
        """Announces the whole body, sends half, drops the connection."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/v2", "/v2/"):
            return self.send(200, b"{}")
        if path.startswith("/elsewhere/"):
            data = blob(path[len("/elsewhere/"):])
            return self.send(200, data) if data is not None else self.send(404)
        parts = path.split("/")
        # /v2/<mode>/<name...>/(manifests|blobs)/<ref>
        if len(parts) < 6 or parts[1] != "v2":
            return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        mode, kind, ref = parts[2], parts[-2], parts[-1]
        if mode == "hang":
            time.sleep(3600)
            return None
        if mode == "status404":
            return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
        if mode == "status500":
            return self.send(500, b'{"errors":[{"code":"UNKNOWN"}]}')
        if kind == "manifests":
            body, mtype = manifest_for(mode, ref)
            if body is None:
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            return self.send(200, body, mtype,
                             {"Docker-Content-Digest": "sha256:" + hashlib.sha256(body).hexdigest()})
        if kind != "blobs":
            return self.send(404)
        data = blob(ref)
        if data is None:
            return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        is_layer = len(data) > 4096  # configs are small; the busybox layer is not
        if mode == "slow" and is_layer:
            time.sleep(1)
        if mode == "redirect":
            return self.send(307, b"", extra={"Location": "/elsewhere/" + ref})
        if mode == "badblob" and is_layer:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if mode == "truncated" and is_layer:
            return self.cut(data, "application/octet-stream")
        rng = self.headers.get("Range")
        if mode == "flaky" and is_layer:
            with lock:
                first = ref not in flaky_seen
                flaky_seen.add(ref)
            if first:
                return self.cut(data, "application/octet-stream")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            part = data[start:]
            return self.send(206, part, "application/octet-stream",
                             {"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))})
        return self.send(200, data, "application/octet-stream")

    do_HEAD = do_GET


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
