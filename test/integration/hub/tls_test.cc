// The hub's REST API over TLS with certificates from `causeway tls init`:
// the CLI and curl over https, plain HTTP and a wrong CA refused with clear
// errors, and certificate files replaced while serving (new connections get
// the new certificate, an open watch stream stays up).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

using std::chrono::milliseconds;

// A program on $PATH, as execve needs a path.
std::string Which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "/usr/bin/" + name;
}

struct Ran {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class TlsTest : public ::testing::Test {
 protected:
  Ran Run(std::vector<std::string> argv, std::map<std::string, std::string> env = {}) {
    Subprocess::Options options;
    options.argv = std::move(argv);
    options.env = std::move(env);
    options.log_path = work_.File("run-" + std::to_string(runs_++) + ".log");
    Subprocess process(options);
    int status = process.Wait(std::chrono::seconds(60));
    Ran ran;
    ran.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ran.output = process.Log();
    return ran;
  }

  // `causeway tls init DIR --name 127.0.0.1 --name localhost`.
  void TlsInit(const std::string& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        BuiltBinary("causeway"), "tls", "init", dir, "--name", "127.0.0.1", "--name", "localhost"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Ran ran = Run(argv);
    ASSERT_EQ(ran.exit_code, 0) << ran.output;
  }

  // The serial number of a PEM certificate file, or of the certificate the
  // server on `port` presents (openssl's "serial=..." line).
  std::string FileSerial(const std::string& cert) {
    return Run({Which("openssl"), "x509", "-in", cert, "-noout", "-serial"}).output;
  }
  std::string ServedSerial(int port) {
    return Run({"/bin/sh", "-c",
                "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                    " </dev/null 2>/dev/null | openssl x509 -noout -serial"})
        .output;
  }

  // The CLI against `hub_` over https with `ca`.
  Ran Cli(std::vector<std::string> args, const std::string& ca) {
    std::vector<std::string> argv = {BuiltBinary("causeway"), "--hub", hub_.url(), "--token",
                                     hub_.admin_token()};
    if (!ca.empty()) {
      argv.push_back("--ca");
      argv.push_back(ca);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    // A private config file: nothing from the machine's contexts.
    return Run(argv, {{"CAUSEWAY_CONFIG", work_.File("config.yaml")}});
  }

  void StartTlsHub() {
    TlsInit(certs_.path());
    if (HasFatalFailure()) return;
    hub_.UseTls(certs_.File("ca.crt"));
    hub_.Start({"--tls-cert", certs_.File("hub.crt"), "--tls-key", certs_.File("hub.key"),
                "--log-level", "debug"});
  }

  TempDir work_;
  TempDir certs_;
  int runs_ = 0;
  HubProcess hub_;
};

TEST_F(TlsTest, TlsInitWritesVerifiableFilesAndKeepsKeysPrivate) {
  std::string dir = work_.File("tls");
  TlsInit(dir, {"--name", "hub.example.internal", "--name", "::1"});
  for (const char* key : {"ca.key", "hub.key", "client.key"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir + "/" + key).c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600) << key;
  }
  Ran verify = Run({Which("openssl"), "verify", "-CAfile", dir + "/ca.crt", dir + "/hub.crt",
                    dir + "/client.crt"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("hub.crt: OK"), std::string::npos) << verify.output;
  EXPECT_NE(verify.output.find("client.crt: OK"), std::string::npos) << verify.output;
  Ran text = Run({Which("openssl"), "x509", "-in", dir + "/hub.crt", "-noout", "-text"});
  EXPECT_NE(text.output.find("IP Address:127.0.0.1"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("DNS:hub.example.internal"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("TLS Web Server Authentication"), std::string::npos);
  Ran client = Run({Which("openssl"), "x509", "-in", dir + "/client.crt", "-noout", "-text"});
  EXPECT_NE(client.output.find("TLS Web Client Authentication"), std::string::npos);

  // Never overwrites by accident.
  std::string serial = FileSerial(dir + "/hub.crt");
  Ran again = Run({BuiltBinary("causeway"), "tls", "init", dir, "--name", "127.0.0.1"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.output.find("--force"), std::string::npos) << again.output;
  EXPECT_EQ(FileSerial(dir + "/hub.crt"), serial);
  Ran forced = Run({BuiltBinary("causeway"), "tls", "init", dir, "--name", "127.0.0.1", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(FileSerial(dir + "/hub.crt"), serial);

  Ran bad = Run({BuiltBinary("causeway"), "tls", "init", work_.File("bad"), "--name", "a b"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("\"a b\""), std::string::npos) << bad.output;
}

TEST_F(TlsTest, CliAndCurlOverHttps) {
  StartTlsHub();
  ASSERT_FALSE(HasFatalFailure());
  std::string ca = certs_.File("ca.crt");
  Ran curl = Run({Which("curl"), "-sS", "--cacert", ca, hub_.url() + "/healthz"});
  EXPECT_EQ(curl.exit_code, 0) << curl.output;
  EXPECT_NE(curl.output.find("\"ok\""), std::string::npos) << curl.output;

  std::string yaml = work_.File("zone.yaml");
  std::ofstream(yaml) << "kind: Zone\nname: dev\n---\nkind: Cluster\nzone: dev\nname: web\n"
                         "instances:\n- host: 10.0.0.1\n  port: 8080\n";
  Ran apply = Cli({"apply", "-f", yaml}, ca);
  EXPECT_EQ(apply.exit_code, 0) << apply.output;
  Ran get = Cli({"get", "clusters", "-z", "dev"}, ca);
  EXPECT_EQ(get.exit_code, 0) << get.output;
  EXPECT_NE(get.output.find("web"), std::string::npos) << get.output;
  Ran created = Cli({"token", "create", "edge", "--role", "proxy", "--zone", "dev"}, ca);
  EXPECT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("CAUSEWAY_XDS_TOKEN=cw_"), std::string::npos) << created.output;
  EXPECT_NE(created.output.find("key: authorization"), std::string::npos) << created.output;
  Ran timed = Cli({"token", "create", "ci", "--role", "viewer", "--ttl", "24h"}, ca);
  EXPECT_EQ(timed.exit_code, 0) << timed.output;
  Ran listed = Cli({"token", "list", "-o", "json"}, ca);
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  Json tokens = Json::parse(listed.output.substr(listed.output.find('[')), nullptr, false);
  ASSERT_TRUE(tokens.is_array()) << listed.output;
  bool saw_expiry = false;
  for (const Json& t : tokens) {
    EXPECT_TRUE(t.contains("expires_at") && t.contains("last_used_at")) << t.dump();
    if (t["name"] == "ci") saw_expiry = t["expires_at"].is_string();
  }
  EXPECT_TRUE(saw_expiry) << listed.output;
  Ran revoked = Cli({"token", "revoke", "edge"}, ca);
  EXPECT_EQ(revoked.exit_code, 0) << revoked.output;
  Ran history = Cli({"history", "-z", "dev"}, ca);
  EXPECT_EQ(history.exit_code, 0) << history.output;
  EXPECT_NE(history.output.find("web"), std::string::npos) << history.output;

  // The CA from the environment works as --ca does.
  Ran from_env = Run(
      {BuiltBinary("causeway"), "--hub", hub_.url(), "--token", hub_.admin_token(), "get", "zones"},
      {{"CAUSEWAY_CA", ca}, {"CAUSEWAY_CONFIG", work_.File("config.yaml")}});
  EXPECT_EQ(from_env.exit_code, 0) << from_env.output;
  EXPECT_NE(from_env.output.find("dev"), std::string::npos) << from_env.output;
}

TEST_F(TlsTest, WrongCaIsAClearError) {
  StartTlsHub();
  ASSERT_FALSE(HasFatalFailure());
  TempDir other;
  TlsInit(other.path());
  Ran wrong = Cli({"get", "zones"}, other.File("ca.crt"));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("certificate verify failed"), std::string::npos) << wrong.output;
  EXPECT_NE(wrong.output.find("not signed by a CA in " + other.File("ca.crt")), std::string::npos)
      << wrong.output;
  // No CA at all: the system's store does not know a private CA either.
  Ran none = Cli({"get", "zones"}, "");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.output.find("--ca"), std::string::npos) << none.output;
  Ran missing = Cli({"get", "zones"}, work_.File("no-such-ca.crt"));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("no-such-ca.crt"), std::string::npos) << missing.output;
}

TEST_F(TlsTest, PlainHttpToTheTlsPortFailsCleanly) {
  StartTlsHub();
  ASSERT_FALSE(HasFatalFailure());
  // A raw plaintext request: the hub closes the connection without an HTTP
  // answer (no TLS record either), and keeps serving.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(hub_.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, n);
  ::close(fd);
  EXPECT_EQ(got.find("HTTP/1.1"), std::string::npos) << "no plaintext answer: " << got;

  auto plain = HttpClient::Create("http://127.0.0.1:" + std::to_string(hub_.port()));
  ASSERT_TRUE(plain.ok());
  auto res = (*plain)->Send("GET", "/healthz");
  EXPECT_FALSE(res.ok());
  EXPECT_TRUE(WaitFor([&] { return hub_.Log().find("TLS handshake with") != std::string::npos; }))
      << "logged at debug level:\n"
      << hub_.Log();
  Api api(hub_.url(), hub_.admin_token(), hub_.ca_file());
  EXPECT_EQ(api.Get("/healthz").status, 200) << "still serving";
}

TEST_F(TlsTest, ReplacedCertificateReachesNewConnectionsAndOpenStreamsStayUp) {
  StartTlsHub();
  ASSERT_FALSE(HasFatalFailure());
  const std::string first_serial = FileSerial(certs_.File("hub.crt"));
  ASSERT_NE(first_serial.find("serial="), std::string::npos) << first_serial;
  EXPECT_EQ(ServedSerial(hub_.port()), first_serial);

  Api admin(hub_.url(), hub_.admin_token(), hub_.ca_file());
  ASSERT_EQ(admin.Post("/v1/zones", {{"name", "dev"}}).status, 201);
  HttpClient::Options options;
  options.ca_file = certs_.File("ca.crt");
  auto client = HttpClient::Create(hub_.url(), options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto stream = (*client)->OpenStream("GET", "/v1/watch?since=0",
                                      {{"Authorization", "Bearer " + hub_.admin_token()}});
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_EQ((*stream)->head().status, 200);
  auto event = (*stream)->NextEvent(milliseconds(5000));
  ASSERT_TRUE(event.ok() && event->has_value());

  // New files from a new CA, moved into place one at a time as a careless
  // deployment would: the certificate first.
  TempDir next;
  TlsInit(next.path());
  const std::string second_serial = FileSerial(next.File("hub.crt"));
  ASSERT_NE(second_serial, first_serial);
  std::filesystem::copy_file(next.File("hub.crt"), certs_.File("hub.crt.new"));
  std::filesystem::rename(certs_.File("hub.crt.new"), certs_.File("hub.crt"));
  // A certificate that does not match the key is not taken: the old pair
  // keeps serving (each probe is a new connection, which makes the check).
  EXPECT_TRUE(WaitFor(
      [&] {
        ServedSerial(hub_.port());
        return hub_.Log().find("do not load") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << hub_.Log();
  EXPECT_EQ(ServedSerial(hub_.port()), first_serial);
  EXPECT_EQ(admin.Get("/v1/zones").status, 200);
  std::filesystem::copy_file(next.File("hub.key"), certs_.File("hub.key.new"));
  std::filesystem::rename(certs_.File("hub.key.new"), certs_.File("hub.key"));

  EXPECT_TRUE(
      WaitFor([&] { return ServedSerial(hub_.port()) == second_serial; }, std::chrono::seconds(10)))
      << "new connections get the new certificate";
  Api renewed(hub_.url(), hub_.admin_token(), next.File("ca.crt"));
  EXPECT_EQ(renewed.Get("/v1/zones").status, 200);

  // The stream opened with the old certificate is still live.
  ASSERT_EQ(renewed.Post("/v1/zones/dev/clusters", {{"name", "after-reload"}}).status, 201);
  bool seen = false;
  for (int i = 0; i < 5 && !seen; ++i) {
    auto next_event = (*stream)->NextEvent(milliseconds(5000));
    ASSERT_TRUE(next_event.ok() && next_event->has_value()) << "the watch stream ended";
    seen = (*next_event)->data.find("after-reload") != std::string::npos;
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace causeway::testing
