#include "model/yaml_json.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "absl/strings/numbers.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::model {
namespace {

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// [-+]?[0-9]+
bool LooksLikeInt(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  return IsDigits(s);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool LooksLikeFloat(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  size_t e = s.find_first_of("eE");
  std::string_view mantissa = s.substr(0, e);
  if (e != std::string_view::npos) {
    std::string_view exp = s.substr(e + 1);
    if (!exp.empty() && (exp.front() == '-' || exp.front() == '+')) exp.remove_prefix(1);
    if (!IsDigits(exp)) return false;
  }
  size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return IsDigits(mantissa);
  std::string_view whole = mantissa.substr(0, dot);
  std::string_view frac = mantissa.substr(dot + 1);
  if (whole.empty()) return IsDigits(frac);
  return IsDigits(whole) && (frac.empty() || IsDigits(frac));
}

void Emit(YAML::Emitter& out, const Json& value);

void EmitString(YAML::Emitter& out, const std::string& s) {
  // Quote whatever a reader would take for a number, bool or null, and
  // multi-line text is easiest to read back when quoted too.
  bool quote = !PlainScalarToJson(s).is_string() || s.find('\n') != std::string::npos;
  if (quote) out << YAML::DoubleQuoted;
  out << s;
}

int KeyRank(const std::string& key) {
  if (key == "kind") return 0;
  if (key == "name") return 1;
  if (key == "zone") return 2;
  return 3;
}

void Emit(YAML::Emitter& out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      out << YAML::Null;
      break;
    case Json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      break;
    case Json::value_t::number_integer:
      out << value.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << value.get<uint64_t>();
      break;
    case Json::value_t::number_float:
      out << value.dump();
      break;
    case Json::value_t::string:
      EmitString(out, value.get<std::string>());
      break;
    case Json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const Json& element : value) Emit(out, element);
      out << YAML::EndSeq;
      break;
    case Json::value_t::object: {
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      std::vector<std::string> keys;
      for (auto it = value.begin(); it != value.end(); ++it) keys.push_back(it.key());
      std::stable_sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
        return KeyRank(a) != KeyRank(b) ? KeyRank(a) < KeyRank(b) : a < b;
      });
      out << YAML::BeginMap;
      for (const std::string& key : keys) {
        out << YAML::Key;
        EmitString(out, key);
        out << YAML::Value;
        Emit(out, value.at(key));
      }
      out << YAML::EndMap;
      break;
    }
    default:  // binary and discarded values never come from the hub
      out << YAML::Null;
      break;
  }
}

}  // namespace

Json PlainScalarToJson(std::string_view text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (LooksLikeInt(text)) {
    int64_t i = 0;
    if (absl::SimpleAtoi(ToAbsl(text), &i)) return i;
    uint64_t u = 0;
    if (absl::SimpleAtoi(ToAbsl(text), &u)) return u;
  }
  if (LooksLikeFloat(text)) {
    double d = 0;
    if (absl::SimpleAtod(ToAbsl(text), &d)) return d;
  }
  return std::string(text);
}

absl::StatusOr<Json> YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Json(nullptr);
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      if (node.Tag() == "!") return Json(node.Scalar());
      return PlainScalarToJson(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const YAML::Node& element : node) {
        CW_ASSIGN_OR_RETURN(Json value, YamlToJson(element));
        out.push_back(std::move(value));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return absl::InvalidArgumentError(
              StrCat("line ", entry.first.Mark().line + 1, ": mapping keys must be plain strings"));
        }
        const std::string& key = entry.first.Scalar();
        if (out.contains(key)) {
          return absl::InvalidArgumentError(
              StrCat("line ", entry.first.Mark().line + 1, ": key \"", key, "\" appears twice"));
        }
        CW_ASSIGN_OR_RETURN(Json value, YamlToJson(entry.second));
        out[key] = std::move(value);
      }
      return out;
    }
  }
  return Json(nullptr);
}

std::string JsonToYaml(const Json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  Emit(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  return text;
}

std::string JsonToYamlDocuments(const std::vector<Json>& documents) {
  std::string text;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i > 0) text += "---\n";
    text += JsonToYaml(documents[i]);
  }
  return text;
}

}  // namespace causeway::model
