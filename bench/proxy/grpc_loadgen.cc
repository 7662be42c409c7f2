// causeway_bench_grpc_loadgen: a gRPC load generator of our own for
// bench/proxy/grpc_run (Debian packages none), driving the Echo service of
// test/support/grpc/echo.proto.
//
// Closed loop, at saturation: --channels N channels (each its own HTTP/2
// connection: a local subchannel pool per channel) times --outstanding M
// calls kept in flight on each; a call that completes is replaced at once.
//
//   unary   M unary calls per channel, each --payload bytes answered with as
//           many; counts calls completed per second
//   stream  M bidi streams per channel, each sending one message and waiting
//           for its echo before the next (ping-pong); counts messages echoed
//           per second
//
//   causeway_bench_grpc_loadgen --target 127.0.0.1:8080 --mode unary
//       --channels 10 --outstanding 10 --payload 100 --duration 5 [--warmup 1]
//   -> mode=unary target=127.0.0.1:8080 seconds=5.00 done=123456 rate=24691.2
//      errors=0
//
// `done` counts completions inside the measured window only (after the
// warm-up); calls that fail count as errors and are replaced like the others.
// A closed loop measures throughput, not latency: no percentiles are printed,
// since latency at saturation says nothing about latency in use.
//
// One thread drives one completion queue, as wrk -t1 and h2load -t1 do, so
// the load generator takes one core at most from the machine it shares with
// the servers under test.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

using causeway::test::Echo;
using causeway::test::EchoReply;
using causeway::test::EchoRequest;
using Clock = std::chrono::steady_clock;

struct GrpcLoadOptions {
  std::string target;
  std::string mode = "unary";
  int channels = 10;
  int outstanding = 10;
  int payload = 100;
  double duration_s = 5;
  double warmup_s = 1;
};

// What the calls of a run share: the measured window and the counts.
struct GrpcLoadState {
  grpc::CompletionQueue cq;
  EchoRequest request;
  Clock::time_point measure_from;
  Clock::time_point measure_until;
  long done = 0;
  long errors = 0;
  std::string first_error;
  int live = 0;  // calls and streams not yet finished

  bool Measuring(Clock::time_point now) const { return now >= measure_from && now < measure_until; }
  bool Stopping(Clock::time_point now) const { return now >= measure_until; }
  void Failed(const grpc::Status& status) {
    if (!Measuring(Clock::now())) return;
    ++errors;
    if (first_error.empty()) {
      first_error = std::to_string(status.error_code()) + " " + status.error_message();
    }
  }
};

// Something waiting on the completion queue; the tag is the object.
class GrpcLoadOp {
 public:
  virtual ~GrpcLoadOp() = default;
  // Returns false when the object is finished and may be deleted.
  virtual bool Proceed(bool ok) = 0;
};

class UnaryLoadCall final : public GrpcLoadOp {
 public:
  UnaryLoadCall(Echo::Stub* stub, GrpcLoadState* state) : stub_(stub), state_(state) {
    ++state_->live;
    rpc_ = stub_->PrepareAsyncUnary(&context_, state_->request, &state_->cq);
    rpc_->StartCall();
    rpc_->Finish(&reply_, &status_, this);
  }
  ~UnaryLoadCall() override { --state_->live; }

  bool Proceed(bool /*ok*/) override {
    const Clock::time_point now = Clock::now();
    if (!status_.ok()) {
      state_->Failed(status_);
    } else if (state_->Measuring(now)) {
      ++state_->done;
    }
    if (!state_->Stopping(now)) new UnaryLoadCall(stub_, state_);
    return false;
  }

 private:
  Echo::Stub* stub_;
  GrpcLoadState* state_;
  grpc::ClientContext context_;
  EchoReply reply_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<EchoReply>> rpc_;
};

// One bidi stream in ping-pong: one operation pending at a time, so the
// state says which one just completed.
class BidiLoadStream final : public GrpcLoadOp {
 public:
  BidiLoadStream(Echo::Stub* stub, GrpcLoadState* state) : state_(state) {
    ++state_->live;
    stream_ = stub->PrepareAsyncBidi(&context_, &state_->cq);
    step_ = Step::kStart;
    stream_->StartCall(this);
  }
  ~BidiLoadStream() override { --state_->live; }

  bool Proceed(bool ok) override {
    const Clock::time_point now = Clock::now();
    switch (step_) {
      case Step::kStart:
      case Step::kRead:
        if (!ok) return Finish();
        if (step_ == Step::kRead && state_->Measuring(now)) ++state_->done;
        if (state_->Stopping(now)) return CloseWrites();
        step_ = Step::kWrite;
        stream_->Write(state_->request, this);
        return true;
      case Step::kWrite:
        if (!ok) return Finish();
        step_ = Step::kRead;
        stream_->Read(&reply_, this);
        return true;
      case Step::kWritesDone:
        return Finish();
      case Step::kFinish:
        if (!status_.ok()) state_->Failed(status_);
        return false;
    }
    return false;
  }

 private:
  enum class Step { kStart, kWrite, kRead, kWritesDone, kFinish };

  bool CloseWrites() {
    step_ = Step::kWritesDone;
    stream_->WritesDone(this);
    return true;
  }
  bool Finish() {
    step_ = Step::kFinish;
    stream_->Finish(&status_, this);
    return true;
  }

  GrpcLoadState* state_;
  grpc::ClientContext context_;
  EchoReply reply_;
  grpc::Status status_;
  Step step_ = Step::kStart;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<EchoRequest, EchoReply>> stream_;
};

std::shared_ptr<grpc::Channel> GrpcLoadChannel(const std::string& target, int payload) {
  grpc::ChannelArguments args;
  // Channels to one target share their connection through gRPC's global
  // subchannel pool; a local pool gives each channel a connection of its own.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(payload + (1 << 20));
  args.SetMaxSendMessageSize(payload + (1 << 20));
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// Runs the completion queue until the window has passed and every call and
// stream has finished.
void DriveGrpcLoad(GrpcLoadState& state) {
  void* tag = nullptr;
  bool ok = false;
  while (state.live > 0) {
    auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(100);
    auto got = state.cq.AsyncNext(&tag, &ok, deadline);
    if (got == grpc::CompletionQueue::SHUTDOWN) break;
    if (got == grpc::CompletionQueue::TIMEOUT) continue;
    auto* op = static_cast<GrpcLoadOp*>(tag);
    if (!op->Proceed(ok)) delete op;
  }
  state.cq.Shutdown();
  while (state.cq.Next(&tag, &ok)) {
  }
}

int RunGrpcLoad(const GrpcLoadOptions& options) {
  GrpcLoadState state;
  state.request.set_payload(std::string(static_cast<size_t>(options.payload), 'g'));
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<Echo::Stub>> stubs;
  for (int i = 0; i < options.channels; ++i) {
    channels.push_back(GrpcLoadChannel(options.target, options.payload));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(10))) {
      std::fprintf(stderr, "grpc_loadgen: channel %d cannot connect to %s\n", i,
                   options.target.c_str());
      return 1;
    }
    stubs.push_back(Echo::NewStub(channels.back()));
  }
  const auto start = Clock::now();
  state.measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(options.warmup_s));
  state.measure_until = state.measure_from + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.duration_s));
  for (auto& stub : stubs) {
    for (int j = 0; j < options.outstanding; ++j) {
      if (options.mode == "unary") {
        new UnaryLoadCall(stub.get(), &state);
      } else {
        new BidiLoadStream(stub.get(), &state);
      }
    }
  }
  DriveGrpcLoad(state);
  std::printf("mode=%s target=%s seconds=%.2f done=%ld rate=%.1f errors=%ld%s%s\n",
              options.mode.c_str(), options.target.c_str(), options.duration_s, state.done,
              static_cast<double>(state.done) / options.duration_s, state.errors,
              state.first_error.empty() ? "" : " first_error=", state.first_error.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Closed-loop gRPC load generator for the Echo service (bench/proxy/grpc_run): "
      "N channels x M outstanding unary calls, or M ping-pong bidi streams per "
      "channel; prints calls or messages per second."};
  GrpcLoadOptions options;
  app.add_option("--target", options.target, "host:port of the Echo service")->required();
  app.add_option("--mode", options.mode, "unary: calls/s; stream: bidi messages/s")
      ->check(CLI::IsMember({"unary", "stream"}))
      ->capture_default_str();
  app.add_option("--channels", options.channels, "channels, one HTTP/2 connection each")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--outstanding", options.outstanding,
                 "calls (unary) or streams (stream) in flight per channel")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--payload", options.payload, "request payload bytes (echoed back)")
      ->check(CLI::Range(0, 64 << 20))
      ->capture_default_str();
  app.add_option("--duration", options.duration_s, "measured seconds")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--warmup", options.warmup_s, "seconds run before measuring")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return RunGrpcLoad(options);
}
