#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A bearer-token server for docker-registry (distribution's token auth),
for krata-imaged's tests. Anonymous callers may pull repositories under
public/; USER:PASSWORD may pull and push everything.
Usage: token-server.py DIR USER PASSWORD SERVICE
Writes DIR/cert.pem (the registry's rootcertbundle) and DIR/port."""
import base64
import datetime
import json
import os
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

DIR, USER, PASSWORD, SERVICE = sys.argv[1:5]
ISSUER = "krata-test-issuer"

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
with open(os.path.join(DIR, "cert.pem"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
requests = {"anonymous": 0, "authenticated": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("token-server: " + (fmt % args) + "\n")

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/stats":
            return self.reply(200, requests)
        if url.path != "/token":
            return self.reply(404, {})
        q = parse_qs(url.query)
        user = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if u != USER or p != PASSWORD:
                return self.reply(401, {"details": "bad credentials"})
            user = u
        requests["authenticated" if user else "anonymous"] += 1
        access = []
        for scope in q.get("scope", []):
            typ, _, rest = scope.partition(":")
            repo, _, actions = rest.rpartition(":")
            wanted = actions.split(",")
            if user:
                granted = [a for a in wanted if a in ("pull", "push")]
            else:
                granted = ["pull"] if repo.startswith("public/") and "pull" in wanted else []
            access.append({"type": typ, "name": repo, "actions": granted})
        t = int(time.time())
        claims = {"iss": ISSUER, "sub": user or "", "aud": q.get("service", [SERVICE])[0],
                  "exp": t + 300, "nbf": t - 10, "iat": t, "jti": str(uuid.uuid4()), "access": access}
        token = jwt.encode(claims, pem_key, algorithm="RS256", headers={"x5c": [x5c]})
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300})


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
srv.serve_forever()
