#include "model/bounded_json.h"

#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/strings.h"

namespace causeway::model {
namespace {

// An input iterator over the text that records how far nlohmann's lexer has
// read, so that a limit broken inside a SAX callback can name its byte.
class TrackingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackingIterator(const char* p, const char** read) : p_(p), read_(read) {}
  reference operator*() const { return *p_; }
  TrackingIterator& operator++() {
    ++p_;
    *read_ = p_;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const TrackingIterator& other) const { return p_ == other.p_; }
  bool operator!=(const TrackingIterator& other) const { return p_ != other.p_; }

 private:
  const char* p_;
  const char** read_;
};

// At most `n` bytes of `s`, cut at a UTF-8 character boundary, with "..."
// when cut.
std::string Shorten(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return StrCat(s.substr(0, n), "...");
}

// Builds the document from SAX events without recursion (a stack of open
// containers, as nlohmann's own DOM builder does) and refuses the event that
// breaks a limit.
class BoundedBuilder {
 public:
  BoundedBuilder(std::string_view what, const JsonLimits& limits, const char* begin,
                 const char* const* read)
      : what_(what), limits_(limits), begin_(begin), read_(read) {}

  bool null() { return Value(Json(nullptr)); }
  bool boolean(bool v) { return Value(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return Value(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return Value(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) {
    return Value(Json(v));
  }
  bool string(Json::string_t& v) {
    if (v.size() > limits_.max_string_bytes) {
      return Fail(Path(frames_.size(), true), StrCat("a string of ", v.size(), " bytes (more than ",
                                                     limits_.max_string_bytes, ") ending"));
    }
    return Value(Json(std::move(v)));
  }
  bool binary(Json::binary_t& /*v*/) { return Fail("", "a binary value"); }

  bool start_object(std::size_t /*elements*/) { return Open(Json::object()); }
  bool key(Json::string_t& k) {
    Frame& top = frames_.back();
    const std::string container = Path(frames_.size() - 1, false);
    if (k.size() > limits_.max_string_bytes) {
      return Fail(Join(container, Shorten(k, 64)),
                  StrCat("a key of ", k.size(), " bytes (more than ", limits_.max_string_bytes,
                         ") ending"));
    }
    if (++top.members > limits_.max_object_keys) {
      return Fail(container, StrCat("an object with more than ", limits_.max_object_keys, " keys"));
    }
    // A repeated key replaces the earlier value, as in nlohmann's parser.
    auto [it, inserted] =
        top.value->get_ref<Json::object_t&>().insert_or_assign(std::move(k), Json());
    top.key = &it->first;
    top.slot = &it->second;
    return true;
  }
  bool end_object() {
    frames_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*elements*/) { return Open(Json::array()); }
  bool end_array() {
    frames_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) {
    if (ex.id == 406) {  // out_of_range: a number beyond double, e.g. 1e999
      error_ = absl::InvalidArgumentError(StrCat(what_, ": the number ", Shorten(last_token, 40),
                                                 " at byte ", position, " is out of range"));
      return false;
    }
    // "[json.exception.parse_error.101] parse error at line 1, column 3: ..."
    std::string_view message = ex.what();
    if (size_t close = message.find("] "); message.starts_with("[") && close != message.npos) {
      message.remove_prefix(close + 2);
    }
    error_ = absl::InvalidArgumentError(StrCat(what_, ": malformed JSON: ", message));
    return false;
  }

  absl::Status error() const {
    return error_.ok() ? absl::InvalidArgumentError(StrCat(what_, ": malformed JSON")) : error_;
  }
  Json& root() { return root_; }

 private:
  struct Frame {
    Json* value;                       // the open array or object
    size_t members = 0;                // keys seen so far (objects)
    const std::string* key = nullptr;  // the current member's key (objects)
    Json* slot = nullptr;              // the current member's value (objects)
  };

  size_t Offset() const { return static_cast<size_t>(*read_ - begin_); }

  bool Fail(const std::string& field, std::string_view problem) {
    error_ = absl::InvalidArgumentError(StrCat(what_, ": ", problem, " at byte ", Offset()));
    if (!field.empty()) error_.SetPayload(ToAbsl(kFieldPayload), absl::Cord(ToAbsl(field)));
    return false;
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : StrCat(path, ".", key);
  }

  // The path through the first `n` open containers ("items[3].rules[0]").
  // Each names its member that is open; with `pending`, the last one names
  // the value about to be added instead (an array's next index).
  std::string Path(size_t n, bool pending) const {
    std::string path;
    for (size_t i = 0; i < n; ++i) {
      const Frame& f = frames_[i];
      if (f.value->is_array()) {
        size_t size = f.value->size();
        size_t index = (pending && i + 1 == n) || size == 0 ? size : size - 1;
        path += StrCat("[", index, "]");
      } else if (f.key != nullptr) {
        path = Join(path, Shorten(*f.key, 64));
      }
    }
    return path;
  }

  // Places `v` where the next value goes; returns where it now lives.
  Json* Place(Json v) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& top = frames_.back();
    if (top.value->is_array()) {
      auto& array = top.value->get_ref<Json::array_t&>();
      array.push_back(std::move(v));
      return &array.back();
    }
    *top.slot = std::move(v);
    return top.slot;
  }

  bool Count() {
    if (++values_ <= limits_.max_values) return true;
    return Fail("", StrCat("more than ", limits_.max_values, " values"));
  }

  bool Value(Json v) {
    if (!Count()) return false;
    Place(std::move(v));
    return true;
  }

  bool Open(Json container) {
    if (frames_.size() >= limits_.max_depth) {
      return Fail(Path(frames_.size(), true),
                  StrCat("nested deeper than ", limits_.max_depth, " levels"));
    }
    if (!Count()) return false;
    frames_.push_back(Frame{Place(std::move(container))});
    return true;
  }

  const std::string_view what_;
  const JsonLimits& limits_;
  const char* const begin_;
  const char* const* read_;
  Json root_;
  std::vector<Frame> frames_;
  size_t values_ = 0;
  absl::Status error_;
};

}  // namespace

absl::StatusOr<Json> ParseBoundedJson(std::string_view text, std::string_view what,
                                      const JsonLimits& limits) {
  const char* read = text.data();
  BoundedBuilder builder(what, limits, text.data(), &read);
  bool ok = false;
  try {
    ok = Json::sax_parse(TrackingIterator(text.data(), &read),
                         TrackingIterator(text.data() + text.size(), &read), &builder);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(StrCat(what, ": malformed JSON: ", e.what()));
  }
  if (!ok) return builder.error();
  return std::move(builder.root());
}

}  // namespace causeway::model
