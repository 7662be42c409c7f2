#include "proxy/server/routing_key_guard.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/strings.h"

namespace causeway::proxy {
namespace {

constexpr std::string_view kGuardKeyHeader = "x-causeway-key";
constexpr std::string_view kGuardBaggageHeader = "baggage";
constexpr std::string_view kGuardCookieHeader = "cookie";
constexpr std::string_view kGuardCarrierName = "causeway-key";  // baggage member and cookie

// Blanks (OWS) around `s` dropped.
std::string_view GuardTrim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// `s` split at every `separator`.
std::vector<std::string_view> GuardSplit(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    const size_t next = s.find(separator, at);
    parts.push_back(s.substr(at, next == std::string_view::npos ? s.npos : next - at));
    if (next == std::string_view::npos) return parts;
    at = next + 1;
  }
}

bool IsGuardKey(std::string_view key) {
  return !key.empty() && key.size() <= 32 && std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::string ProofHash(std::string_view proof) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(proof.data()), proof.size(), digest.data());
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// The bare key of a proven `KEY~PROOF`, nothing for anything else.
std::optional<std::string_view> ProvenKey(const RoutingKeyTable* table, std::string_view value) {
  const size_t tilde = value.find(kKeyProofSeparator);
  if (table == nullptr || tilde == std::string_view::npos) return std::nullopt;
  std::string_view key = value.substr(0, tilde);
  std::string_view proof = value.substr(tilde + 1);
  if (!IsGuardKey(key) || proof.empty()) return std::nullopt;
  auto it = table->hashes.find(ToAbsl(key));
  if (it == table->hashes.end()) return std::nullopt;
  const std::string hash = ProofHash(proof);
  if (std::find(it->second.begin(), it->second.end(), hash) == it->second.end()) {
    return std::nullopt;
  }
  return key;
}

// What becomes of one header: kept, given a new value, or removed.
struct HeaderEdit {
  enum class Kind { kKeep, kSet, kSetView, kRemove } kind = Kind::kKeep;
  std::string value;      // kSet
  std::string_view view;  // kSetView: a part of the original value
};

HeaderEdit GuardKeyHeader(const RoutingKeyTable* table, std::string_view value,
                          KeyGuardResult& result) {
  std::optional<std::string_view> key = ProvenKey(table, GuardTrim(value));
  if (!key) {
    ++result.stripped;
    return {HeaderEdit::Kind::kRemove};
  }
  ++result.verified;
  return {HeaderEdit::Kind::kSetView, {}, *key};
}

// Rebuilds a list header (`separator` between members) in which the members
// `rewrite` turns into a new member or nothing; kKeep when none of them is
// the key carrier.
template <typename Rewrite>
HeaderEdit GuardList(std::string_view value, char separator, std::string_view joiner,
                     Rewrite rewrite) {
  std::vector<std::string> members;
  bool touched = false;
  for (std::string_view raw : GuardSplit(value, separator)) {
    std::string_view member = GuardTrim(raw);
    std::string_view name = GuardTrim(member.substr(0, member.find('=')));
    if (name != kGuardCarrierName || member.find('=') == std::string_view::npos) {
      if (!member.empty()) members.emplace_back(member);
      continue;
    }
    touched = true;
    std::optional<std::string> kept = rewrite(member.substr(member.find('=') + 1));
    if (kept) members.push_back(*std::move(kept));
  }
  if (!touched) return {};
  if (members.empty()) return {HeaderEdit::Kind::kRemove};
  HeaderEdit edit{HeaderEdit::Kind::kSet};
  for (const std::string& member : members) {
    if (!edit.value.empty()) edit.value.append(joiner);
    edit.value.append(member);
  }
  return edit;
}

HeaderEdit GuardBaggage(const RoutingKeyTable* table, std::string_view value,
                        KeyGuardResult& result) {
  return GuardList(value, ',', ",", [&](std::string_view rest) -> std::optional<std::string> {
    // A member's properties follow its value after ';' and stay with it.
    const size_t semicolon = std::min(rest.find(';'), rest.size());
    std::optional<std::string_view> key = ProvenKey(table, GuardTrim(rest.substr(0, semicolon)));
    if (!key) {
      ++result.stripped;
      return std::nullopt;
    }
    ++result.verified;
    return StrCat(kGuardCarrierName, "=", *key, rest.substr(semicolon));
  });
}

HeaderEdit GuardCookie(const RoutingKeyTable* table, std::string_view value,
                       KeyGuardResult& result) {
  return GuardList(value, ';', "; ", [&](std::string_view rest) -> std::optional<std::string> {
    std::optional<std::string_view> key = ProvenKey(table, GuardTrim(rest));
    if (!key) {
      ++result.stripped;
      return std::nullopt;
    }
    ++result.verified;
    return StrCat(kGuardCarrierName, "=", *key);
  });
}

HeaderEdit GuardHeader(const RoutingKeyTable* table, const http1::Header& h,
                       KeyGuardResult& result) {
  if (absl::EqualsIgnoreCase(ToAbsl(h.name), ToAbsl(kGuardKeyHeader)))
    return GuardKeyHeader(table, h.value, result);
  if (absl::EqualsIgnoreCase(ToAbsl(h.name), ToAbsl(kGuardBaggageHeader))) {
    return GuardBaggage(table, h.value, result);
  }
  // Only the cookie carrier's own text is looked at: a request without it
  // pays for a search, not a split.
  if (absl::EqualsIgnoreCase(ToAbsl(h.name), ToAbsl(kGuardCookieHeader)) &&
      h.value.find(kGuardCarrierName) != std::string_view::npos) {
    return GuardCookie(table, h.value, result);
  }
  return {};
}

}  // namespace

KeyGuardResult GuardRoutingKeys(const RoutingKeyTable* table, http1::RequestHead& request,
                                std::string* storage) {
  KeyGuardResult result;
  std::vector<std::pair<size_t, HeaderEdit>> edits;
  for (size_t i = 0; i < request.headers.size(); ++i) {
    HeaderEdit edit = GuardHeader(table, request.headers[i], result);
    if (edit.kind != HeaderEdit::Kind::kKeep) edits.emplace_back(i, std::move(edit));
  }
  if (edits.empty()) return result;
  // New values go into one string, sized first so the views stay valid.
  size_t total = 0;
  for (const auto& [i, edit] : edits) total += edit.value.size();
  storage->clear();
  storage->reserve(total);
  for (auto& [i, edit] : edits) {
    if (edit.kind == HeaderEdit::Kind::kSetView) request.headers[i].value = edit.view;
    if (edit.kind != HeaderEdit::Kind::kSet) continue;
    const size_t at = storage->size();
    storage->append(edit.value);
    request.headers[i].value = std::string_view(*storage).substr(at, edit.value.size());
  }
  // Removals last, from the back, so the indexes above stay right.
  for (auto it = edits.rbegin(); it != edits.rend(); ++it) {
    if (it->second.kind == HeaderEdit::Kind::kRemove) {
      request.headers.erase(request.headers.begin() + static_cast<ptrdiff_t>(it->first));
    }
  }
  return result;
}

void GuardRequestKeys(bool edge, const ListenerConfig& listener, http1::RequestHead& request,
                      StreamInfo& info, ProxyCounters& counters) {
  if (!edge) return;
  KeyGuardResult result =
      GuardRoutingKeys(listener.key_guard.get(), request, &info.key_guard_storage);
  if (result.stripped > 0) {
    counters.routing_key_stripped.fetch_add(1, std::memory_order_relaxed);
    info.key_guard = "stripped";
  } else if (result.verified > 0) {
    counters.routing_key_verified.fetch_add(1, std::memory_order_relaxed);
    info.key_guard = "verified";
  }
}

}  // namespace causeway::proxy
