#!/usr/bin/env python3
"""A staging service that answers /api with a hex color, like the
all-in-one demo container of the original example. Each instance has its own
color, so a caller can tell which instance answered.

Usage: color_service.py PORT COLOR      (e.g. 9101 00ff00)
Environment: BIND (default 127.0.0.1; 0.0.0.0 in a pod).
"""
import http.server
import os
import sys

PORT = int(sys.argv[1])
BIND = os.environ.get("BIND", "127.0.0.1")
COLOR = sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/api" or self.path.startswith("/api/") or self.path.startswith("/api?"):
            status, body = 200, COLOR + "\n"
        else:
            status, body = 404, "not found\n"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Color-Instance", f"{BIND}:{PORT}")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer((BIND, PORT), Handler).serve_forever()
