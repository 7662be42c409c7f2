# syntax=docker/dockerfile:1
# The example services of examples/local-to-staging (Python standard library
# only): pyservice, the service under development, and color_service, the
# staging service answering /api with a hex color. The seed's
# `docker build -f Dockerfile-service -t pyservice1:1.0.0 .` becomes:
#
#   docker build -f deploy/docker/examples.Dockerfile -t pyservice1:1.0.0 .
#   docker run pyservice1:1.0.0                                  # pyservice (SERVICE_NAME, PORT, SIDECAR)
#   docker run pyservice1:1.0.0 python3 /app/color_service.py 9101 00ff00
#
# Both services listen on 127.0.0.1: run them in the network namespace of
# their proxy (a pod, or compose's network_mode: "service:…").
FROM debian:12
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY examples/local-to-staging/pyservice.py examples/local-to-staging/color_service.py /app/
USER 10001:10001
ENV SERVICE_NAME=1 PORT=8080 SIDECAR=http://localhost:8888 PYTHONUNBUFFERED=1
EXPOSE 8080
CMD ["python3", "/app/pyservice.py"]
