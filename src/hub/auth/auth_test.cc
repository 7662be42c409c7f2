#include <sys/stat.h>

#include <fstream>

#include "gtest/gtest.h"
#include "hub/auth/authenticator.h"
#include "hub/auth/bootstrap.h"
#include "hub/auth/principal.h"
#include "hub/auth/secrets.h"
#include "support/process.h"

namespace causeway::hub::auth {
namespace {

using model::Kind;

TEST(PolicyTest, Roles) {
  Principal viewer{"v", Role::kViewer, ""};
  Principal agent{"a", Role::kAgent, "dev"};
  Principal editor{"e", Role::kEditor, "dev"};
  Principal admin{"root", Role::kAdmin, ""};
  EXPECT_TRUE(CheckRead(viewer, "dev").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(CheckWrite(viewer, Kind::kCluster, "dev")));
  EXPECT_TRUE(CheckWrite(agent, Kind::kCluster, "dev").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(CheckWrite(agent, Kind::kRoute, "dev")));
  EXPECT_TRUE(absl::IsPermissionDenied(CheckWrite(agent, Kind::kCluster, "prod")));
  EXPECT_TRUE(absl::IsNotFound(CheckRead(editor, "prod")));
  EXPECT_TRUE(CheckWrite(editor, Kind::kRoute, "dev").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(CheckTokenAdmin(editor, "dev")));
  EXPECT_TRUE(CheckTokenAdmin(admin, "").ok());
  Principal zone_admin{"za", Role::kAdmin, "dev"};
  EXPECT_TRUE(CheckTokenAdmin(zone_admin, "dev").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(CheckTokenAdmin(zone_admin, "")));
}

TEST(PolicyTest, ProxyTokensReadNothingOverRest) {
  EXPECT_EQ(ParseRole("proxy"), Role::kProxy);
  EXPECT_EQ(RoleName(Role::kProxy), "proxy");
  EXPECT_TRUE(RoleNeedsZone(Role::kProxy));
  EXPECT_FALSE(RoleNeedsZone(Role::kAgent));
  Principal proxy{"edge", Role::kProxy, "dev"};
  EXPECT_TRUE(proxy.SeesZone("dev"));  // its zone, for xDS
  EXPECT_TRUE(absl::IsPermissionDenied(CheckRestAccess(proxy)));
  EXPECT_TRUE(absl::IsPermissionDenied(CheckRead(proxy, "dev")));
  EXPECT_TRUE(absl::IsPermissionDenied(CheckWrite(proxy, Kind::kCluster, "dev")));
  EXPECT_TRUE(absl::IsPermissionDenied(CheckTokenAdmin(proxy, "dev")));
  EXPECT_TRUE(CheckRestAccess(Principal{"v", Role::kViewer, ""}).ok());
}

TEST(SecretsTest, ShapeAndHash) {
  auto a = GenerateSecret();
  auto b = GenerateSecret();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->rfind("cw_", 0), 0u);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::OpenStore("", dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  causeway::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  ManualTime time_;
};

TEST_F(AuthenticatorTest, BootstrapThenAuthenticateAndRevoke) {
  ASSERT_TRUE(EnsureAdminToken(store_.get(), dir_.path(), &time_).ok());
  struct stat st {};
  ASSERT_EQ(stat(dir_.File("admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::string secret;
  std::ifstream(dir_.File("admin.token")) >> secret;
  // A second start leaves everything alone.
  ASSERT_TRUE(EnsureAdminToken(store_.get(), dir_.path(), &time_).ok());
  std::string again;
  std::ifstream(dir_.File("admin.token")) >> again;
  EXPECT_EQ(again, secret);

  Authenticator auth(store_.get(), &time_, std::chrono::seconds(2));
  auto p = auth.Authenticate("Bearer " + secret);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "admin");
  EXPECT_EQ(p->role, Role::kAdmin);
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate("").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate("Basic x").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate("Bearer nope").status()));

  // Revoked elsewhere: still cached for the TTL, gone after it.
  ASSERT_TRUE(store_->DeleteToken("admin").ok());
  EXPECT_TRUE(auth.Authenticate("Bearer " + secret).ok());
  time_.Advance(std::chrono::seconds(3));
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Authenticate("Bearer " + secret).status()));
}

TEST_F(AuthenticatorTest, InvalidateDropsNegativeEntries) {
  Authenticator auth(store_.get(), &time_);
  std::string secret = *GenerateSecret();
  EXPECT_FALSE(auth.Authenticate("Bearer " + secret).ok());
  store::TokenRecord record{"ci", "agent", "dev", Sha256Hex(secret), 0, "test"};
  ASSERT_TRUE(store_->CreateToken(record).ok());
  auth.Invalidate();
  auto p = auth.Authenticate("bearer " + secret);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->role, Role::kAgent);
  EXPECT_EQ(p->zone, "dev");
}

}  // namespace
}  // namespace causeway::hub::auth
