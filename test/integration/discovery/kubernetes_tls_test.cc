// The pod collector reaching the simulated API server (fake_kube_api.h)
// the ways a real cluster is reached, all over TLS with the server's own CA:
// in a pod (the service account's token and ca.crt), from a kubeconfig with
// a CA and a client certificate, with the wrong CA (a clear error and
// nothing published), and with a projected service-account token that is
// rotated (the file is read again for every connection).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <mutex>
#include <optional>

#include "discovery/kubernetes/kube_config.h"
#include "discovery/kubernetes/kube_http.h"
#include "discovery/kubernetes/kubernetes_collector.h"
#include "fake_kube_api.h"
#include "support/process.h"
#include "support/test_certs.h"

namespace causeway::discovery {
namespace {

using causeway::testing::CertFiles;
using causeway::testing::FakeKubeApi;
using causeway::testing::TempDir;
using causeway::testing::TestCa;
using causeway::testing::WaitFor;
using std::chrono::milliseconds;

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);  // as the kubelet swaps projected files
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class KubernetesTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok());
    server_ = ca_.Issue("apiserver", "kube-apiserver");
    ASSERT_FALSE(server_.cert.empty());
  }
  void TearDown() override {
    if (collector_) collector_->Stop();
  }

  // A fake API server over TLS with one ready pod of cluster "users".
  void StartApi(const std::string& client_ca = "") {
    api_ = std::make_unique<FakeKubeApi>(FakeKubeApi::Tls{server_.cert, server_.key, client_ca});
    api_->Apply("default", FakeKubeApi::Pod("users-0", "users", "10.0.0.10", true));
  }

  void StartCollector(KubeConfig config) {
    auto spec = ParseKubernetesSpec("namespace=default");
    ASSERT_TRUE(spec.ok()) << spec.status();
    KubernetesCollector::Options options;
    options.config = std::move(config);
    options.min_backoff = milliseconds(20);
    options.max_backoff = milliseconds(100);
    collector_ = std::make_unique<KubernetesCollector>(*spec, options, "kubernetes:tls");
    ASSERT_TRUE(collector_
                    ->Start([this](Snapshot s) {
                      std::lock_guard lock(mu_);
                      last_ = std::move(s.clusters);
                      ++reports_;
                    })
                    .ok());
  }

  // Whether the latest report has cluster "users" with exactly `host`.
  bool ReportsUsersAt(const std::string& host) {
    std::lock_guard lock(mu_);
    if (!last_) return false;
    auto it = last_->find("users");
    return it != last_->end() && it->second.size() == 1 && it->second[0].host == host;
  }
  int reports() {
    std::lock_guard lock(mu_);
    return reports_;
  }

  // The service-account directory of a pod: token and ca.crt.
  std::string ServiceAccountDir(const std::string& token) {
    const std::string dir = dir_.File("serviceaccount");
    ::mkdir(dir.c_str(), 0700);
    WriteFile(dir + "/token", token);
    WriteFile(dir + "/ca.crt", ReadFile(ca_.cert()));
    return dir;
  }

  TempDir dir_;
  TestCa ca_{dir_.path(), "cluster"};
  CertFiles server_;
  std::unique_ptr<FakeKubeApi> api_;
  std::unique_ptr<KubernetesCollector> collector_;
  std::mutex mu_;
  std::optional<ClusterSet> last_;
  int reports_ = 0;
};

TEST_F(KubernetesTlsTest, InClusterServiceAccountListsAndWatches) {
  StartApi();
  api_->RequireToken("sa-token-1");
  const std::string dir = ServiceAccountDir("sa-token-1");
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", api_->url().substr(api_->url().rfind(':') + 1).c_str(), 1);
  absl::StatusOr<KubeConfig> config = InClusterConfig(dir);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->tls);

  StartCollector(*config);
  EXPECT_TRUE(WaitFor([&] { return ReportsUsersAt("10.0.0.10"); }));
  // The watch follows over the same TLS path.
  api_->Apply("default", FakeKubeApi::Pod("users-0", "users", "10.0.0.11", true));
  EXPECT_TRUE(WaitFor([&] { return ReportsUsersAt("10.0.0.11"); }));
  EXPECT_EQ(api_->unauthorized(), 0);
}

TEST_F(KubernetesTlsTest, KubeconfigWithCaAndClientCertificate) {
  // The server requires a client certificate signed by the cluster's CA.
  StartApi(/*client_ca=*/ca_.cert());
  CertFiles client = ca_.Issue("agent", "causeway-agent");
  const std::string kubeconfig = dir_.File("kubeconfig");
  WriteFile(kubeconfig,
            "apiVersion: v1\nkind: Config\ncurrent-context: staging\n"
            "clusters:\n- name: staging\n  cluster:\n    server: " +
                api_->url() + "\n    certificate-authority: " + ca_.cert() +
                "\n"
                "users:\n- name: agent\n  user:\n    client-certificate: " +
                client.cert + "\n    client-key: " + client.key +
                "\n"
                "contexts:\n- name: staging\n  context: {cluster: staging, user: agent}\n");
  absl::StatusOr<KubeConfig> config = KubeconfigFile(kubeconfig);
  ASSERT_TRUE(config.ok()) << config.status();
  StartCollector(*config);
  EXPECT_TRUE(WaitFor([&] { return ReportsUsersAt("10.0.0.10"); }));
  EXPECT_EQ(api_->failed_handshakes(), 0);

  // Without the client certificate the same server refuses the handshake.
  KubeConfig anonymous = *config;
  anonymous.client_cert_pem.clear();
  anonymous.client_key_pem.clear();
  KubeHttp http(anonymous);
  absl::StatusOr<KubeHttp::Response> refused =
      http.Get("/api/v1/namespaces/default/pods", milliseconds(5000));
  EXPECT_FALSE(refused.ok() && refused->status == 200);
}

TEST_F(KubernetesTlsTest, WrongCaIsAClearErrorAndNothingIsPublished) {
  StartApi();
  TestCa other(dir_.path(), "other");
  ASSERT_TRUE(other.ok());
  KubeConfig config;
  ASSERT_TRUE(ParseServerUrl(api_->url(), config).ok());
  config.ca_pem = ReadFile(other.cert());

  KubeHttp http(config);
  absl::StatusOr<KubeHttp::Response> res =
      http.Get("/api/v1/namespaces/default/pods", milliseconds(5000));
  ASSERT_FALSE(res.ok());
  EXPECT_NE(std::string(res.status().message()).find("certificate verify failed"),
            std::string::npos)
      << res.status();

  StartCollector(config);
  // The collector has tried and retried (each attempt a refused handshake)...
  ASSERT_TRUE(WaitFor([&] { return api_->failed_handshakes() >= 3; }));
  // ...and reported nothing: no empty set that would drop the cluster.
  EXPECT_EQ(reports(), 0);
}

TEST_F(KubernetesTlsTest, RotatedServiceAccountTokenIsReadAgain) {
  StartApi();
  api_->RequireToken("sa-token-1");
  const std::string dir = ServiceAccountDir("sa-token-1");
  KubeConfig config;
  ASSERT_TRUE(ParseServerUrl(api_->url(), config).ok());
  config.ca_pem = ReadFile(ca_.cert());
  config.token_file = dir + "/token";
  config.token = "sa-token-1";
  StartCollector(config);
  ASSERT_TRUE(WaitFor([&] { return ReportsUsersAt("10.0.0.10"); }));

  // The kubelet rotates the projected token; the server stops taking the
  // old one. The next connection (after the watch drops) must carry the new.
  WriteFile(dir + "/token", "sa-token-2");
  api_->RequireToken("sa-token-2");
  api_->DropWatches();
  api_->Apply("default", FakeKubeApi::Pod("users-0", "users", "10.0.0.12", true));
  EXPECT_TRUE(WaitFor([&] { return ReportsUsersAt("10.0.0.12"); }));
  std::vector<std::string> tokens = api_->tokens_seen();
  ASSERT_FALSE(tokens.empty());
  EXPECT_EQ(tokens.back(), "sa-token-2");
}

}  // namespace
}  // namespace causeway::discovery
