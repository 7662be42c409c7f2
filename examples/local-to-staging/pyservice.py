#!/usr/bin/env python3
"""The service under development in the local-to-staging example.

Python standard library only. Two endpoints, as in the original example:

  /service/<n>  answers with its own identity
  /trace/<n>    calls demo.turbinelabs.io/api through the local sidecar
                (http://localhost:8888 by default) and includes the answer

Trace headers of the incoming request are passed on to the upstream call, so
a request can be followed from the laptop to the staging pod.

Environment: SERVICE_NAME (default 1), PORT (default 8080), BIND (default
127.0.0.1; 0.0.0.0 in a pod), SIDECAR (default http://localhost:8888),
UPSTREAM_HOST (default demo.turbinelabs.io).
"""
import http.server
import os
import socket
import sys
import urllib.error
import urllib.request

SERVICE_NAME = os.environ.get("SERVICE_NAME", "1")
PORT = int(os.environ.get("PORT", "8080"))
BIND = os.environ.get("BIND", "127.0.0.1")
SIDECAR = os.environ.get("SIDECAR", "http://localhost:8888")
UPSTREAM_HOST = os.environ.get("UPSTREAM_HOST", "demo.turbinelabs.io")
WHERE = os.environ.get("WHERE", "minikube")

TRACE_HEADERS = [
    "x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid",
    "x-b3-sampled", "x-b3-flags", "x-ot-span-context", "traceparent", "tracestate", "baggage",
]


def identity():
    hostname = socket.gethostname()
    try:
        resolved = socket.gethostbyname(hostname)
    except OSError:
        resolved = "unknown"
    return f"hostname: {hostname} resolvedhostname: {resolved}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "service":
            self.reply(200, f"Hello from {WHERE} (service {parts[1]})! {identity()}\n")
        elif len(parts) == 2 and parts[0] == "trace":
            self.reply(200, f"Hello from {WHERE} -- {self.call_upstream()} (service {parts[1]})! {identity()}\n")
        else:
            self.reply(404, "not found\n")

    def call_upstream(self):
        request = urllib.request.Request(f"{SIDECAR}/api/", headers={"Host": UPSTREAM_HOST})
        for name in TRACE_HEADERS:
            value = self.headers.get(name)
            if value is not None:
                request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read().decode().strip()
        except urllib.error.HTTPError as e:
            return f"upstream answered {e.code}: {e.read().decode(errors='replace').strip()}"
        except (urllib.error.URLError, OSError) as e:
            return f"upstream connect error or disconnect/reset before headers ({e})"

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stderr.write("pyservice: " + (fmt % args) + "\n")


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer((BIND, PORT), Handler)
    sys.stderr.write(f"pyservice {SERVICE_NAME} listening on {BIND}:{PORT}, sidecar {SIDECAR}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
