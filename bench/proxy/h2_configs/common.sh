# Shared by the configuration writers in this folder (sourced, not run).

# nginx_prelude DIR: 1 worker, no access log, long keep-alive, everything
# under DIR; the caller closes the http block.
nginx_prelude() {
  cat <<EOF2
worker_processes 1;
daemon off;
user root;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  client_body_temp_path $1/client_body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
EOF2
}

# haproxy_prelude SOCKET: 1 thread, no log, keep-alive, long timeouts.
haproxy_prelude() {
  cat <<EOF2
global
  nbthread 1
  maxconn 4096
  stats socket $1
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
EOF2
}

# causeway_route HOST PORT NAME CLUSTER: a Domain, a RouteGroup and a Route
# sending every path of HOST:PORT to CLUSTER.
causeway_route() {
  cat <<EOF2
---
kind: Domain
zone: bench
host: $1
port: $2
---
kind: RouteGroup
name: $3
zone: bench
default:
  - cluster: $4
---
kind: Route
name: $3
zone: bench
domain: $1:$2
path: /
route_group: $3
EOF2
}
