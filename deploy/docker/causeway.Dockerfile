# syntax=docker/dockerfile:1
# The hub, the zone agent and the CLI: one executable, `causeway`.
# Build from the repository root (the context is the whole tree; the
# causeway.Dockerfile.dockerignore beside this file keeps build trees,
# node_modules and .git out of it):
#
#   docker build -f deploy/docker/causeway.Dockerfile -t causeway:dev .
#
# The default command is a hub reachable from other machines, so it serves
# REST and xDS over TLS and asks every xDS stream for a token: it needs
# /etc/causeway/tls/hub.crt and hub.key, and stops at start naming the file
# it cannot read. A CA and certificate for trying it (ca.key lands in the
# same volume; a real deployment's CA key stays elsewhere):
#   docker run --rm -v causeway-tls:/etc/causeway/tls causeway:dev \
#     causeway tls init /etc/causeway/tls --name hub.internal --name 127.0.0.1 --name localhost
#   docker run -p 8380:8380 -p 50000:50000 -v causeway-tls:/etc/causeway/tls:ro \
#     -v causeway-data:/var/lib/causeway causeway:dev
# Without TLS files, give a command that keeps the hub on loopback, e.g.
#   docker run causeway:dev causeway serve --data-dir /var/lib/causeway/hub
#
#   docker run causeway:dev causeway agent --hub https://hub.internal:8380 --ca /etc/causeway/tls/ca.crt \
#     --zone Z --collector SPEC   (CAUSEWAY_TOKEN in env)

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
 && ninja -C /build ${JOBS:+-j$JOBS} causeway \
 && install -D -m 0755 /build/src/exe/causeway /out/usr/bin/causeway \
 && strip --strip-unneeded /out/usr/bin/causeway \
 && /out/usr/bin/causeway --help >/dev/null \
 && deploy/docker/runtime-packages.sh /out/usr/bin/causeway > /out/runtime-packages.txt

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
 && install -d -o causeway -g causeway -m 0700 /var/lib/causeway /etc/causeway/tls
COPY --from=build /out/usr/bin/causeway /usr/bin/causeway
USER 10001:10001
ENV HOME=/var/lib/causeway
WORKDIR /var/lib/causeway
EXPOSE 8380 50000
# The hub by default: TLS from /etc/causeway/tls (owned by the image's user,
# so an empty volume mounted there can be written by `causeway tls init`),
# tokens on xDS. `causeway agent …` and CLI verbs run from the same image.
# No ENTRYPOINT: a command given to `docker run`, compose or Kubernetes is the
# whole command line. causeway blocks SIGTERM/SIGINT and takes them with
# sigwait, so it stops cleanly as PID 1 without an init.
CMD ["causeway", "serve", "--api", "0.0.0.0:8380", "--xds", "0.0.0.0:50000", \
     "--tls-cert", "/etc/causeway/tls/hub.crt", "--tls-key", "/etc/causeway/tls/hub.key", "--xds-auth", "token", \
     "--data-dir", "/var/lib/causeway/hub", "--log-format", "json"]
