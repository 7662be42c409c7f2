# syntax=docker/dockerfile:1
# The data plane proxy, `causeway-proxy` (sidecar or front proxy).
# Build from the repository root (the context is the whole tree; the
# causeway-proxy.Dockerfile.dockerignore beside this file keeps build trees,
# node_modules and .git out of it):
#
#   docker build -f deploy/docker/causeway-proxy.Dockerfile -t causeway-proxy:dev .
#   export CAUSEWAY_XDS_TOKEN=$(causeway token create dev-proxy --role proxy --zone dev-local)
#   docker run -e CAUSEWAY_XDS=hub.internal:50000 -e CAUSEWAY_PROXY=dev-proxy -e CAUSEWAY_ZONE=dev-local \
#     -e CAUSEWAY_XDS_TOKEN -e CAUSEWAY_XDS_CA=/etc/causeway/ca.crt -v "$PWD/tls/ca.crt:/etc/causeway/ca.crt:ro" \
#     causeway-proxy:dev
# Configured like envoy-simple, by environment: CAUSEWAY_XDS, CAUSEWAY_PROXY,
# CAUSEWAY_ZONE, and optionally CAUSEWAY_NODE_ID, CAUSEWAY_ADMIN,
# CAUSEWAY_WORKERS, CAUSEWAY_LISTEN_ADDRESS, CAUSEWAY_ACCESS_LOG. A hub off
# loopback serves xDS over TLS and asks for a token: CAUSEWAY_XDS_CA (or
# CAUSEWAY_XDS_TLS=1 for a certificate from the system's CAs) and
# CAUSEWAY_XDS_TOKEN_FILE (a file readable by uid 10001, read again before
# every connection, so a rotated token is picked up) or CAUSEWAY_XDS_TOKEN.

# ---- build: Debian toolchain and libraries, Envoy protos from npm, Release build
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
# The build dependencies of scripts/bootstrap (test and benchmark libraries
# included: the CMake project looks for them at configure time).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git ca-certificates python3 binutils \
      libboost1.81-dev \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libssl-dev libnghttp2-dev libre2-dev libgoogle-perftools-dev \
      libsqlite3-dev libpq-dev \
      libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev \
      libgtest-dev libgmock-dev libbenchmark-dev \
      nodejs npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Envoy v3 protos: the npm package pinned by api/package-lock.json (a layer
# of its own, rebuilt only when the lock file changes).
COPY api/package.json api/package-lock.json api/
RUN cd api && npm ci --no-audit --no-fund

COPY . .
ARG JOBS=
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAUSEWAY_WERROR=OFF \
 && ninja -C /build ${JOBS:+-j$JOBS} causeway-proxy \
 && install -D -m 0755 /build/src/exe/causeway-proxy /out/usr/bin/causeway-proxy \
 && strip --strip-unneeded /out/usr/bin/causeway-proxy \
 && /out/usr/bin/causeway-proxy --help >/dev/null \
 && deploy/docker/runtime-packages.sh /out/usr/bin/causeway-proxy > /out/runtime-packages.txt

# ---- runtime: the executable and the shared libraries it loads, nothing else
FROM debian:12
ARG DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --system --gid 10001 causeway \
 && useradd --system --uid 10001 --gid causeway --home-dir /var/lib/causeway \
      --shell /usr/sbin/nologin causeway \
 && install -d -o causeway -g causeway -m 0700 /var/lib/causeway
COPY --from=build /out/usr/bin/causeway-proxy /usr/bin/causeway-proxy
USER 10001:10001
ENV HOME=/var/lib/causeway
WORKDIR /var/lib/causeway
# Admin (/ready, /stats, /config_dump) stays on loopback unless CAUSEWAY_ADMIN
# says otherwise; listeners come from the hub (one per domain port).
ENV CAUSEWAY_ACCESS_LOG=-
# Drains for up to 10 s on SIGTERM (taken with sigwait, fine as PID 1).
STOPSIGNAL SIGTERM
CMD ["causeway-proxy"]
