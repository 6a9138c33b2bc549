// ParseTime/FormatTime and ParseDuration/FormatDuration: exact values, round
// trips, and the rejection (with a message quoting the input) of everything
// outside RFC 3339 and the supported range.
#include <cstdint>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "leadlog/store.h"
#include "test_util.h"

namespace leadlog {
namespace {

constexpr Timestamp kBase = testing::ManualClock::kStart;  // 2026-12-04T10:00:00Z

Timestamp MustParse(const std::string& text) {
  Result<Timestamp> r = ParseTime(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

// The error for `text`; fails the test when it parses.
std::string TimeError(const std::string& text) {
  Result<Timestamp> r = ParseTime(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? FormatTime(*r) : "");
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  return r.status().message();
}

TEST(TimeTest, ParsesUtc) {
  EXPECT_EQ(MustParse("2026-12-04T10:00:00Z"), kBase);
  EXPECT_EQ(MustParse("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(MustParse("2000-03-01T00:00:00Z"), 951868800LL * kSecond);
  EXPECT_EQ(MustParse("9999-12-31T23:59:59Z"), 253402300799LL * kSecond);
}

TEST(TimeTest, ParsesSeparatorsAndLowercase) {
  EXPECT_EQ(MustParse("2026-12-04t10:00:00z"), kBase);
  EXPECT_EQ(MustParse("2026-12-04 10:00:00Z"), kBase);
  EXPECT_EQ(MustParse("  2026-12-04T10:00:00Z\n"), kBase);
}

TEST(TimeTest, ParsesFractions) {
  EXPECT_EQ(MustParse("2026-12-04T10:00:00.5Z"), kBase + 500000);
  EXPECT_EQ(MustParse("2026-12-04T10:00:00.000001Z"), kBase + 1);
  EXPECT_EQ(MustParse("2026-12-04T10:00:00.123456Z"), kBase + 123456);
  // Beyond microseconds: truncated, not rounded.
  EXPECT_EQ(MustParse("2026-12-04T10:00:00.123456999Z"), kBase + 123456);
  EXPECT_EQ(MustParse("2026-12-04T10:00:00.000Z"), kBase);
}

TEST(TimeTest, ParsesOffsets) {
  EXPECT_EQ(MustParse("2026-12-04T12:00:00+02:00"), kBase);
  EXPECT_EQ(MustParse("2026-12-04T05:30:00-04:30"), kBase);
  EXPECT_EQ(MustParse("2026-12-04T10:00:00+00:00"), kBase);
  EXPECT_EQ(MustParse("2026-12-04T10:00:00-00:00"), kBase);
  // The offset moves the date across midnight and across a year boundary.
  EXPECT_EQ(MustParse("2026-12-05T09:00:00+23:00"), kBase);
  EXPECT_EQ(MustParse("2027-01-01T01:00:00+02:00"), MustParse("2026-12-31T23:00:00Z"));
  EXPECT_EQ(MustParse("2026-12-04T11:00:00.25+01:00"), kBase + 250000);
}

TEST(TimeTest, LeapYears) {
  EXPECT_EQ(MustParse("2028-02-29T00:00:00Z") + 24 * kHour, MustParse("2028-03-01T00:00:00Z"));
  EXPECT_EQ(MustParse("2000-02-29T00:00:00Z") + 24 * kHour, MustParse("2000-03-01T00:00:00Z"));
  EXPECT_NE(TimeError("2026-02-29T00:00:00Z").find("February 2026 has 28 days"), std::string::npos);
  EXPECT_NE(TimeError("2100-02-29T00:00:00Z").find("February 2100 has 28 days"), std::string::npos);
}

TEST(TimeTest, RejectsAbsurdValuesQuotingTheInput) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"0000-01-01T00:00:00Z", "before 1970"},
      {"1969-12-31T23:59:59Z", "before 1970"},
      {"1970-01-01T00:30:00+01:00", "before 1970"},
      {"99999-01-01T00:00:00Z", "4 digits"},
      {"9999-12-31T23:59:59-01:00", "after the year 9999"},
      {"-2026-12-04T10:00:00Z", "4-digit year"},
      {"2026-02-30T10:00:00Z", "February 2026 has 28 days"},
      {"2026-04-31T10:00:00Z", "April 2026 has 30 days"},
      {"2026-13-01T10:00:00Z", "month 13"},
      {"2026-00-01T10:00:00Z", "month 0"},
      {"2026-12-00T10:00:00Z", "has 31 days"},
      {"2026-12-04T24:00:00Z", "hour 24"},
      {"2026-12-04T10:60:00Z", "minute 60"},
      {"2026-12-04T23:59:60Z", "leap seconds"},
      {"2026-12-04T10:00:00", "time zone is missing"},
      {"2026-12-04", "time of day"},
      {"2026-12-04T10:00Z", "hh:mm:ss"},
      {"2026-12-04T10:00:00.Z", "digits after the decimal point"},
      {"2026-12-04T10:00:00+0200", "+hh:mm"},
      {"2026-12-04T10:00:00+24:00", "offset is out of range"},
      {"2026-12-04T10:00:00 UTC", "time zone must be Z"},
      {"2026-12-04T10:00:00Zjunk", "after the time zone"},
      {"2026-12-04X10:00:00Z", "expected 'T'"},
      {"tomorrow", "4-digit year"},
      {"", "empty"},
      {"1796378400", "year must have 4 digits"},
  };
  for (const Case& c : cases) {
    const std::string message = TimeError(c.text);
    EXPECT_NE(message.find(c.why), std::string::npos) << c.text << " -> " << message;
    const std::string quoted = fmt::format("'{}'", c.text);
    EXPECT_NE(message.find(quoted), std::string::npos) << message;
    EXPECT_NE(message.find("2026-12-04T10:00:00Z"), std::string::npos) << "no example in: " << message;
  }
}

TEST(TimeTest, ErrorMessagesStayShortForHugeInput) {
  const std::string junk(10000, 'x');
  const std::string message = TimeError(junk);
  EXPECT_LT(message.size(), 300u);
  EXPECT_NE(message.find("xxxx..."), std::string::npos);
}

TEST(TimeTest, FormatsUtcWithMicrosOnlyWhenNeeded) {
  EXPECT_EQ(FormatTime(kBase), "2026-12-04T10:00:00Z");
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(kBase + 1), "2026-12-04T10:00:00.000001Z");
  EXPECT_EQ(FormatTime(kBase + 500000), "2026-12-04T10:00:00.500000Z");
  EXPECT_EQ(FormatTime(253402300799LL * kSecond + 999999), "9999-12-31T23:59:59.999999Z");
  // Not valid input, but a diagnostic may print it: a real date, no garbage.
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(TimeTest, RoundTripsRandomTimes) {
  std::mt19937_64 rng(20261204);
  const Timestamp max = 253402300799LL * kSecond + 999999;
  std::uniform_int_distribution<Timestamp> dist(0, max);
  for (int i = 0; i < 20000; ++i) {
    const Timestamp t = i % 2 == 0 ? dist(rng) : dist(rng) / kSecond * kSecond;
    const std::string text = FormatTime(t);
    ASSERT_EQ(MustParse(text), t) << text;
  }
}

Duration MustParseDuration(const std::string& text, bool allow_never = false) {
  Result<Duration> r = ParseDuration(text, allow_never);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : -2;
}

std::string DurationError(const std::string& text, bool allow_never = false) {
  Result<Duration> r = ParseDuration(text, allow_never);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  return r.status().message();
}

TEST(DurationTest, ParsesUnits) {
  EXPECT_EQ(MustParseDuration("90s"), 90 * kSecond);
  EXPECT_EQ(MustParseDuration("15m"), 15 * kMinute);
  EXPECT_EQ(MustParseDuration("4h"), 4 * kHour);
  EXPECT_EQ(MustParseDuration("2d"), 48 * kHour);
  EXPECT_EQ(MustParseDuration(" 1h "), kHour);
  EXPECT_EQ(MustParseDuration("0s"), 0);
  EXPECT_EQ(MustParseDuration("36500d"), 36500 * 24 * kHour);
}

TEST(DurationTest, Never) {
  EXPECT_EQ(MustParseDuration("never", true), kNever);
  EXPECT_NE(DurationError("never", false).find("'never' is not allowed"), std::string::npos);
}

TEST(DurationTest, RejectsWithMessages) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"-5m", "negative"},
      {"-1", "negative"},
      {"90", "no unit; write 90s, 90m, 90h or 90d"},
      {"0", "no unit"},
      {"5x", "unknown unit 'x'"},
      {"5 m", "unknown unit ' m'"},
      {"5M", "unknown unit 'M'"},
      {"1h30m", "unknown unit 'h30m'"},
      {"1.5h", "unknown unit '.5h'"},
      {"36501d", "longer than 100 years"},
      {"876001h", "longer than 100 years"},
      {"99999999999999999999999999s", "longer than 100 years"},
      {"9223372036854775807d", "longer than 100 years"},
      {"soon", "does not start with a number"},
      {"h", "does not start with a number"},
  };
  for (const Case& c : cases) {
    const std::string message = DurationError(c.text, true);
    EXPECT_NE(message.find(c.why), std::string::npos) << c.text << " -> " << message;
    EXPECT_NE(message.find(std::string("'") + c.text + "'"), std::string::npos) << message;
  }
  EXPECT_NE(DurationError("").find("empty"), std::string::npos);
  EXPECT_NE(DurationError("soon", true).find("or never"), std::string::npos);
}

TEST(DurationTest, FormatsLargestExactUnit) {
  EXPECT_EQ(FormatDuration(kNever), "never");
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(90 * kSecond), "90s");
  EXPECT_EQ(FormatDuration(60 * kSecond), "1m");
  EXPECT_EQ(FormatDuration(90 * kMinute), "90m");
  EXPECT_EQ(FormatDuration(15 * kMinute), "15m");
  EXPECT_EQ(FormatDuration(4 * kHour), "4h");
  EXPECT_EQ(FormatDuration(48 * kHour), "2d");
  EXPECT_EQ(FormatDuration(36 * kHour), "36h");
  EXPECT_EQ(FormatDuration(1500 * 1000), "1500ms");
  EXPECT_EQ(FormatDuration(1500001), "1500001us");
}

TEST(DurationTest, RoundTrips) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<Duration> dist(0, 36500 * 24 * kHour);
  const Duration scales[] = {1, 1000, kSecond, kMinute, kHour, 24 * kHour};
  for (int i = 0; i < 5000; ++i) {
    const Duration scale = scales[i % 6];
    const Duration d = dist(rng) / scale * scale;
    ASSERT_EQ(MustParseDuration(FormatDuration(d)), d) << FormatDuration(d);
  }
  EXPECT_EQ(MustParseDuration(FormatDuration(kNever), true), kNever);
}

}  // namespace
}  // namespace leadlog
