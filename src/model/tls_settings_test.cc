// Cluster `protocol` and `tls`, Domain `tls`: parsing, canonical form and
// the errors that name the field and the value.
#include "model/tls_settings.h"

#include <gtest/gtest.h>

#include "common/status.h"
#include "model/documents.h"
#include "model/objects.h"

namespace causeway::model {
namespace {

Json TlsJ(const char* text) { return Json::parse(text); }

absl::StatusOr<ParsedObject> ParseTlsCluster(const char* body) {
  return ParseObject(Kind::kCluster, TlsJ(body), "z", "svc");
}

absl::StatusOr<ParsedObject> ParseTlsDomain(const char* body) {
  return ParseObject(Kind::kDomain, TlsJ(body), "z", "");
}

TEST(ClusterTls, ParsesCanonicalAndRoundTrips) {
  auto p = ParseTlsCluster(
      R"({"protocol":"auto","tls":{"sni":"API.Example.com","ca_file":"/etc/ca.pem",)"
      R"("cert_file":"/etc/c.pem","key_file":"/etc/k.pem"}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->spec["protocol"], "auto");
  EXPECT_EQ(p->spec["tls"], TlsJ(R"({"sni":"api.example.com","ca_file":"/etc/ca.pem",)"
                                 R"("cert_file":"/etc/c.pem","key_file":"/etc/k.pem"})"));
  Object o{{Kind::kCluster, "z", "svc"}, 1, 0, 0, p->spec};
  auto cluster = ClusterFromObject(o);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_EQ(cluster->protocol, ClusterProtocol::kAuto);
  ASSERT_TRUE(cluster->tls.has_value());
  EXPECT_EQ(cluster->tls->sni, "api.example.com");
  EXPECT_EQ(cluster->tls->key_file, "/etc/k.pem");
  EXPECT_EQ(ToSpec(*cluster), p->spec);
}

TEST(ClusterTls, EmptyTlsAndHttp2WithoutTlsAreAccepted) {
  auto p = ParseTlsCluster(R"({"protocol":"http2","tls":{}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->spec["tls"], Json::object());
  EXPECT_EQ(p->spec["protocol"], "http2");
  auto clear = ParseTlsCluster(R"({"protocol":"http2"})");
  ASSERT_TRUE(clear.ok()) << clear.status();
  EXPECT_FALSE(clear->spec.contains("tls"));
}

// Clusters written before these fields existed keep their canonical spec
// (and so their versions): http1 is the default and is left out.
TEST(ClusterTls, DefaultsAreLeftOutOfTheSpec) {
  auto plain = ParseTlsCluster(R"({"instances":[]})");
  auto http1 = ParseTlsCluster(R"({"instances":[],"protocol":"http1"})");
  ASSERT_TRUE(plain.ok() && http1.ok());
  EXPECT_EQ(plain->spec, TlsJ(R"({"instances":[]})"));
  EXPECT_EQ(http1->spec, plain->spec);
}

struct TlsErrorCase {
  const char* body;
  const char* field;
  const char* in_message;  // the value (or the reason) the message must show
};

void ExpectTlsError(const absl::StatusOr<ParsedObject>& p, const TlsErrorCase& c) {
  ASSERT_FALSE(p.ok()) << c.body;
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
  EXPECT_EQ(ErrorField(p.status()), c.field) << c.body << ": " << p.status();
  EXPECT_NE(p.status().message().find(c.in_message), std::string::npos)
      << c.body << ": " << p.status();
}

TEST(ClusterTls, BadValuesNameFieldAndValue) {
  const TlsErrorCase cases[] = {
      {R"({"protocol":"h2"})", "protocol", "\"h2\""},
      {R"({"protocol":2})", "protocol", "not 2"},
      {R"({"protocol":"auto"})", "protocol", "needs tls"},
      {R"({"tls":"yes"})", "tls", "must be an object"},
      {R"({"tls":{"ca_file":"ca.pem"}})", "tls.ca_file", "\"ca.pem\""},
      {R"({"tls":{"ca_file":""}})", "tls.ca_file", "must not be empty"},
      {R"({"tls":{"ca_file":7}})", "tls.ca_file", "not 7"},
      {R"({"tls":{"cert_file":"./c.pem","key_file":"/k.pem"}})", "tls.cert_file", "\"./c.pem\""},
      {R"({"tls":{"cert_file":"/c.pem","key_file":"k.pem"}})", "tls.key_file", "\"k.pem\""},
      {R"({"tls":{"cert_file":"/c.pem"}})", "tls.key_file", "\"/c.pem\""},
      {R"({"tls":{"key_file":"/k.pem"}})", "tls.cert_file", "\"/k.pem\""},
      {R"({"tls":{"sni":"bad_name!"}})", "tls.sni", "\"bad_name!\""},
      {R"({"tls":{"ca_file":"/a\nb"}})", "tls.ca_file", "absolute path"},
      {R"({"tls":{"client_ca_file":"/ca.pem"}})", "tls.client_ca_file", "unknown field"},
  };
  for (const TlsErrorCase& c : cases) ExpectTlsError(ParseTlsCluster(c.body), c);
}

TEST(DomainTls, ParsesCanonicalAndRoundTrips) {
  auto p = ParseTlsDomain(
      R"({"host":"a.example.com","port":443,"tls":{"cert_file":"/c.pem","key_file":"/k.pem",)"
      R"("client_ca_file":"/ca.pem"}})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->spec["tls"],
            TlsJ(R"({"cert_file":"/c.pem","key_file":"/k.pem","client_ca_file":"/ca.pem"})"));
  Object o{p->key, 1, 0, 0, p->spec};
  auto domain = DomainFromObject(o);
  ASSERT_TRUE(domain.ok()) << domain.status();
  ASSERT_TRUE(domain->tls.has_value());
  EXPECT_EQ(domain->tls->client_ca_file, "/ca.pem");
  EXPECT_EQ(ToSpec(*domain), p->spec);

  auto plain = ParseTlsDomain(R"({"host":"a.example.com","port":80})");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->spec.contains("tls"));
}

TEST(DomainTls, BadValuesNameFieldAndValue) {
  const TlsErrorCase cases[] = {
      {R"({"host":"a.io","port":443,"tls":{}})", "tls.cert_file", "is required"},
      {R"({"host":"a.io","port":443,"tls":{"cert_file":"/c.pem"}})", "tls.key_file", "is required"},
      {R"({"host":"a.io","port":443,"tls":{"key_file":"/k.pem"}})", "tls.cert_file", "is required"},
      {R"({"host":"a.io","port":443,"tls":{"cert_file":"c.pem","key_file":"/k.pem"}})",
       "tls.cert_file", "\"c.pem\""},
      {R"({"host":"a.io","port":443,"tls":{"cert_file":"/c.pem","key_file":"/k.pem",)"
       R"("client_ca_file":"ca.pem"}})",
       "tls.client_ca_file", "\"ca.pem\""},
      {R"({"host":"a.io","port":443,"tls":{"cert_file":"/c.pem","key_file":"/k.pem",)"
       R"("sni":"a.io"}})",
       "tls.sni", "unknown field"},
      {R"({"host":"a.io","port":443,"tls":[]})", "tls", "must be an object"},
  };
  for (const TlsErrorCase& c : cases) ExpectTlsError(ParseTlsDomain(c.body), c);
}

// What `causeway apply -f` reads: the fields in YAML, and an error that names
// the file, the line and the field.
TEST(TlsYaml, DocumentsCarryTlsAndNameTheBadLine) {
  auto docs = ParseDocuments("tls.yaml",
                             "kind: Cluster\nname: svc\nzone: z\nprotocol: http2\ntls:\n"
                             "  sni: api.example.com\n  ca_file: /etc/ca.pem\n"
                             "---\nkind: Domain\nzone: z\nhost: a.example.com\nport: 443\ntls:\n"
                             "  cert_file: /etc/c.pem\n  key_file: /etc/k.pem\n");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].parsed.spec["protocol"], "http2");
  EXPECT_EQ((*docs)[0].parsed.spec["tls"],
            TlsJ(R"({"sni":"api.example.com","ca_file":"/etc/ca.pem"})"));
  EXPECT_EQ((*docs)[1].parsed.spec["tls"],
            TlsJ(R"({"cert_file":"/etc/c.pem","key_file":"/etc/k.pem"})"));

  auto bad = ParseDocuments("bad.yaml",
                            "kind: Domain\nzone: z\nhost: a.example.com\nport: 443\ntls:\n"
                            "  cert_file: /etc/c.pem\n  key_file: k.pem\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()),
            "bad.yaml:7: document 1: tls.key_file: must be an "
            "absolute path, not \"k.pem\"");
}

}  // namespace
}  // namespace causeway::model
