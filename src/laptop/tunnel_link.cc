#include "laptop/tunnel_link.h"

#include <utility>

namespace causeway::laptop {

using proxy::tunnel::TunnelClient;
using proxy::tunnel::TunnelEvent;

TunnelNews NewsOf(const TunnelEvent& event) {
  TunnelNews news;
  switch (event.kind) {
    case TunnelEvent::Kind::kConnecting:
      news.kind = TunnelNews::Kind::kConnecting;
      break;
    case TunnelEvent::Kind::kConnected:
      news.kind = TunnelNews::Kind::kConnected;
      break;
    case TunnelEvent::Kind::kDisconnected:
      news.kind = TunnelNews::Kind::kDisconnected;
      break;
    case TunnelEvent::Kind::kRefused:
      news.kind = TunnelNews::Kind::kRefused;
      break;
  }
  news.status = event.status;
  news.message = event.message;
  news.permanent = event.permanent;
  return news;
}

absl::StatusOr<std::unique_ptr<TunnelClient>> CreateTunnelLink(
    const InterceptPlan& plan, const std::string& token,
    std::function<void(const TunnelNews&)> on_news) {
  proxy::tunnel::TunnelClientOptions options;
  options.tunnel = plan.tunnel;
  options.ca_file = plan.tunnel_ca;
  options.token = token;
  options.zone = plan.zone;
  options.intercept = plan.name;
  options.to = plan.to;
  options.to_protocol =
      plan.to_http2 ? proxy::tunnel::ToProtocol::kHttp2 : proxy::tunnel::ToProtocol::kHttp1;
  return TunnelClient::Create(
      std::move(options),
      [on_news = std::move(on_news)](const TunnelEvent& event) { on_news(NewsOf(event)); });
}

}  // namespace causeway::laptop
