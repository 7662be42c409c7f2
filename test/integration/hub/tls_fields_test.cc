// Cluster protocol/tls and Domain tls through the real hub: REST writes and
// reads, the change log's before and after, a restart (the store), the
// proxy's translated config, `causeway apply -f` YAML, and bad input that is
// refused naming the field and changes nothing.
#include <sys/wait.h>

#include <fstream>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

constexpr char kDownstreamTlsTypeUrl[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
constexpr char kUpstreamTlsTypeUrl[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

const Json& TlsFieldsUpstream() {
  static const Json tls = {{"sni", "web.internal.example.com"},
                           {"ca_file", "/etc/causeway/ca.pem"},
                           {"cert_file", "/etc/causeway/client.crt"},
                           {"key_file", "/etc/causeway/client.key"}};
  return tls;
}

const Json& TlsFieldsDownstream() {
  static const Json tls = {{"cert_file", "/etc/causeway/api.crt"},
                           {"key_file", "/etc/causeway/api.key"},
                           {"client_ca_file", "/etc/causeway/clients.pem"}};
  return tls;
}

class TlsFieldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    api_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
  }

  // Replaces `field` of the object at `path` with `value`; the answer.
  Api::Result PutField(const std::string& path, const std::string& field, const Json& value) {
    Json object = api_->Get(path).body;
    object[field] = value;
    return api_->Put(path, object);
  }

  // The translated listener `name` of proxy "edge" once it has `chains`
  // filter chains (translation follows writes after a short debounce).
  Json ListenerWithChains(const std::string& name, size_t chains) {
    Json found;
    WaitFor(
        [&] {
          Json config = api_->Get("/v1/zones/dev/proxies/edge/config").body;
          if (!config.is_object() || !config.contains("listeners")) return false;
          for (const Json& l : config["listeners"]) {
            const Json& resource = l.value("resource", Json::object());
            if (l.value("name", "") == name &&
                resource.value("filter_chains", Json::array()).size() == chains) {
              found = resource;
              return true;
            }
          }
          return false;
        },
        std::chrono::seconds(30));
    return found;
  }

  HubProcess hub_;
  std::unique_ptr<Api> api_;
};

TEST_F(TlsFieldsTest, RestRoundTripChangelogRestartAndTranslation) {
  SeedZone(*api_, "dev");
  const std::string cluster = "/v1/zones/dev/clusters/web";
  const std::string domain = "/v1/zones/dev/domains/api.example.com:80";
  Json cluster_body = api_->Get(cluster).body;
  cluster_body["tls"] = TlsFieldsUpstream();
  cluster_body["protocol"] = "auto";
  auto put = api_->Put(cluster, cluster_body);
  ASSERT_EQ(put.status, 200) << put.raw.body;
  EXPECT_EQ(put.body["tls"], TlsFieldsUpstream());
  EXPECT_EQ(put.body["protocol"], "auto");
  auto put_domain = PutField(domain, "tls", TlsFieldsDownstream());
  ASSERT_EQ(put_domain.status, 200) << put_domain.raw.body;

  auto log = api_->Get("/v1/changelog?zone=dev&kind=Cluster");
  ASSERT_EQ(log.status, 200) << log.raw.body;
  ASSERT_EQ(log.body["items"].size(), 2u) << log.body.dump();
  const Json& update = log.body["items"][1];
  EXPECT_EQ(update["op"], "update");
  EXPECT_FALSE(update["before"].contains("tls"));
  EXPECT_EQ(update["after"]["tls"], TlsFieldsUpstream());
  EXPECT_EQ(update["after"]["protocol"], "auto");

  // What the store kept is what a restarted hub answers.
  ASSERT_EQ(hub_.Stop(), 0);
  hub_.Start();
  api_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
  auto got = api_->Get(cluster);
  ASSERT_EQ(got.status, 200) << got.raw.body;
  EXPECT_EQ(got.body["tls"], TlsFieldsUpstream());
  EXPECT_EQ(got.body["protocol"], "auto");
  EXPECT_EQ(got.body["version"], put.body["version"]);
  EXPECT_EQ(api_->Get(domain).body["tls"], TlsFieldsDownstream());

  // The port's only domain has tls: one TLS chain and no clear-text one.
  Json listener = ListenerWithChains("edge:80", 1);
  ASSERT_TRUE(listener.is_object()) << "no TLS chain on edge:80";
  const Json& tls_chain = listener["filter_chains"][0];
  EXPECT_EQ(tls_chain["filter_chain_match"]["server_names"], Json::array({"api.example.com"}));
  EXPECT_EQ(tls_chain["transport_socket"]["typed_config"]["@type"], kDownstreamTlsTypeUrl);
  EXPECT_EQ(listener["listener_filters"][0]["name"], "envoy.filters.listener.tls_inspector");
  Json config = api_->Get("/v1/zones/dev/proxies/edge/config").body;
  ASSERT_EQ(config["clusters"].size(), 1u) << config.dump();
  const Json& translated = config["clusters"][0]["resource"];
  EXPECT_EQ(translated["transport_socket"]["typed_config"]["@type"], kUpstreamTlsTypeUrl);
  EXPECT_EQ(translated["transport_socket"]["typed_config"]["sni"], "web.internal.example.com");
}

TEST_F(TlsFieldsTest, BadInputNamesTheFieldAndChangesNothing) {
  SeedZone(*api_, "dev");
  const std::string cluster = "/v1/zones/dev/clusters/web";
  const std::string domain = "/v1/zones/dev/domains/api.example.com:80";
  const Json cluster_before = api_->Get(cluster).body;
  const Json domain_before = api_->Get(domain).body;
  struct TlsFieldsBad {
    std::string path, field;
    Json value;
    std::string error_field, shown;
  };
  const TlsFieldsBad cases[] = {
      {cluster, "tls", {{"ca_file", "certs/ca.pem"}}, "tls.ca_file", "certs/ca.pem"},
      {cluster, "tls", {{"cert_file", "/c.pem"}}, "tls.key_file", "/c.pem"},
      {cluster, "protocol", "auto", "protocol", "auto"},
      {cluster, "protocol", "spdy", "protocol", "spdy"},
      {domain, "tls", {{"cert_file", "/c.pem"}}, "tls.key_file", "is required"},
      {domain, "tls", {{"cert_file", "/c.pem"}, {"key_file", "k.pem"}}, "tls.key_file", "k.pem"},
  };
  for (const TlsFieldsBad& c : cases) {
    SCOPED_TRACE(c.field + " = " + c.value.dump());
    auto res = PutField(c.path, c.field, c.value);
    EXPECT_EQ(res.status, 400) << res.raw.body;
    EXPECT_EQ(res.field(), c.error_field) << res.raw.body;
    EXPECT_NE(res.raw.body.find(c.shown), std::string::npos) << res.raw.body;
  }
  EXPECT_EQ(api_->Get(cluster).body, cluster_before);
  EXPECT_EQ(api_->Get(domain).body, domain_before);
}

TEST_F(TlsFieldsTest, CliApplyYaml) {
  TempDir work;
  const std::string yaml = work.File("tls.yaml");
  std::ofstream(yaml) << "kind: Zone\nname: dev\n---\n"
                         "kind: Cluster\nzone: dev\nname: web\nprotocol: http2\n"
                         "tls:\n  sni: web.internal.example.com\n"
                         "instances:\n- host: 10.0.0.1\n  port: 8443\n---\n"
                         "kind: Domain\nzone: dev\nhost: api.example.com\nport: 443\n"
                         "tls:\n  cert_file: /etc/causeway/api.crt\n"
                         "  key_file: /etc/causeway/api.key\n";
  Subprocess::Options options;
  options.argv = {BuiltBinary("causeway"), "--hub", hub_.url(), "--token",
                  hub_.admin_token(),      "apply", "-f",       yaml};
  options.env = {{"CAUSEWAY_CONFIG", work.File("config.yaml")}};
  options.log_path = work.File("apply.log");
  Subprocess apply(options);
  const int status = apply.Wait(std::chrono::seconds(60));
  ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << apply.Log();

  auto cluster = api_->Get("/v1/zones/dev/clusters/web");
  ASSERT_EQ(cluster.status, 200) << cluster.raw.body;
  EXPECT_EQ(cluster.body["protocol"], "http2");
  EXPECT_EQ(cluster.body["tls"], Json({{"sni", "web.internal.example.com"}}));
  auto domain = api_->Get("/v1/zones/dev/domains/api.example.com:443");
  ASSERT_EQ(domain.status, 200) << domain.raw.body;
  EXPECT_EQ(domain.body["tls"],
            Json({{"cert_file", "/etc/causeway/api.crt"}, {"key_file", "/etc/causeway/api.key"}}));
}

}  // namespace
}  // namespace causeway::testing
