// causeway_proxy_bench_server: runs causeway-proxy's ProxyServer with a fixed
// configuration and no hub, for bench/proxy/run.
//
//   causeway_proxy_bench_server --port 18080 --origin 127.0.0.1:18000 --workers 1
//                               [--access-log PATH] [--worker-slice-us US]
//
// The configuration is built the way the xDS client builds it, from Envoy v3
// protos through BuildConfig, so the request path measured is the real one.
// The route set matches the nginx and HAProxy configurations in run: exact
// /100b and /16k plus a catch-all prefix, all to one static cluster. Access
// logging is off, as it is for the peers, unless --access-log names a file
// (JSON lines) for looking into a run.
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "proxy/config/build_config.h"
#include "proxy/server/proxy_server.h"

namespace causeway::proxy {
namespace {

// String fields are set from std::string rvalues: assigning literals trips a
// false -Wrestrict in GCC 12's std::string at -O3 (GCC bug 105329).

using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

RouteConfiguration Routes() {
  RouteConfiguration rc;
  rc.set_name(std::string("bench"));
  auto* vh = rc.add_virtual_hosts();
  vh->set_name(std::string("any"));
  vh->add_domains(std::string("*"));
  for (const char* path : {"/100b", "/16k"}) {
    auto* r = vh->add_routes();
    r->set_name(std::string(path + 1));
    r->mutable_match()->set_path(std::string(path));
    r->mutable_route()->set_cluster(std::string("origin"));
  }
  auto* r = vh->add_routes();
  r->set_name(std::string("default"));
  r->mutable_match()->set_prefix(std::string("/"));
  r->mutable_route()->set_cluster(std::string("origin"));
  return rc;
}

Listener MakeListener(int port) {
  HttpConnectionManager hcm;
  hcm.set_stat_prefix(std::string("bench"));
  *hcm.mutable_route_config() = Routes();
  Listener l;
  l.set_name(std::string("bench"));
  auto* sa = l.mutable_address()->mutable_socket_address();
  sa->set_address(std::string("127.0.0.1"));
  sa->set_port_value(port);
  auto* f = l.add_filter_chains()->add_filters();
  f->set_name(std::string("envoy.filters.network.http_connection_manager"));
  f->mutable_typed_config()->PackFrom(hcm);
  return l;
}

Cluster MakeCluster(const std::string& host, int port) {
  Cluster c;
  c.set_name(std::string("origin"));
  c.set_type(Cluster::STATIC);
  // As nginx (proxy_connect_timeout) and HAProxy (timeout connect) in run.
  c.mutable_connect_timeout()->set_seconds(5);
  auto* cla = c.mutable_load_assignment();
  cla->set_cluster_name(std::string("origin"));
  auto* sa = cla->add_endpoints()
                 ->add_lb_endpoints()
                 ->mutable_endpoint()
                 ->mutable_address()
                 ->mutable_socket_address();
  sa->set_address(host);
  sa->set_port_value(port);
  return c;
}

int Usage() {
  std::fprintf(stderr,
               "usage: causeway_proxy_bench_server --port P --origin HOST:PORT [--workers N]"
               " [--access-log PATH] [--worker-slice-us US]\n");
  return 2;
}

int Main(int argc, char** argv) {
  int port = -1;
  int workers = 1;
  auto worker_slice = kDefaultWorkerSlice;  // as causeway-proxy's --worker-slice-us
  std::string origin;
  std::string access_log_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port") {
      port = std::atoi(argv[i + 1]);
    } else if (flag == "--origin") {
      origin = argv[i + 1];
    } else if (flag == "--workers") {
      workers = std::atoi(argv[i + 1]);
    } else if (flag == "--worker-slice-us") {
      worker_slice = std::chrono::microseconds(std::atoi(argv[i + 1]));
    } else if (flag == "--access-log") {
      access_log_path = argv[i + 1];
    } else {
      return Usage();
    }
  }
  size_t colon = origin.rfind(':');
  if (port < 0 || colon == std::string::npos || argc % 2 == 0) return Usage();
  std::string origin_host = origin.substr(0, colon);
  int origin_port = std::atoi(origin.c_str() + colon + 1);

  // Block the stop signals before the workers start so that only sigwait
  // below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::FILE* log_file = nullptr;
  std::unique_ptr<StreamAccessLog> access_log;
  if (!access_log_path.empty()) {
    log_file = std::fopen(access_log_path.c_str(), "w");
    if (log_file == nullptr) {
      std::fprintf(stderr, "--access-log %s: %s\n", access_log_path.c_str(), std::strerror(errno));
      return 1;
    }
    access_log = std::make_unique<StreamAccessLog>(log_file);
  }
  ProxyServer server(
      {.workers = workers, .access_log = access_log.get(), .worker_slice = worker_slice});
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  auto snapshot =
      BuildConfig({MakeListener(port)}, {}, {MakeCluster(origin_host, origin_port)}, {});
  if (!snapshot.ok()) {
    std::fprintf(stderr, "config: %s\n", snapshot.status().ToString().c_str());
    return 1;
  }
  if (absl::Status s = server.UpdateConfig(*std::move(snapshot)); !s.ok()) {
    std::fprintf(stderr, "listen: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", *server.ListenerPort("bench"));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  server.Stop();
  if (log_file != nullptr) std::fclose(log_file);
  return 0;
}

}  // namespace
}  // namespace causeway::proxy

int main(int argc, char** argv) { return causeway::proxy::Main(argc, argv); }
