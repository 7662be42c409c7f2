#include "proxy/tunnel/hub_reporter.h"

#include "common/strings.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace causeway::proxy::tunnel {

HubReporter::HubReporter(HubReporterOptions options)
    : options_(std::move(options)), thread_([this] { Run(); }) {}

HubReporter::~HubReporter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void HubReporter::Enqueue(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(task));
}

void HubReporter::Run() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](HubReporter* r)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) { return r->stopping_ || !r->queue_.empty(); },
          this));
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

HubAnswer HubReporter::Call(const std::string& method, const std::string& target,
                            const std::string& body) {
  if (client_ == nullptr) {
    HttpClient::Options o;
    o.timeout = std::chrono::seconds(10);
    o.ca_file = options_.hub_ca;
    o.headers["Authorization"] = "Bearer " + options_.token;
    o.headers["Content-Type"] = "application/json";
    absl::StatusOr<std::unique_ptr<HttpClient>> made = HttpClient::Create(options_.hub, o);
    if (!made.ok()) return {0, std::string(made.status().message())};
    client_ = *std::move(made);
  }
  absl::StatusOr<HttpResponse> res = client_->Send(method, target, body);
  if (!res.ok()) {
    client_.reset();  // a fresh connection next time
    return {0, StrCat("the hub ", options_.hub, " cannot be reached: ", res.status().message())};
  }
  HubAnswer answer{res->status, ""};
  nlohmann::json j = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].value("message", nlohmann::json()).is_string()) {
    answer.message = j["error"]["message"].get<std::string>();
  } else if (res->status >= 300) {
    answer.message = StrCat("the hub answered ", res->status);
  }
  return answer;
}

void HubReporter::Report(std::string zone, std::string intercept, std::string laptop_token,
                         std::function<void(HubAnswer)> done) {
  Enqueue([this, zone = std::move(zone), intercept = std::move(intercept),
           token = std::move(laptop_token), done = std::move(done)] {
    const std::string body =
        nlohmann::json{{"token", token}, {"proxy", options_.proxy}, {"address", options_.advertise}}
            .dump();
    done(Call("POST", StrCat("/v1/zones/", zone, "/intercepts/", intercept, "/tunnel"), body));
  });
}

void HubReporter::Withdraw(std::string zone, std::string intercept) {
  Enqueue([this, zone = std::move(zone), intercept = std::move(intercept)] {
    HubAnswer a = Call(
        "DELETE",
        StrCat("/v1/zones/", zone, "/intercepts/", intercept, "/tunnel?proxy=", options_.proxy),
        "");
    if (a.status != 200) {
      spdlog::warn("tunnel: withdrawing the tunnel of intercept {} (zone {}): {} {}", intercept,
                   zone, a.status, a.message);
    }
  });
}

}  // namespace causeway::proxy::tunnel
