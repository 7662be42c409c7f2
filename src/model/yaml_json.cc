#include "model/yaml_json.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "absl/strings/numbers.h"
#include "common/status.h"
#include "common/strings.h"
#include "yaml-cpp/eventhandler.h"

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
    // Beyond a double absl gives infinity, which JSON cannot hold.
    if (absl::SimpleAtod(ToAbsl(text), &d) && std::isfinite(d)) return d;
  }
  return std::string(text);
}

namespace {

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
// yaml-cpp passes such bytes through, and nlohmann's dump() throws on them.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Walks the node tree under `limits`. The recursion is at most max_depth deep.
class YamlWalker {
 public:
  YamlWalker(const JsonLimits& limits, size_t* values) : limits_(limits), values_(values) {}

  absl::StatusOr<Json> Walk(const YAML::Node& node, size_t depth) {
    if (++*values_ > limits_.max_values) {
      return Error(node, StrCat("more than ", limits_.max_values,
                                " values (an alias counts each time it is used)"));
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return Json(nullptr);
      case YAML::NodeType::Scalar:
        CW_RETURN_IF_ERROR(CheckScalar(node));
        // yaml-cpp tags quoted scalars "!" and plain ones "?".
        if (node.Tag() == "!") return Json(node.Scalar());
        return PlainScalarToJson(node.Scalar());
      case YAML::NodeType::Sequence: {
        CW_RETURN_IF_ERROR(CheckDepth(node, depth));
        Json out = Json::array();
        for (const YAML::Node& element : node) {
          CW_ASSIGN_OR_RETURN(Json value, Walk(element, depth + 1));
          out.push_back(std::move(value));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        CW_RETURN_IF_ERROR(CheckDepth(node, depth));
        if (node.size() > limits_.max_object_keys) {
          return Error(node, StrCat("a mapping with more than ", limits_.max_object_keys, " keys"));
        }
        Json out = Json::object();
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) {
            return Error(entry.first, "mapping keys must be plain strings");
          }
          CW_RETURN_IF_ERROR(CheckScalar(entry.first));
          const std::string& key = entry.first.Scalar();
          if (out.contains(key)) {
            return Error(entry.first, StrCat("key \"", key, "\" appears twice"));
          }
          CW_ASSIGN_OR_RETURN(Json value, Walk(entry.second, depth + 1));
          out[key] = std::move(value);
        }
        return out;
      }
    }
    return Json(nullptr);
  }

 private:
  static absl::Status Error(const YAML::Node& node, std::string_view message) {
    return absl::InvalidArgumentError(StrCat("line ", node.Mark().line + 1, ": ", message));
  }

  absl::Status CheckDepth(const YAML::Node& node, size_t depth) const {
    if (depth < limits_.max_depth) return absl::OkStatus();
    return Error(node, StrCat("nested deeper than ", limits_.max_depth,
                              " levels (or an alias used inside its own anchor)"));
  }

  absl::Status CheckScalar(const YAML::Node& node) const {
    if (node.Scalar().size() > limits_.max_string_bytes) {
      return Error(node, StrCat("a scalar of ", node.Scalar().size(), " bytes (more than ",
                                limits_.max_string_bytes, ")"));
    }
    if (!IsValidUtf8(node.Scalar())) return Error(node, "not valid UTF-8");
    return absl::OkStatus();
  }

  const JsonLimits& limits_;
  size_t* values_;
};

// Counts open collections as yaml-cpp's parser reports them and stops it at
// the first one too deep, before it recurses any further, or when it keeps
// starting documents at the same token.
class DepthCounter : public YAML::EventHandler {
 public:
  struct TooDeep {
    YAML::Mark mark;
  };

  // A document that starts where the previous one did: the parser is stuck.
  struct Stuck {
    YAML::Mark mark;
  };

  explicit DepthCounter(size_t max_depth) : max_depth_(max_depth) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0 && mark.pos == last_start_) throw Stuck{mark};
    last_start_ = mark.pos;
    depth_ = 0;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Enter(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Enter(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void Enter(const YAML::Mark& mark) {
    if (++depth_ > max_depth_) throw TooDeep{mark};
  }

  const size_t max_depth_;
  size_t depth_ = 0;
  size_t documents_ = 0;
  int last_start_ = -1;
};

}  // namespace

absl::StatusOr<Json> YamlToJson(const YAML::Node& node, const JsonLimits& limits, size_t* values) {
  size_t own = 0;
  YamlWalker walker(limits, values != nullptr ? values : &own);
  return walker.Walk(node, 0);
}

absl::Status CheckYamlStructure(const std::string& text, size_t max_depth) {
  std::istringstream in(text);
  DepthCounter counter(max_depth);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(counter)) {
    }
  } catch (const DepthCounter::TooDeep& e) {
    return absl::InvalidArgumentError(StrCat("line ", e.mark.line + 1, ", column ",
                                             e.mark.column + 1, ": nested deeper than ", max_depth,
                                             " levels"));
  } catch (const DepthCounter::Stuck& e) {
    return absl::InvalidArgumentError(StrCat("line ", e.mark.line + 1, ", column ",
                                             e.mark.column + 1,
                                             ": not valid YAML: no node can start here"));
  } catch (const YAML::Exception&) {
    // Malformed: the caller's YAML::Load reports it.
  }
  return absl::OkStatus();
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
