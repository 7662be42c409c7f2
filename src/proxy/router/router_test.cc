#include "proxy/router/router.h"

#include "gtest/gtest.h"
#include "proxy/config/build_config.h"
#include "support/proxy/test_protos.h"

namespace causeway::proxy {
namespace {

using envoy::config::route::v3::RouteConfiguration;

std::shared_ptr<const RouteTable> Table(const std::string& text) {
  auto t = BuildRouteTable(testing::ParseText<RouteConfiguration>(text));
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

TEST(RouterTest, VirtualHostPrecedence) {
  auto t = Table(R"pb(
    name: "r"
    virtual_hosts {
      name: "exact"
      domains: [ "api.example.com", "api.example.com:8080" ]
    }
    virtual_hosts { name: "long-suffix" domains: "*.api.example.com" }
    virtual_hosts { name: "suffix" domains: "*.example.com" }
    virtual_hosts { name: "prefix" domains: "api.*" }
    virtual_hosts { name: "any" domains: "*" }
  )pb");
  auto name = [&](std::string_view host) { return SelectVirtualHost(*t, host)->name; };
  EXPECT_EQ(name("api.example.com"), "exact");
  EXPECT_EQ(name("API.example.com:8080"), "exact");
  EXPECT_EQ(name("api.example.com:9999"), "prefix");  // the full host is tried first
  EXPECT_EQ(name("x.example.com:9999"), "suffix");    // then without the port
  EXPECT_EQ(name("v1.api.example.com"), "long-suffix");
  EXPECT_EQ(name("www.example.com"), "suffix");
  EXPECT_EQ(name("www.example.com:80"), "suffix");
  EXPECT_EQ(name("api.other.org"), "prefix");
  EXPECT_EQ(name("nothing.org"), "any");
}

TEST(RouterTest, NoVirtualHostWithoutCatchAll) {
  auto t = Table(R"pb(name: "r"
                      virtual_hosts { name: "a" domains: "a.com" })pb");
  EXPECT_EQ(SelectVirtualHost(*t, "b.com"), nullptr);
}

TEST(RouterTest, RouteMatchers) {
  auto t = Table(R"pb(
    name: "r"
    virtual_hosts {
      name: "v"
      domains: "*"
      routes {
        name: "exact"
        match { path: "/exact" }
        route { cluster: "a" }
      }
      routes {
        name: "regex"
        match { safe_regex { regex: "/users/[0-9]+" } }
        route { cluster: "a" }
      }
      routes {
        name: "header"
        match {
          prefix: "/h"
          headers {
            name: "x-dev"
            string_match { exact: "alice" }
          }
        }
        route { cluster: "a" }
      }
      routes {
        name: "method"
        match {
          prefix: "/h"
          headers {
            name: ":method"
            string_match { exact: "POST" }
          }
        }
        route { cluster: "a" }
      }
      routes {
        name: "query"
        match {
          prefix: "/h"
          query_parameters {
            name: "debug"
            string_match { exact: "1" }
          }
        }
        route { cluster: "a" }
      }
      routes {
        name: "absent"
        match {
          prefix: "/h"
          headers { name: "x-skip" present_match: true invert_match: true }
        }
        route { cluster: "a" }
      }
      routes {
        name: "nocase"
        match {
          prefix: "/CI"
          case_sensitive { value: false }
        }
        route { cluster: "a" }
      }
      routes {
        name: "default"
        match { prefix: "/" }
        route { cluster: "b" }
      }
    }
  )pb");
  const VirtualHost& vh = t->virtual_hosts[0];
  auto route = [&](std::string_view method, std::string_view target,
                   std::vector<http1::Header> headers = {}) {
    RouteRequest req{method, "x", target, &headers};
    const Route* r = SelectRoute(vh, req);
    return r == nullptr ? std::string("none") : r->name;
  };
  EXPECT_EQ(route("GET", "/exact"), "exact");
  EXPECT_EQ(route("GET", "/exact?x=1"), "exact");
  EXPECT_EQ(route("GET", "/exact/more"), "default");
  EXPECT_EQ(route("GET", "/users/42"), "regex");
  EXPECT_EQ(route("GET", "/users/42x"), "default");
  EXPECT_EQ(route("GET", "/h", {{"X-Dev", "alice"}}), "header");
  EXPECT_EQ(route("POST", "/h"), "method");
  EXPECT_EQ(route("GET", "/h?a=b&debug=1"), "query");
  EXPECT_EQ(route("GET", "/h?debug=2"), "absent");
  EXPECT_EQ(route("GET", "/h", {{"x-skip", ""}}), "default");
  EXPECT_EQ(route("GET", "/ci/path"), "nocase");
}

TEST(RouterTest, WeightedPickAndRewrite) {
  auto t = Table(R"pb(
    name: "r"
    virtual_hosts {
      name: "v"
      domains: "*"
      routes {
        match { prefix: "/old/" }
        route {
          weighted_clusters {
            clusters {
              name: "a"
              weight { value: 1 }
            }
            clusters {
              name: "b"
              weight { value: 3 }
            }
          }
          prefix_rewrite: "/new/"
        }
      }
    }
  )pb");
  const Route& r = t->virtual_hosts[0].routes[0];
  EXPECT_EQ(PickCluster(r, 0)->name, "a");
  EXPECT_EQ(PickCluster(r, 1)->name, "b");
  EXPECT_EQ(PickCluster(r, 3)->name, "b");
  EXPECT_EQ(PickCluster(r, 4)->name, "a");
  EXPECT_EQ(RewriteTarget(r, "/old/x?q=1"), "/new/x?q=1");
}

TEST(RouterTest, InterceptRoutesAreSkippedOnRequest) {
  auto t = Table(R"pb(
    name: "r"
    virtual_hosts {
      name: "v"
      domains: "*"
      routes {
        name: "svc/intercept/ana/header"
        match {
          prefix: "/"
          headers {
            name: "x-causeway-key"
            string_match { exact: "ana" }
          }
        }
        route { cluster: "intercept:ana" }
      }
      routes {
        name: "svc/default"
        match { prefix: "/" }
        route { cluster: "staging" }
      }
    }
  )pb");
  std::vector<http1::Header> headers = {{"x-causeway-key", "ana"}};
  RouteRequest request{"GET", "app", "/x", &headers};
  const VirtualHost& vhost = t->virtual_hosts[0];
  ASSERT_NE(SelectRoute(vhost, request), nullptr);
  EXPECT_EQ(SelectRoute(vhost, request)->name, "svc/intercept/ana/header");
  EXPECT_TRUE(IsInterceptRoute(*SelectRoute(vhost, request)));
  request.skip_intercept_routes = true;
  ASSERT_NE(SelectRoute(vhost, request), nullptr);
  EXPECT_EQ(SelectRoute(vhost, request)->name, "svc/default");
  EXPECT_FALSE(IsInterceptRoute(*SelectRoute(vhost, request)));
}

}  // namespace
}  // namespace causeway::proxy
