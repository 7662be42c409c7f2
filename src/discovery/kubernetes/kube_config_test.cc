#include "discovery/kubernetes/kube_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "discovery/kubernetes/kubernetes_collector.h"
#include "support/process.h"

namespace causeway::discovery {
namespace {

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(KubeConfigTest, KubeconfigCurrentContextWithDataAndFiles) {
  causeway::testing::TempDir dir;
  Write(dir.File("ca.crt"), "CA-PEM");
  Write(dir.File("token"), "file-token\n");
  // "Q0xJRU5U" is base64 of "CLIENT".
  Write(dir.File("config"), R"(
apiVersion: v1
kind: Config
current-context: staging
contexts:
  - name: other
    context: {cluster: other, user: other}
  - name: staging
    context: {cluster: staging, user: agent}
clusters:
  - name: other
    cluster: {server: "https://other:6443"}
  - name: staging
    cluster:
      server: https://api.staging.example:6443
      certificate-authority: ca.crt
users:
  - name: agent
    user:
      tokenFile: token
      client-certificate-data: Q0xJRU5U
)");
  auto config = KubeconfigFile(dir.File("config"));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->tls);
  EXPECT_EQ(config->host, "api.staging.example");
  EXPECT_EQ(config->port, "6443");
  EXPECT_EQ(config->ca_pem, "CA-PEM");
  EXPECT_EQ(config->token, "file-token\n");
  EXPECT_EQ(config->token_file, dir.File("token"));
  EXPECT_EQ(config->client_cert_pem, "CLIENT");

  auto other = KubeconfigFile(dir.File("config"), "other");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->host, "other");

  EXPECT_FALSE(KubeconfigFile(dir.File("config"), "missing").ok());
  EXPECT_FALSE(KubeconfigFile(dir.File("nope")).ok());
}

TEST(KubeConfigTest, InCluster) {
  causeway::testing::TempDir dir;
  Write(dir.File("token"), "sa-token");
  Write(dir.File("ca.crt"), "SA-CA");
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = InClusterConfig(dir.path());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->host, "10.96.0.1");
  EXPECT_EQ(config->port, "443");
  EXPECT_EQ(config->token, "sa-token");
  EXPECT_EQ(config->ca_pem, "SA-CA");
  EXPECT_FALSE(InClusterConfig(dir.path()).ok());  // env unset: not in a cluster
}

TEST(KubeConfigTest, ServerUrls) {
  KubeConfig c;
  ASSERT_TRUE(ParseServerUrl("http://127.0.0.1:8001", c).ok());
  EXPECT_FALSE(c.tls);
  EXPECT_EQ(c.port, "8001");
  ASSERT_TRUE(ParseServerUrl("https://[::1]:6443/", c).ok());
  EXPECT_EQ(c.host, "::1");
  ASSERT_TRUE(ParseServerUrl("https://k8s.local", c).ok());
  EXPECT_EQ(c.port, "443");
  EXPECT_FALSE(ParseServerUrl("k8s.local:6443", c).ok());
}

TEST(KubernetesSpecTest, Parses) {
  auto spec = ParseKubernetesSpec(
      "namespace=staging,edge;selector=app in (a,b),tier=web;cluster-label=svc;port-name=grpc");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->namespaces, (std::vector<std::string>{"staging", "edge"}));
  EXPECT_EQ(spec->selector, "app in (a,b),tier=web");
  EXPECT_EQ(spec->pod.cluster_label, "svc");
  EXPECT_EQ(spec->pod.port_name, "grpc");

  auto defaults = ParseKubernetesSpec("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->namespaces, (std::vector<std::string>{"default"}));
  EXPECT_EQ(defaults->pod.cluster_label, "causeway.io/cluster");
  EXPECT_EQ(defaults->pod.port_name, "http");

  EXPECT_FALSE(ParseKubernetesSpec("namespaces=x").ok());
  EXPECT_FALSE(ParseKubernetesSpec("namespace").ok());
}

}  // namespace
}  // namespace causeway::discovery
