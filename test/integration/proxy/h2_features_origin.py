#!/usr/bin/env python3
"""An HTTP/1.1 origin for causeway-proxy's HTTP/2 feature tests.

Standard library only. Listens on 127.0.0.1 at a port the kernel picks and
prints "port N" once it accepts connections. Behaviour by path:
  /trailers       a chunked body followed by trailer fields
  /trailers-only  no body, only trailer fields
  /ws             a WebSocket echo server (RFC 6455): checks the handshake,
                  answers 101, echoes text and binary frames, answers close
  anything else   200 with the request line and headers as the body
Every response carries x-te (the request's TE header) and x-upgrade.
"""

import base64
import hashlib
import http.server
import socketserver
import struct
import sys

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_exact(rfile, n):
    data = b""
    while len(data) < n:
        more = rfile.read(n - len(data))
        if not more:
            return None
        data += more
    return data


def read_frame(rfile):
    """One frame from the client: (opcode, payload), or None at the end."""
    head = read_exact(rfile, 2)
    if head is None:
        return None
    opcode = head[0] & 0x0F
    masked = head[1] & 0x80
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", read_exact(rfile, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read_exact(rfile, 8))[0]
    if not masked:
        raise ValueError("client frame without a mask")
    mask = read_exact(rfile, 4)
    payload = bytearray(read_exact(rfile, length))
    for i in range(length):
        payload[i] ^= mask[i % 4]
    return opcode, bytes(payload)


def frame(opcode, payload):
    """A server frame (unmasked, FIN set)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("origin: " + (fmt % args) + "\n")

    def common(self):
        self.send_header("x-te", self.headers.get("te", ""))
        self.send_header("x-upgrade", self.headers.get("upgrade", ""))

    def read_body(self):
        length = int(self.headers.get("content-length", "0"))
        if length:
            self.rfile.read(length)
        elif "chunked" in self.headers.get("transfer-encoding", ""):
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                self.rfile.read(size + 2)
                if size == 0:
                    break

    def do_GET(self):
        if self.path == "/ws":
            return self.websocket()
        self.read_body()
        if self.path in ("/trailers", "/trailers-only"):
            self.send_response(200)
            self.common()
            self.send_header("content-type", "application/grpc")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("trailer", "grpc-status, grpc-message, x-checksum")
            self.end_headers()
            if self.path == "/trailers":
                self.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n")
            self.wfile.write(
                b"0\r\ngrpc-status: 0\r\ngrpc-message: all%20good\r\n"
                b"x-checksum: c0ffee\r\n\r\n")
            return
        body = ("%s %s\n" % (self.command, self.path)).encode()
        for name, value in self.headers.items():
            body += ("%s: %s\n" % (name.lower(), value)).encode()
        self.send_response(200)
        self.common()
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def websocket(self):
        key = self.headers.get("sec-websocket-key", "")
        upgrade = self.headers.get("upgrade", "").lower()
        connection = self.headers.get("connection", "").lower()
        if (upgrade != "websocket" or "upgrade" not in connection or
                len(base64.b64decode(key)) != 16 or
                self.headers.get("sec-websocket-version") != "13"):
            self.send_response(400)
            self.common()
            self.send_header("content-length", "0")
            self.end_headers()
            return
        accept = base64.b64encode(
            hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("upgrade", "websocket")
        self.send_header("connection", "Upgrade")
        self.send_header("sec-websocket-accept", accept)
        protocol = self.headers.get("sec-websocket-protocol")
        if protocol:
            self.send_header("sec-websocket-protocol", protocol.split(",")[0].strip())
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while True:
            got = read_frame(self.rfile)
            if got is None:
                return
            opcode, payload = got
            if opcode == 0x8:  # close: answer it and end
                self.wfile.write(frame(0x8, payload))
                self.wfile.flush()
                return
            if opcode == 0x9:  # ping
                opcode = 0xA
            self.wfile.write(frame(opcode, payload))
            self.wfile.flush()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
