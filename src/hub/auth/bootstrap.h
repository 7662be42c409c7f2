// First start: make sure someone can log in.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/time_source.h"
#include "store/store.h"

namespace causeway::hub::auth {

// When the store has no tokens, creates token "admin" (role admin, all zones)
// and writes its secret to <data_dir>/admin.token with mode 0600. Logs where
// the file is. Does nothing when any token exists.
absl::Status EnsureAdminToken(store::Store* store, const std::string& data_dir,
                              const TimeSource* time);

}  // namespace causeway::hub::auth
