#include "hub/api/change_json.h"

#include "common/time_source.h"

namespace causeway::hub::api {

model::Json ChangeToJson(const store::Change& change) {
  model::Json j = {
      {"revision", std::to_string(change.revision)},
      {"time", FormatRfc3339(std::chrono::system_clock::time_point(
                   std::chrono::milliseconds(change.time_ms)))},
      {"actor", change.actor},
      {"kind", model::KindName(change.key.kind)},
      {"zone", change.key.zone},
      {"name", change.key.name},
      {"op", store::OpName(change.op)},
  };
  j["before"] = change.before ? model::ToApiJson(*change.before) : model::Json(nullptr);
  j["after"] = change.after ? model::ToApiJson(*change.after) : model::Json(nullptr);
  return j;
}

}  // namespace causeway::hub::api
