// The server side of TLS for HttpServer: a certificate chain and private key
// from PEM files, re-read when the files change.
//
// Current() is called once per accepted connection. At most once a second it
// compares the files' inode, size and modification time with what was
// loaded; on a change it builds a new SSL context and swaps it in, so new
// connections get the new certificate while connections already open keep
// the context they started with (each holds a reference). A change that does
// not load (a key that does not match the certificate because only one of
// the two files has been replaced yet, a half-written file) keeps the
// previous context and is tried again on the next check.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/ssl/context.hpp"

namespace causeway::http {

class TlsServerContext {
 public:
  // Loads the files now: INVALID_ARGUMENT naming the file and OpenSSL's
  // reason when they do not load.
  static absl::StatusOr<std::shared_ptr<TlsServerContext>> Load(
      std::string cert_file, std::string key_file,
      std::chrono::milliseconds check_interval = std::chrono::seconds(1));

  // The context for a new connection (re-reading the files if they changed).
  std::shared_ptr<boost::asio::ssl::context> Current();

  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  TlsServerContext(std::string cert_file, std::string key_file,
                   std::chrono::milliseconds check_interval);

  // What identifies the files' current contents without reading them.
  struct Signature {
    std::string text;  // inode, size, mtime of both files; "" if one is missing
    bool operator==(const Signature&) const = default;
  };
  Signature Stat() const;
  absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> Build() const;

  const std::string cert_file_;
  const std::string key_file_;
  const std::chrono::milliseconds check_interval_;
  absl::Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_ ABSL_GUARDED_BY(mu_);
  Signature loaded_ ABSL_GUARDED_BY(mu_);  // of the files behind context_
  // Of files that did not load (not retried until they change).
  Signature rejected_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point next_check_ ABSL_GUARDED_BY(mu_);
};

}  // namespace causeway::http
