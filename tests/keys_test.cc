// The key encodings of keys.h that carry more than a big-endian integer: the
// history index's runs of records.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "keys.h"

namespace leadlog {
namespace {

std::vector<SeqNo> Decode(SeqNo first, const std::string& value, bool* ok) {
  std::vector<SeqNo> out;
  *ok = keys::DecodeLeadEventRun(first, value, &out);
  return out;
}

TEST(LeadEventRunTest, RoundTripsGapsOfEveryVarintLength) {
  const std::vector<SeqNo> seqs = {5,         6,          133,          134 + 16383,
                                   134 + 16383 + 16384, (SeqNo{1} << 62), UINT64_MAX};
  std::string value = keys::EncodeLeadEventRun(seqs.data(), seqs.size());
  bool ok = false;
  EXPECT_EQ(Decode(seqs[0], value, &ok), seqs);
  EXPECT_TRUE(ok);
}

TEST(LeadEventRunTest, OneRecordIsAnEmptyValueAsInIndexesBeforeRuns) {
  SeqNo one = 42;
  EXPECT_EQ(keys::EncodeLeadEventRun(&one, 1), "");
  bool ok = false;
  EXPECT_EQ(Decode(42, "", &ok), std::vector<SeqNo>{42});
  EXPECT_TRUE(ok);
}

TEST(LeadEventRunTest, SmallGapsCostOneByteEach) {
  std::vector<SeqNo> seqs = {1000, 1001, 1100, 1227};
  EXPECT_EQ(keys::EncodeLeadEventRun(seqs.data(), seqs.size()), std::string("\x01\x63\x7f", 3));
}

// The worked example of docs/log-format.md.
TEST(LeadEventRunTest, TheDocumentedExample) {
  std::vector<SeqNo> seqs = {7, 8, 135, 300};
  EXPECT_EQ(keys::EncodeLeadEventRun(seqs.data(), seqs.size()), std::string("\x01\x7f\xa5\x01", 4));
  EXPECT_EQ(std::string(keys::LeadEvent(42, 7).view()),
            std::string("\0\0\0\0\0\0\0\x2a\0\0\0\0\0\0\0\x07", 16));
}

TEST(LeadEventRunTest, RefusesValuesThatAreNotRuns) {
  bool ok = true;
  Decode(1, std::string("\x80", 1), &ok);
  EXPECT_FALSE(ok) << "a truncated varint";
  Decode(1, std::string("\x00", 1), &ok);
  EXPECT_FALSE(ok) << "a zero gap: the same record twice";
  Decode(UINT64_MAX - 1, std::string("\x02", 1), &ok);
  EXPECT_FALSE(ok) << "a sequence number past 2^64";
  Decode(1, std::string(10, '\xff') + std::string("\x01", 1), &ok);
  EXPECT_FALSE(ok) << "a varint longer than 64 bits";
  Decode(1, std::string(9, '\xff') + std::string("\x02", 1), &ok);
  EXPECT_FALSE(ok) << "a tenth varint byte above 1 overflows 64 bits";
  Decode(1, std::string(keys::kMaxLeadEventRun, '\x01'), &ok);
  EXPECT_FALSE(ok) << "more records than a run may hold";
  Decode(1, std::string(keys::kMaxLeadEventRun - 1, '\x01'), &ok);
  EXPECT_TRUE(ok) << "exactly the most a run may hold";
}

}  // namespace
}  // namespace leadlog
