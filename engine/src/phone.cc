// Phone numbers: anything a person typed -> E.164, via libphonenumber.
//
// Invariants:
//  - NormalizePhone returns either a valid E.164 number ("+" and digits) that
//    libphonenumber judges valid, or InvalidArgument saying what is wrong with
//    the input, quoted (and shortened: the input may be a 10 KB garbage cell).
//  - A number without a leading '+' is read only with an explicit, known
//    default region; nothing is guessed.
//  - Thread-safe: PhoneNumberUtil is an immutable singleton whose internal
//    regexp cache takes a lock (POSIX on Linux), and our own tables are
//    built once under the function-local static guard.
#include <array>
#include <exception>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include "leadlog/store.h"

namespace leadlog {

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// E.164 numbers have at most 15 digits; 64 bytes leaves room for spaces,
// dashes and brackets while keeping hostile input away from the regexps.
constexpr size_t kMaxPhoneBytes = 64;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// What the user typed, fit for an error message: bounded, cut on a UTF-8
// boundary, control bytes replaced so a message stays one line.
std::string Shown(std::string_view s) {
  constexpr size_t kMax = 40;
  size_t n = s.size();
  if (n > kMax) {
    n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::string out;
  out.reserve(n + 20);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (n < s.size()) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

// Supported regions as a 26x26 bitmap: a lookup per call must cost nothing
// next to the parse itself (the engine validates ~100K phones a second).
struct RegionTable {
  std::array<bool, 26 * 26> known{};
  RegionTable() {
    std::set<std::string> regions;
    PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
    for (const std::string& r : regions) {
      if (r.size() == 2 && r[0] >= 'A' && r[0] <= 'Z' && r[1] >= 'A' && r[1] <= 'Z') {
        known[(r[0] - 'A') * 26 + (r[1] - 'A')] = true;
      }
    }
  }
};

const RegionTable& Regions() {
  static const RegionTable table;
  return table;
}

// Uppercases a two-letter region and checks that libphonenumber knows it.
bool CanonicalRegion(std::string_view region, std::string* out) {
  if (region.size() != 2) return false;
  char a = region[0], b = region[1];
  if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 'a' + 'A');
  if (b >= 'a' && b <= 'z') b = static_cast<char>(b - 'a' + 'A');
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z') return false;
  if (!Regions().known[(a - 'A') * 26 + (b - 'A')]) return false;
  out->assign({a, b});
  return true;
}

const char* ParseErrorText(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return "unknown country code";
    case PhoneNumberUtil::NOT_A_NUMBER:
      return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN:
      return "too long";
    default:
      return "does not parse";
  }
}

Result<std::string> Normalize(std::string_view phone, std::string_view default_region) {
  const std::string_view p = Trim(phone);
  if (p.empty()) return Status::InvalidArgument("phone is empty");
  if (p.size() > kMaxPhoneBytes) {
    return Status::InvalidArgument(
        fmt::format("phone '{}' is {} bytes long; a phone number has at most {}", Shown(p), p.size(), kMaxPhoneBytes));
  }
  std::string region;
  const std::string_view given_region = Trim(default_region);
  if (!given_region.empty() && !CanonicalRegion(given_region, &region)) {
    return Status::InvalidArgument(fmt::format(
        "default region '{}' is unknown; give a two-letter ISO 3166 code such as US or GB", Shown(given_region)));
  }
  if (p.front() != '+' && region.empty()) {
    return Status::InvalidArgument(fmt::format(
        "phone '{}' is in national format; write it with '+' and the country code, or give a default region "
        "such as US",
        Shown(p)));
  }
  const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  // "ZZ" is libphonenumber's unknown region: only '+' numbers parse with it.
  const PhoneNumberUtil::ErrorType error = util->Parse(std::string(p), region.empty() ? "ZZ" : region, &number);
  if (error != PhoneNumberUtil::NO_PARSING_ERROR) {
    return Status::InvalidArgument(
        fmt::format("phone '{}' is not a valid number ({})", Shown(p), ParseErrorText(error)));
  }
  if (!util->IsValidNumber(number)) {
    return Status::InvalidArgument(fmt::format("phone '{}' is not a valid number", Shown(p)));
  }
  // E.164 has no room for an extension: dropping it silently would merge
  // distinct leads into duplicates and dial the wrong person's desk.
  if (number.has_extension() && !number.extension().empty()) {
    return Status::InvalidArgument(
        fmt::format("phone '{}' has an extension, which cannot be dialed; remove it", Shown(p)));
  }
  std::string e164;
  util->Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

}  // namespace

Result<std::string> NormalizePhone(std::string_view phone, std::string_view default_region) {
  // libphonenumber does not throw by design, but protobuf and std::string may
  // (bad_alloc); no exception leaves the engine.
  try {
    return Normalize(phone, default_region);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(fmt::format("phone '{}' could not be checked: {}", Shown(phone), e.what()));
  } catch (...) {
    return Status::InvalidArgument(fmt::format("phone '{}' could not be checked", Shown(phone)));
  }
}

}  // namespace leadlog
