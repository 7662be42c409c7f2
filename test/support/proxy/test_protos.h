// Test helper: Envoy resources from protobuf text format.
#pragma once

#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace causeway::proxy::testing {

template <typename Proto>
Proto ParseText(const std::string& text) {
  Proto p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  return p;
}

}  // namespace causeway::proxy::testing
