// The JSON form of a change-log entry, shared by /v1/changelog and /v1/watch.
#pragma once

#include "model/objects.h"
#include "store/store.h"

namespace causeway::hub::api {

// {revision, time, actor, kind, zone, name, op, before, after}; revision as a
// string like object versions, before/after in the REST form or null.
model::Json ChangeToJson(const store::Change& change);

}  // namespace causeway::hub::api
