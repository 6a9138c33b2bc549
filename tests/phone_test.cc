// NormalizePhone: a validation table across countries (international and
// national formats), the region rules, hostile input and thread safety.
#include <atomic>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "leadlog/store.h"

namespace leadlog {
namespace {

struct ValidCase {
  const char* input;
  const char* region;
  const char* e164;
};

// Real-shaped numbers (fixed line and mobile) per country, written the way
// people write them.
const ValidCase kValid[] = {
    {"+1 650-253-0000", "", "+16502530000"},
    {"+1 (650) 253-0000", "", "+16502530000"},
    {"+16502530000", "", "+16502530000"},
    {"(650) 253-0000", "US", "+16502530000"},
    {"650.253.0000", "US", "+16502530000"},
    {"1-650-253-0000", "US", "+16502530000"},
    {"+44 20 7031 3000", "", "+442070313000"},
    {"+44 7911 123456", "", "+447911123456"},
    {"020 7031 3000", "GB", "+442070313000"},
    {"07911 123456", "GB", "+447911123456"},
    {"+44 (0) 20 7031 3000", "", "+442070313000"},
    {"+49 30 901820", "", "+4930901820"},
    {"+49 1512 3456789", "", "+4915123456789"},
    {"030 901820", "DE", "+4930901820"},
    {"0044 20 7031 3000", "DE", "+442070313000"},  // international prefix in a national context
    {"+33 1 42 68 53 00", "", "+33142685300"},
    {"+33 6 12 34 56 78", "", "+33612345678"},
    {"01 42 68 53 00", "FR", "+33142685300"},
    {"+91 98765 43210", "", "+919876543210"},
    {"098765 43210", "IN", "+919876543210"},
    {"+55 11 91234-5678", "", "+5511912345678"},
    {"(11) 91234-5678", "BR", "+5511912345678"},
    {"+61 2 9374 4000", "", "+61293744000"},
    {"+61 412 345 678", "", "+61412345678"},
    {"02 9374 4000", "AU", "+61293744000"},
    {"+81 3-1234-5678", "", "+81312345678"},
    {"+81 90-1234-5678", "", "+819012345678"},
    {"03-1234-5678", "JP", "+81312345678"},
    // A '+' number ignores the region.
    {"+44 20 7031 3000", "US", "+442070313000"},
    // Regions are case-insensitive, surrounding whitespace is trimmed.
    {"(650) 253-0000", "us", "+16502530000"},
    {"  +1 650 253 0000\t", "", "+16502530000"},
};

TEST(PhoneTest, NormalizesValidNumbers) {
  for (const ValidCase& c : kValid) {
    Result<std::string> r = NormalizePhone(c.input, c.region);
    ASSERT_TRUE(r.ok()) << c.input << " [" << c.region << "]: " << r.status().ToString();
    EXPECT_EQ(*r, c.e164) << c.input << " [" << c.region << "]";
  }
}

TEST(PhoneTest, NormalizedFormIsAFixedPoint) {
  for (const ValidCase& c : kValid) {
    Result<std::string> r = NormalizePhone(c.e164);
    ASSERT_TRUE(r.ok()) << c.e164;
    EXPECT_EQ(*r, c.e164);
  }
}

struct InvalidCase {
  const char* input;
  const char* region;
  const char* why;  // must appear in the message
};

const InvalidCase kInvalid[] = {
    {"+1 555 123 4567", "", "not a valid number"},  // 555 is no US area code
    {"+1 650 253 000", "", "not a valid number"},
    {"(555) 123-4567", "US", "not a valid number"},
    {"+44 20 7031", "", "not a valid number"},
    {"020 7031", "GB", "not a valid number"},
    {"+49 123", "", "not a valid number"},
    {"+33 9", "", "not a valid number (too short)"},
    {"+91 12345", "", "not a valid number"},
    {"+55 11 1234", "", "not a valid number"},
    {"+61 1", "", "not a valid number (too short)"},
    {"+81 0", "", "not a valid number (too short)"},
    {"+999 123456", "", "not a valid number (unknown country code)"},
    {"+hello", "", "not a valid number"},
    {"+", "", "not a valid number"},
    {"+1 650 253 0000 ext. 123", "", "has an extension"},
};

TEST(PhoneTest, RejectsInvalidNumbersQuotingThem) {
  for (const InvalidCase& c : kInvalid) {
    Result<std::string> r = NormalizePhone(c.input, c.region);
    ASSERT_FALSE(r.ok()) << c.input << " [" << c.region << "] -> " << *r;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    const std::string& m = r.status().message();
    EXPECT_NE(m.find(std::string("phone '") + c.input + "'"), std::string::npos) << m;
    EXPECT_NE(m.find(c.why), std::string::npos) << c.input << " -> " << m;
  }
}

TEST(PhoneTest, NationalFormatNeedsARegion) {
  for (const char* input : {"(650) 253-0000", "020 7031 3000", "hello", "0044 20 7031 3000"}) {
    Result<std::string> r = NormalizePhone(input);
    ASSERT_FALSE(r.ok()) << input;
    EXPECT_EQ(r.status().message(),
              std::string("phone '") + input +
                  "' is in national format; write it with '+' and the country code, or give a default region such as "
                  "US");
  }
}

TEST(PhoneTest, UnknownRegionIsNamed) {
  for (const char* region : {"XX", "USA", "U", "1", "ZZ", "U$"}) {
    Result<std::string> r = NormalizePhone("(650) 253-0000", region);
    ASSERT_FALSE(r.ok()) << region;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(std::string("default region '") + region + "' is unknown"), std::string::npos)
        << r.status().message();
  }
  // Even a '+' number: a wrong region is a caller mistake worth reporting.
  EXPECT_FALSE(NormalizePhone("+16502530000", "XX").ok());
}

TEST(PhoneTest, EmptyAndBlank) {
  for (const char* input : {"", " ", "\t\r\n"}) {
    Result<std::string> r = NormalizePhone(input, "US");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "phone is empty");
  }
}

TEST(PhoneTest, HugeInputIsRefusedBeforeParsingAndNotEchoed) {
  const std::string huge = "+1" + std::string(10 * 1024, '5');
  Result<std::string> r = NormalizePhone(huge, "US");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("10242 bytes long"), std::string::npos) << m;
  EXPECT_NE(m.find("at most 64"), std::string::npos) << m;
  EXPECT_LT(m.size(), 200u);
  // The gate is at 64 bytes after trimming: 64 reach libphonenumber, 65 do not.
  Result<std::string> at_limit = NormalizePhone("  " + std::string(64, '1') + "  ", "US");
  ASSERT_FALSE(at_limit.ok());
  EXPECT_NE(at_limit.status().message().find("not a valid number"), std::string::npos)
      << at_limit.status().message();
  Result<std::string> over = NormalizePhone(std::string(65, '1'), "US");
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("65 bytes long"), std::string::npos) << over.status().message();
}

TEST(PhoneTest, HostileBytesNeverCrash) {
  const std::string inputs[] = {
      std::string("+1650\0" "2530000", 12), "+1650\xff\xfe" "2530000", "+\xEF\xBB\xBF" "16502530000",
      "++16502530000", "+1 650 253 0000;ext=1", "tel:+1-650-253-0000", "\x80\x80\x80",
      "+٦٥٠٢٥٣٠٠٠٠",  // Arabic-Indic digits
  };
  for (const std::string& in : inputs) {
    Result<std::string> r = NormalizePhone(in, "US");
    if (r.ok()) {
      EXPECT_EQ(r->front(), '+') << in;
      EXPECT_EQ(r->find_first_not_of("+0123456789"), std::string::npos) << *r;
    } else {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
      // No raw control bytes leak into a message.
      for (char c : r.status().message()) EXPECT_FALSE(c >= 0 && c < 0x20) << r.status().message();
    }
  }
}

TEST(PhoneTest, ThreadSafe) {
  std::vector<std::string> expected;
  for (const ValidCase& c : kValid) expected.push_back(c.e164);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (size_t i = 0; i < std::size(kValid); ++i) {
          const ValidCase& c = kValid[(i + t) % std::size(kValid)];
          Result<std::string> r = NormalizePhone(c.input, c.region);
          if (!r.ok() || *r != c.e164) ++mismatches;
        }
        if (NormalizePhone("+1 555 123 4567").ok()) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace leadlog
