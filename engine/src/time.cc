// Time and duration text: RFC 3339 timestamps and "90s"-style durations.
//
// Invariants:
//  - ParseTime accepts only full RFC 3339 date-times with an explicit zone
//    ('Z' or +hh:mm/-hh:mm) whose UTC instant lies in 1970..9999; everything
//    else is InvalidArgument quoting the input and showing an example.
//  - FormatTime(t) is RFC 3339 UTC with 'Z' and ParseTime(FormatTime(t)) == t
//    for every t in that range (fractions are printed as microseconds).
//  - ParseDuration(FormatDuration(d)) == d for every d it accepts (0..100 years
//    and kNever); the calendar arithmetic is proleptic Gregorian, no leap seconds.
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "leadlog/store.h"
#include "leadlog/types.h"

namespace leadlog {

namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr char kTimeExample[] = "2026-12-04T10:00:00Z";
constexpr Duration kDay = 24 * kHour;
constexpr Duration kMaxDuration = 36500 * kDay;  // 100 years: anything longer is a typo

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The input as shown inside an error message: bounded, no control bytes,
// because it may be a whole garbage file passed to --now.
std::string Shown(std::string_view s) {
  constexpr size_t kMax = 48;
  std::string out;
  const size_t n = s.size() < kMax ? s.size() : kMax;
  out.reserve(n + 8);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (s.size() > kMax) out += "...";
  return out;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Howard Hinnant's days_from_civil / civil_from_days: exact for any int64 day
// count we can meet, which is why FormatTime never needs a range check.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

const char* MonthName(int m) {
  static constexpr const char* kNames[12] = {"January", "February", "March",     "April",   "May",      "June",
                                             "July",    "August",   "September", "October", "November", "December"};
  return kNames[m - 1];
}

// A forward-only reader over the text; every Read* returns false without
// consuming anything useful when the text does not match.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool Done() const { return i_ == s_.size(); }
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c || Done()) return false;
    ++i_;
    return true;
  }
  // Exactly `n` ASCII digits.
  bool Digits(int n, int64_t* out) {
    if (s_.size() - i_ < static_cast<size_t>(n)) return false;
    int64_t v = 0;
    for (int k = 0; k < n; ++k) {
      const char c = s_[i_ + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i_ += n;
    *out = v;
    return true;
  }
  size_t pos() const { return i_; }
  void Advance() { ++i_; }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

Status TimeError(std::string_view text, std::string_view why) {
  return Status::InvalidArgument(
      fmt::format("time '{}' is not valid: {} (expected RFC 3339, e.g. {})", Shown(text), why, kTimeExample));
}

}  // namespace

Result<Timestamp> ParseTime(std::string_view input) {
  const std::string_view text = TrimSpace(input);
  if (text.empty()) return TimeError(text, "it is empty");
  Cursor c(text);
  int64_t year, month, day, hour, minute, second;
  if (!c.Digits(4, &year)) return TimeError(text, "it must start with a 4-digit year (1970..9999)");
  if (!c.Eat('-')) {
    if (c.Peek() >= '0' && c.Peek() <= '9') return TimeError(text, "the year must have 4 digits (1970..9999)");
    return TimeError(text, "expected '-' after the year");
  }
  if (!c.Digits(2, &month) || !c.Eat('-') || !c.Digits(2, &day)) {
    return TimeError(text, "the date must be written YYYY-MM-DD");
  }
  if (year < 1970) return TimeError(text, fmt::format("year {} is before 1970", year));
  if (month < 1 || month > 12) return TimeError(text, fmt::format("month {} does not exist", month));
  if (day < 1 || day > DaysInMonth(year, static_cast<int>(month))) {
    return TimeError(text, fmt::format("{} {} has {} days", MonthName(static_cast<int>(month)), year,
                                       DaysInMonth(year, static_cast<int>(month))));
  }
  if (c.Done()) return TimeError(text, "the time of day and zone are missing");
  const char sep = c.Peek();
  if (sep != 'T' && sep != 't' && sep != ' ') return TimeError(text, "expected 'T' between the date and the time");
  c.Advance();
  if (!c.Digits(2, &hour) || !c.Eat(':') || !c.Digits(2, &minute) || !c.Eat(':') || !c.Digits(2, &second)) {
    return TimeError(text, "the time of day must be written hh:mm:ss");
  }
  if (hour > 23) return TimeError(text, fmt::format("hour {} does not exist", hour));
  if (minute > 59) return TimeError(text, fmt::format("minute {} does not exist", minute));
  if (second == 60) return TimeError(text, "leap seconds are not supported");
  if (second > 59) return TimeError(text, fmt::format("second {} does not exist", second));
  int64_t micros = 0;
  if (c.Eat('.')) {
    int digits = 0;
    int64_t scale = 100000;
    while (c.Peek() >= '0' && c.Peek() <= '9' && !c.Done()) {
      // Digits past the microsecond are accepted (RFC 3339 allows any number)
      // and truncated: the log's clock has microsecond resolution.
      if (scale > 0) {
        micros += (c.Peek() - '0') * scale;
        scale /= 10;
      }
      c.Advance();
      if (++digits > 18) return TimeError(text, "too many fractional digits");
    }
    if (digits == 0) return TimeError(text, "expected digits after the decimal point");
  }
  int64_t offset_seconds = 0;
  if (c.Done()) return TimeError(text, "the time zone is missing; end it with Z or an offset such as +02:00");
  if (c.Eat('Z') || c.Eat('z')) {
    // UTC
  } else if (c.Peek() == '+' || c.Peek() == '-') {
    const bool negative = c.Peek() == '-';
    c.Advance();
    int64_t oh, om;
    if (!c.Digits(2, &oh) || !c.Eat(':') || !c.Digits(2, &om)) {
      return TimeError(text, "the offset must be written +hh:mm or -hh:mm");
    }
    if (oh > 23 || om > 59) return TimeError(text, "the offset is out of range (at most 23:59)");
    offset_seconds = (oh * 3600 + om * 60) * (negative ? -1 : 1);
  } else {
    return TimeError(text, "the time zone must be Z or an offset such as +02:00");
  }
  if (!c.Done()) return TimeError(text, "unexpected text after the time zone");

  const int64_t seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second -
                          offset_seconds;
  // Checked after the offset: 1970-01-01T00:30:00+01:00 is still 1969 in UTC.
  if (seconds < 0) return TimeError(text, "it is before 1970-01-01T00:00:00Z");
  if (seconds >= DaysFromCivil(10000, 1, 1) * kSecondsPerDay) return TimeError(text, "it is after the year 9999");
  return Timestamp{seconds * kSecond + micros};
}

std::string FormatTime(Timestamp ts) {
  // Floor division, so that times before 1970 (never valid, but printable in
  // a diagnostic) still come out as a real date instead of garbage.
  int64_t secs = ts / kSecond;
  int64_t micros = ts % kSecond;
  if (micros < 0) {
    micros += kSecond;
    secs -= 1;
  }
  int64_t days = secs / kSecondsPerDay;
  int64_t sod = secs % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    days -= 1;
  }
  int64_t y, m, d;
  CivilFromDays(days, &y, &m, &d);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, sod / 3600, sod / 60 % 60, sod % 60);
  if (micros != 0) out += fmt::format(".{:06}", micros);
  out.push_back('Z');
  return out;
}

Result<Duration> ParseDuration(std::string_view input, bool allow_never) {
  const std::string_view text = TrimSpace(input);
  constexpr char kExample[] = "write a whole number and a unit, e.g. 90s, 15m, 4h or 2d";
  if (text.empty()) return Status::InvalidArgument(fmt::format("duration is empty; {}", kExample));
  if (text == "never") {
    if (allow_never) return Duration{kNever};
    return Status::InvalidArgument(fmt::format("duration 'never' is not allowed here; {}", kExample));
  }
  if (text.front() == '-') {
    return Status::InvalidArgument(fmt::format("duration '{}' is negative; {}", Shown(text), kExample));
  }
  size_t i = 0;
  if (text.front() == '+') i = 1;  // "+5m" is harmless and unambiguous
  const size_t digits_start = i;
  int64_t value = 0;
  bool too_big = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    // Saturate instead of overflowing; anything this long is rejected below.
    if (value > kMaxDuration) {
      too_big = true;
    } else {
      value = value * 10 + (text[i] - '0');
    }
    ++i;
  }
  if (i == digits_start) {
    return Status::InvalidArgument(fmt::format("duration '{}' does not start with a number; {}", Shown(text),
                                               allow_never ? std::string(kExample) + ", or never" : kExample));
  }
  const std::string_view unit = text.substr(i);
  Duration scale;
  if (unit == "d") {
    scale = kDay;
  } else if (unit == "h") {
    scale = kHour;
  } else if (unit == "m") {
    scale = kMinute;
  } else if (unit == "s") {
    scale = kSecond;
  } else if (unit == "ms") {
    scale = 1000;  // only so that FormatDuration's output always parses back
  } else if (unit == "us") {
    scale = 1;
  } else if (unit.empty()) {
    return Status::InvalidArgument(fmt::format("duration '{}' has no unit; write {}s, {}m, {}h or {}d",
                                               Shown(text), value, value, value, value));
  } else {
    return Status::InvalidArgument(
        fmt::format("duration '{}' has an unknown unit '{}'; {}", Shown(text), Shown(unit), kExample));
  }
  if (too_big || value > kMaxDuration / scale) {
    return Status::InvalidArgument(fmt::format("duration '{}' is longer than 100 years", Shown(text)));
  }
  return Duration{value * scale};
}

std::string FormatDuration(Duration d) {
  if (d == kNever) return "never";
  if (d == 0) return "0s";
  struct Unit {
    Duration scale;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{kDay, "d"}, {kHour, "h"}, {kMinute, "m"}, {kSecond, "s"}, {1000, "ms"}};
  for (const Unit& u : kUnits) {
    if (d % u.scale == 0) return fmt::format("{}{}", d / u.scale, u.name);
  }
  return fmt::format("{}us", d);
}

}  // namespace leadlog
