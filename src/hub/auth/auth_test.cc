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

TEST_F(AuthenticatorTest, SprayedUnknownSecretsCostNoStoreReads) {
  ASSERT_TRUE(EnsureAdminToken(store_.get(), dir_.path(), &time_).ok());
  std::string admin;
  std::ifstream(dir_.File("admin.token")) >> admin;
  Authenticator auth(store_.get(), &time_, std::chrono::seconds(2));
  ASSERT_TRUE(auth.Authenticate("Bearer " + admin).ok());
  const int reads = auth.table_reads();
  for (int i = 0; i < 5000; ++i) {
    EXPECT_TRUE(absl::IsUnauthenticated(
        auth.Authenticate("Bearer cw_sprayed" + std::to_string(i)).status()));
  }
  // Every unknown secret was answered from the table read before them, and
  // the real token still is.
  EXPECT_EQ(auth.table_reads(), reads);
  EXPECT_TRUE(auth.Authenticate("Bearer " + admin).ok());
  // Once the table is older than the TTL, one read refreshes it for all.
  time_.Advance(std::chrono::seconds(3));
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(auth.Authenticate("Bearer cw_again" + std::to_string(i)).ok());
  }
  EXPECT_EQ(auth.table_reads(), reads + 1);
}

int64_t NowMs(const TimeSource& time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.Now().time_since_epoch())
      .count();
}

TEST_F(AuthenticatorTest, ExpiryIsCheckedOnEveryCallCachedOrNot) {
  Authenticator auth(store_.get(), &time_);
  std::string secret = *GenerateSecret();
  store::TokenRecord record{"brief", "viewer", "", Sha256Hex(secret), NowMs(time_), "test"};
  record.expires_at_ms = NowMs(time_) + 60000;
  ASSERT_TRUE(store_->CreateToken(record).ok());
  auto p = auth.Authenticate("Bearer " + secret);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->expires_at_ms, record.expires_at_ms);
  EXPECT_FALSE(p->token_id.empty());
  EXPECT_TRUE(auth.StillValid(*p).ok());
  time_.Advance(std::chrono::seconds(61));
  auto expired = auth.Authenticate("Bearer " + secret);
  EXPECT_TRUE(absl::IsUnauthenticated(expired.status()));
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos) << expired.status();
  absl::Status still = auth.StillValid(*p);
  EXPECT_TRUE(absl::IsUnauthenticated(still)) << still;
  EXPECT_NE(still.message().find("expired"), std::string::npos) << still;
}

TEST_F(AuthenticatorTest, StillValidSeesARevocationWithinHalfASecond) {
  Authenticator auth(store_.get(), &time_);
  std::string secret = *GenerateSecret();
  ASSERT_TRUE(
      store_->CreateToken({"watcher", "viewer", "", Sha256Hex(secret), NowMs(time_), "test"}).ok());
  auto p = auth.Authenticate("Bearer " + secret);
  ASSERT_TRUE(p.ok()) << p.status();
  // Revoked through another hub: this one's cache does not know yet.
  ASSERT_TRUE(store_->DeleteToken("watcher").ok());
  EXPECT_TRUE(auth.StillValid(*p).ok()) << "cached for up to 500 ms";
  time_.Advance(std::chrono::milliseconds(600));
  absl::Status still = auth.StillValid(*p);
  EXPECT_TRUE(absl::IsUnauthenticated(still)) << still;
  EXPECT_NE(still.message().find("revoked"), std::string::npos) << still;
  // A principal that did not come from a token has nothing to re-check.
  EXPECT_TRUE(auth.StillValid(Principal{"internal", Role::kAdmin, ""}).ok());
}

TEST_F(AuthenticatorTest, LastUseIsWrittenOncePerResolution) {
  std::string secret = *GenerateSecret();
  ASSERT_TRUE(store_->CreateToken({"ci", "viewer", "", Sha256Hex(secret), 0, "test"}).ok());
  {
    // A flush interval longer than the test: only explicit flushes write.
    LastUsedRecorder recorder(store_.get(), &time_, std::chrono::minutes(1), std::chrono::hours(1));
    const int64_t first = NowMs(time_);
    recorder.Note("ci");
    time_.Advance(std::chrono::seconds(30));
    recorder.Note("ci");  // within the minute: not written again
    recorder.Flush();
    auto tokens = store_->ListTokens();
    ASSERT_TRUE(tokens.ok());
    EXPECT_EQ((*tokens)[0].last_used_at_ms, first);
    time_.Advance(std::chrono::seconds(31));
    recorder.Note("ci");
    // Not flushed explicitly: the destructor writes what is pending.
  }
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ((*tokens)[0].last_used_at_ms, NowMs(time_));
}

}  // namespace
}  // namespace causeway::hub::auth
