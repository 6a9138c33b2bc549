// The CSV reader (RFC 4180 edge cases, line numbers, limits, hostile bytes),
// the leads-file mapping with every reject reason and its line, ImportCsv
// against a small in-memory Store, the rejects file, and the UTF-8 and email
// checks.
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "leadlog/csv.h"
#include "leadlog/store.h"

namespace leadlog {
namespace {

using namespace std::string_literals;

struct Rec {
  size_t line = 0;
  std::vector<std::string> fields;
  std::string error;  // empty: ok
};

std::vector<Rec> ReadAll(std::string_view data, CsvLimits limits = {}) {
  CsvReader reader(data, limits);
  std::vector<Rec> out;
  CsvRecord record;
  Status error;
  while (reader.Next(&record, &error)) {
    Rec r;
    r.line = record.line;
    r.fields = record.fields;
    if (!error.ok()) {
      EXPECT_EQ(error.code(), Status::Code::kInvalidArgument);
      r.error = error.message();
      EXPECT_FALSE(r.error.empty());
    }
    out.push_back(std::move(r));
    if (out.size() > data.size() + 1) {
      ADD_FAILURE() << "reader does not advance";
      break;
    }
  }
  return out;
}

using Fields = std::vector<std::string>;

// ---------------------------------------------------------------- reader

TEST(CsvReaderTest, PlainRecords) {
  auto recs = ReadAll("a,b,c\n1,2,3\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[1].fields, (Fields{"1", "2", "3"}));
  EXPECT_TRUE(recs[1].error.empty());
}

TEST(CsvReaderTest, QuotedFields) {
  auto recs = ReadAll("\"a,b\",c\n\"say \"\"hi\"\"\",\"\"\n\"\"\"\"\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (Fields{"a,b", "c"}));
  EXPECT_EQ(recs[1].fields, (Fields{"say \"hi\"", ""}));
  EXPECT_EQ(recs[2].fields, (Fields{"\""}));
  for (const Rec& r : recs) EXPECT_EQ(r.error, "");
}

TEST(CsvReaderTest, EmptyFieldsAndTrailingComma) {
  auto recs = ReadAll("a,b,\n,,\n\"\",x\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "b", ""}));
  EXPECT_EQ(recs[1].fields, (Fields{"", "", ""}));
  EXPECT_EQ(recs[2].fields, (Fields{"", "x"}));
}

TEST(CsvReaderTest, WhitespaceIsContent) {
  auto recs = ReadAll(" a , b \n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{" a ", " b "}));
}

TEST(CsvReaderTest, LineEndings) {
  for (const char* eol : {"\n", "\r\n", "\r"}) {
    const std::string data = "h1,h2"s + eol + "a,b" + eol + "c,d" + eol;
    auto recs = ReadAll(data);
    ASSERT_EQ(recs.size(), 3u) << "eol " << int(eol[0]);
    EXPECT_EQ(recs[2].line, 3u);
    EXPECT_EQ(recs[2].fields, (Fields{"c", "d"}));
  }
  // Mixed in one file: each of CRLF, LF and CR ends exactly one line.
  auto recs = ReadAll("a\r\nb\nc\rd\r\n\re");
  ASSERT_EQ(recs.size(), 5u);
  const size_t lines[] = {1, 2, 3, 4, 6};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(recs[i].line, lines[i]) << i;
  EXPECT_EQ(recs[4].fields, (Fields{"e"}));
}

TEST(CsvReaderTest, LineBreaksInsideQuotesKeepLineNumbersRight) {
  auto recs = ReadAll("h\n\"multi\nline\",x\nnext,y\n\"a\r\nb\r\nc\"\r\nlast\r\"q\rr\"\rend");
  ASSERT_EQ(recs.size(), 7u);
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[1].fields, (Fields{"multi\nline", "x"}));
  EXPECT_EQ(recs[2].line, 4u);
  EXPECT_EQ(recs[2].fields, (Fields{"next", "y"}));
  EXPECT_EQ(recs[3].line, 5u);
  EXPECT_EQ(recs[3].fields, (Fields{"a\r\nb\r\nc"}));  // content kept byte for byte
  EXPECT_EQ(recs[4].line, 8u);
  EXPECT_EQ(recs[4].fields, (Fields{"last"}));
  EXPECT_EQ(recs[5].line, 9u);
  EXPECT_EQ(recs[5].fields, (Fields{"q\rr"}));
  EXPECT_EQ(recs[6].line, 11u);
  EXPECT_EQ(recs[6].fields, (Fields{"end"}));
}

TEST(CsvReaderTest, FinalRecordWithAndWithoutNewline) {
  EXPECT_EQ(ReadAll("a\nb").back().fields, (Fields{"b"}));
  EXPECT_EQ(ReadAll("a\nb\n").size(), 2u);
  EXPECT_EQ(ReadAll("a\nb\r\n").size(), 2u);
  EXPECT_EQ(ReadAll("a\n\"b\"").back().fields, (Fields{"b"}));
  EXPECT_EQ(ReadAll("a,").back().fields, (Fields{"a", ""}));
}

TEST(CsvReaderTest, EmptyLinesAreSkippedButCounted) {
  auto recs = ReadAll("a\n\n\r\n\rb\n\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].line, 5u);
  EXPECT_TRUE(ReadAll("").empty());
  EXPECT_TRUE(ReadAll("\n\r\n\r").empty());
  EXPECT_TRUE(ReadAll("\xEF\xBB\xBF").empty());
}

TEST(CsvReaderTest, SkipsBomOnlyAtStart) {
  auto recs = ReadAll("\xEF\xBB\xBFphone,x\n\xEF\xBB\xBF" "a,b\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"phone", "x"}));
  EXPECT_EQ(recs[1].fields, (Fields{"\xEF\xBB\xBF" "a", "b"}));  // mid-file it is content
}

TEST(CsvReaderTest, NulByteIsMalformedAndReaderResyncs) {
  auto recs = ReadAll("a,b\nx\0y,z\n\"q\0\",r\nc,d\n"s);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_NE(recs[1].error.find("field 1 contains a NUL byte"), std::string::npos) << recs[1].error;
  EXPECT_TRUE(recs[1].fields.empty());
  EXPECT_NE(recs[2].error.find("NUL"), std::string::npos);
  EXPECT_EQ(recs[3].line, 4u);
  EXPECT_EQ(recs[3].error, "");
  EXPECT_EQ(recs[3].fields, (Fields{"c", "d"}));
}

TEST(CsvReaderTest, StrayQuoteIsMalformedAndReaderResyncs) {
  auto recs = ReadAll("ab\"c,d\nok,1\n\"ab\"c,d\nok,2\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_NE(recs[0].error.find("field 1 has a quote inside unquoted text"), std::string::npos) << recs[0].error;
  EXPECT_EQ(recs[1].fields, (Fields{"ok", "1"}));
  EXPECT_NE(recs[2].error.find("field 1 has text after its closing quote"), std::string::npos) << recs[2].error;
  EXPECT_EQ(recs[3].line, 4u);
  EXPECT_EQ(recs[3].fields, (Fields{"ok", "2"}));
}

TEST(CsvReaderTest, ResyncRespectsQuotedLineBreaksAfterAnError) {
  // The bad record's second field is a quoted field spanning two lines; the
  // record boundary is after it, not at the first physical line break.
  auto recs = ReadAll("a\"b,\"c\nd\"\nz\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_FALSE(recs[0].error.empty());
  EXPECT_EQ(recs[1].line, 3u);
  EXPECT_EQ(recs[1].fields, (Fields{"z"}));
}

TEST(CsvReaderTest, UnterminatedQuoteIsReportedOnceAndEndsInput) {
  auto recs = ReadAll("h\nok\n\"open\nmore,stuff\nand more\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[2].line, 3u);
  EXPECT_NE(recs[2].error.find("the quote that opens field 1 on line 3 is never closed"), std::string::npos)
      << recs[2].error;
  EXPECT_NE(recs[2].error.find("through line 6"), std::string::npos) << recs[2].error;
  // A quote opened on a later line of a multi-line record names that line.
  recs = ReadAll("\"a\nb\",\"c\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_NE(recs[0].error.find("field 2 on line 2"), std::string::npos) << recs[0].error;
}

TEST(CsvReaderTest, FieldLimit) {
  CsvLimits limits;
  limits.max_field_bytes = 10;
  auto recs = ReadAll("0123456789,x\n01234567890,x\n\"0123456789\"\"\",y\nok\n", limits);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].error, "");
  EXPECT_EQ(recs[1].error, "field 1 is longer than the limit of 10 bytes");
  EXPECT_EQ(recs[2].error, "field 1 is longer than the limit of 10 bytes");  // decoded length counts
  EXPECT_EQ(recs[3].fields, (Fields{"ok"}));
}

TEST(CsvReaderTest, FieldCountLimit) {
  CsvLimits limits;
  limits.max_fields = 3;
  auto recs = ReadAll("a,b,c\na,b,c,d\n\"x\",y\n", limits);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].error, "");
  EXPECT_EQ(recs[1].error, "the record has more than 3 fields");
  EXPECT_TRUE(recs[1].fields.empty());
  EXPECT_EQ(recs[2].line, 3u);
  EXPECT_EQ(recs[2].fields, (Fields{"x", "y"}));
}

TEST(CsvReaderTest, OneMebibyteField) {
  const std::string big(1 << 20, 'x');
  auto recs = ReadAll("a,b\n" + big + ",1\n\"" + big + "\",2\nc,d\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1].error, "field 1 is longer than the limit of 65536 bytes");
  EXPECT_EQ(recs[2].error, "field 1 is longer than the limit of 65536 bytes");
  EXPECT_EQ(recs[3].line, 4u);
  // Within a raised limit the same field is read whole.
  CsvLimits roomy;
  roomy.max_field_bytes = 2 << 20;
  recs = ReadAll("\"" + big + "\"", roomy);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields[0].size(), big.size());
}

TEST(CsvReaderTest, HundredThousandColumns) {
  std::string row;
  for (int i = 0; i < 100000; ++i) row += i == 0 ? "c0" : ",c" + std::to_string(i);
  auto recs = ReadAll(row + "\nnext\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].error, "the record has more than 1024 fields");
  EXPECT_EQ(recs[1].fields, (Fields{"next"}));
  CsvLimits wide;
  wide.max_fields = 200000;
  recs = ReadAll(row, wide);
  ASSERT_EQ(recs.size(), 1u);
  ASSERT_EQ(recs[0].fields.size(), 100000u);
  EXPECT_EQ(recs[0].fields[99999], "c99999");
}

// Counts the physical lines of `data` the way the reader does.
size_t PhysicalLines(std::string_view data) {
  size_t lines = 1;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n' || (data[i] == '\r' && (i + 1 == data.size() || data[i + 1] != '\n'))) ++lines;
  }
  return lines;
}

TEST(CsvReaderTest, RandomNoiseNeverBreaksTheReader) {
  std::mt19937 rng(4180);
  const char alphabet[] = {',', '"', '\n', '\r', '\0', 'a', ' ', '\xEF', '\xBB', '\xBF', '\xff', '\x80'};
  CsvLimits small;
  small.max_field_bytes = 16;
  small.max_fields = 4;
  for (int round = 0; round < 3000; ++round) {
    std::string data(rng() % 300, '\0');
    const bool binary = round % 3 == 0;
    for (char& c : data) c = binary ? static_cast<char>(rng()) : alphabet[rng() % sizeof(alphabet)];
    for (const CsvLimits& limits : {CsvLimits{}, small}) {
      auto recs = ReadAll(data, limits);
      size_t last = 0;
      for (const Rec& r : recs) {
        ASSERT_GT(r.line, last) << "lines must ascend";
        ASSERT_LE(r.line, PhysicalLines(data));
        last = r.line;
        if (r.error.empty()) {
          ASSERT_FALSE(r.fields.empty());
          ASSERT_LE(r.fields.size(), limits.max_fields);
          for (const std::string& f : r.fields) ASSERT_LE(f.size(), limits.max_field_bytes);
        } else {
          ASSERT_TRUE(r.fields.empty());
        }
      }
    }
  }
}

// ------------------------------------------------------------ leads mapping

struct Parsed {
  Status status;
  std::vector<LeadInput> leads;
  std::vector<size_t> lines;
  std::vector<CsvReject> rejects;
  uint64_t read = 0;
};

Parsed Parse(std::string_view data, const CsvLimits& limits = {}) {
  Parsed p;
  p.status = ParseLeadsCsv(data, &p.leads, &p.lines, &p.rejects, &p.read, limits);
  if (p.status.ok()) {
    EXPECT_EQ(p.read, p.leads.size() + p.rejects.size());
    EXPECT_EQ(p.lines.size(), p.leads.size());
  }
  return p;
}

std::string HeaderError(std::string_view data) {
  Parsed p = Parse(data);
  EXPECT_FALSE(p.status.ok()) << data;
  EXPECT_EQ(p.status.code(), Status::Code::kInvalidArgument);
  return p.status.message();
}

TEST(ParseLeadsCsvTest, MapsColumnsCaseInsensitivelyAndKeepsCustomFields) {
  Parsed p = Parse(
      "\xEF\xBB\xBF Phone , First_Name,LAST_NAME,eMail,Account No,plan\r\n"
      " +16502530000 , Ann ,Lee , ann@example.com ,A-17, gold \r\n"
      "+442070313000,Bob,,,,\r\n");
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  ASSERT_EQ(p.leads.size(), 2u);
  EXPECT_EQ(p.read, 2u);
  EXPECT_EQ(p.lines, (std::vector<size_t>{2, 3}));
  const LeadInput& a = p.leads[0];
  EXPECT_EQ(a.phone, "+16502530000");
  EXPECT_EQ(a.first_name, "Ann");
  EXPECT_EQ(a.last_name, "Lee");
  EXPECT_EQ(a.email, "ann@example.com");
  // Custom keys as written in the header (trimmed); values verbatim.
  EXPECT_EQ(a.custom, (std::vector<CustomField>{{"Account No", "A-17"}, {"plan", " gold "}}));
  const LeadInput& b = p.leads[1];
  EXPECT_EQ(b.phone, "+442070313000");
  EXPECT_EQ(b.first_name, "Bob");
  EXPECT_EQ(b.email, "");
  EXPECT_TRUE(b.custom.empty());  // empty cells are no fields
}

TEST(ParseLeadsCsvTest, PhoneIsTheOnlyRequiredColumn) {
  Parsed p = Parse("phone\n+16502530000\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.leads.size(), 1u);
  EXPECT_EQ(p.leads[0].phone, "+16502530000");
  // Phone validity is the Store's business, not the parser's.
  p = Parse("phone\nnot a number\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.leads.size(), 1u);
  EXPECT_EQ(p.leads[0].phone, "not a number");
}

TEST(ParseLeadsCsvTest, HeaderProblems) {
  EXPECT_EQ(HeaderError("first_name,email\nAnn,a@b.co\n"),
            "the header has no 'phone' column (columns: first_name, email)");
  EXPECT_NE(HeaderError("phone_number,x\n").find("no 'phone' column (columns: phone_number, x)"),
            std::string::npos);
  for (const char* empty : {"", "\xEF\xBB\xBF", "\n\n\r\n"}) {
    EXPECT_NE(HeaderError(empty).find("the file is empty"), std::string::npos);
  }
  EXPECT_NE(HeaderError("\"phone,x\n1,2\n").find("the header (line 1) is malformed: the quote"), std::string::npos);
  EXPECT_NE(HeaderError("\n\nph\"one\n").find("header (line 3) is malformed"), std::string::npos);
  EXPECT_NE(HeaderError("phone,a\0b\n"s).find("NUL"), std::string::npos);
  EXPECT_EQ(HeaderError("phone,,x\n"), "column 2 of the header has no name; every column needs one");
  EXPECT_EQ(HeaderError("phone,x,  \n"), "column 3 of the header has no name; every column needs one");
  EXPECT_EQ(HeaderError("phone,\xC3\x28\n"), "column 2 of the header is not valid UTF-8");
  std::string wide = "phone";
  for (int i = 0; i < 100000; ++i) wide += ",c" + std::to_string(i);
  EXPECT_NE(HeaderError(wide + "\n+16502530000\n").find("more than 1024 fields"), std::string::npos);
  std::string many = "a0";
  for (int i = 1; i < 30; ++i) many += ",a" + std::to_string(i);
  EXPECT_NE(HeaderError(many).find("a19, ... (30 in all)"), std::string::npos);
}

TEST(ParseLeadsCsvTest, DuplicateColumnsAreRefusedCaseInsensitively) {
  EXPECT_EQ(HeaderError("Phone,Phone\n"),
            "the header names column 'Phone' twice (columns 1 and 2); column names are case-insensitive");
  EXPECT_NE(HeaderError("PHONE,name,phone\n").find("'phone' twice (columns 1 and 3)"), std::string::npos);
  EXPECT_NE(HeaderError("phone,email, EMAIL \n").find("'EMAIL' twice (columns 2 and 3)"), std::string::npos);
  EXPECT_NE(HeaderError("phone,Account,account\n").find("'account' twice"), std::string::npos);
  EXPECT_NE(HeaderError("phone,\"phone\"\n").find("twice"), std::string::npos);
}

// One file with every reason the parser can give, each on a known line.
TEST(ParseLeadsCsvTest, EveryRejectReasonWithItsLine) {
  const std::string long_phone = "+1" + std::string(63, '5');  // 65 bytes
  const std::string data =
      "phone,first_name,last_name,email,note\n"           // 1
      "+16502530000,Ann,Lee,ann@example.com,\n"          // 2 ok
      ",Nobody,,,\n"                                      // 3 missing_phone
      "  ,Blank,,,\n"                                     // 4 missing_phone (blank)
      "+16502530001,Bob,,not-an-email,\n"                 // 5 invalid_email
      "+16502530002,Cy\n"                                 // 6 malformed_row (2 fields)
      + long_phone + ",Dee,,,\n"                          // 7 field_too_long
      "+16502530003,Eve,\xC3\x28,,\n"                     // 8 invalid_utf8
      "+16502530004,Fay,,,\"two\nlines\"\n"              // 9-10 ok
      "+16502530005,G\"uy,,,\n"                           // 11 malformed_row (stray quote)
      "+16502530006,H\0al,,,\n"s                          // 12 malformed_row (NUL)
      "+16502530007,Ivy,,,a,b,c\n"                        // 13 malformed_row (7 fields)
      "\n"                                                 // 14 empty: skipped
      "+16502530008,Jo,,,\"" + std::string(70000, 'x') + "\"\n"  // 15 field_too_long (reader limit)
      "+16502530009,Kim,,,last";                          // 16 ok, no newline
  Parsed p = Parse(data);
  ASSERT_TRUE(p.status.ok()) << p.status.ToString();
  EXPECT_EQ(p.read, 13u);
  EXPECT_EQ(p.lines, (std::vector<size_t>{2, 9, 16}));
  ASSERT_EQ(p.leads.size(), 3u);
  EXPECT_EQ(p.leads[1].custom, (std::vector<CustomField>{{"note", "two\nlines"}}));
  EXPECT_EQ(p.leads[2].custom, (std::vector<CustomField>{{"note", "last"}}));

  struct Want {
    size_t line;
    RejectReason reason;
    std::string detail_part;
  };
  const std::vector<Want> want = {
      {3, RejectReason::kMissingPhone, "the phone is empty"},
      {4, RejectReason::kMissingPhone, "the phone is empty"},
      {5, RejectReason::kInvalidEmail, "email 'not-an-email' is not a plausible address"},
      {6, RejectReason::kMalformedRow, "the row has 2 fields; the header has 5"},
      {7, RejectReason::kFieldTooLong, "column 'phone' is 65 bytes long; the limit is 64"},
      {8, RejectReason::kInvalidUtf8, "column 'last_name' is not valid UTF-8 (bad byte at offset 0)"},
      {11, RejectReason::kMalformedRow, "field 2 has a quote inside unquoted text"},
      {12, RejectReason::kMalformedRow, "field 2 contains a NUL byte"},
      {13, RejectReason::kMalformedRow, "the row has 7 fields; the header has 5"},
      {15, RejectReason::kFieldTooLong, "field 5 is longer than the limit of 65536 bytes"},
  };
  ASSERT_EQ(p.rejects.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(p.rejects[i].line, want[i].line) << i;
    EXPECT_EQ(RejectReasonName(p.rejects[i].reason), RejectReasonName(want[i].reason)) << "line " << want[i].line;
    EXPECT_NE(p.rejects[i].detail.find(want[i].detail_part), std::string::npos)
        << "line " << want[i].line << ": " << p.rejects[i].detail;
  }
}

TEST(ParseLeadsCsvTest, PerColumnLimits) {
  CsvLimits limits;
  const std::string name(257, 'n');
  const std::string email = std::string(250, 'e') + "@x.io";  // 255 bytes
  Parsed p = Parse("phone,first_name,last_name,email\n"
                   "+16502530000," + name + ",,\n"
                   "+16502530000,,," + email + "\n"
                   "+16502530000," + std::string(256, 'n') + ",,\n",
                   limits);
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.rejects.size(), 2u);
  EXPECT_EQ(p.rejects[0].reason, RejectReason::kFieldTooLong);
  EXPECT_EQ(p.rejects[0].detail, "column 'first_name' is 257 bytes long; the limit is 256");
  EXPECT_EQ(p.rejects[1].detail, "column 'email' is 255 bytes long; the limit is 254");
  EXPECT_EQ(p.lines, (std::vector<size_t>{4}));
}

TEST(ParseLeadsCsvTest, TenKilobytePhone) {
  const std::string phone(10 * 1024, '5');
  Parsed p = Parse("name,phone\nAnn," + phone + "\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.rejects.size(), 1u);
  EXPECT_EQ(p.rejects[0].line, 2u);
  EXPECT_EQ(p.rejects[0].reason, RejectReason::kFieldTooLong);
  EXPECT_EQ(p.rejects[0].detail, "column 'phone' is 10240 bytes long; the limit is 64");
}

TEST(ParseLeadsCsvTest, InvalidUtf8InAnyColumn) {
  Parsed p = Parse("phone,x\n+1650253\xff,a\n+16502530000,\xED\xA0\x80\n+16502530000,\xE2\x82\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.rejects.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(p.rejects[i].reason, RejectReason::kInvalidUtf8);
    EXPECT_EQ(p.rejects[i].line, i + 2);
  }
  EXPECT_EQ(p.rejects[0].detail, "column 'phone' is not valid UTF-8 (bad byte at offset 8)");
  EXPECT_EQ(p.rejects[1].detail, "column 'x' is not valid UTF-8 (bad byte at offset 0)");
}

TEST(ParseLeadsCsvTest, ReasonPrecedenceIsStable) {
  // Too long beats bad UTF-8 beats missing phone beats bad email.
  Parsed p = Parse("phone,email,first_name\n"
                   "," + std::string(300, 'e') + ",\xff\n"
                   ",bad,\xff\n"
                   ",bad,ok\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.rejects.size(), 3u);
  EXPECT_EQ(p.rejects[0].reason, RejectReason::kFieldTooLong);
  EXPECT_EQ(p.rejects[1].reason, RejectReason::kInvalidUtf8);
  EXPECT_EQ(p.rejects[2].reason, RejectReason::kMissingPhone);
}

TEST(ParseLeadsCsvTest, UnterminatedQuoteSwallowsTheRestOnce) {
  Parsed p = Parse("phone,note\n+16502530000,ok\n+16502530001,\"open\n+16502530002,x\n+16502530003,y\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.read, 2u);
  EXPECT_EQ(p.lines, (std::vector<size_t>{2}));
  ASSERT_EQ(p.rejects.size(), 1u);
  EXPECT_EQ(p.rejects[0].line, 3u);
  EXPECT_EQ(p.rejects[0].reason, RejectReason::kMalformedRow);
  EXPECT_NE(p.rejects[0].detail.find("never closed"), std::string::npos);
}

TEST(ParseLeadsCsvTest, RandomNoiseAfterAHeaderKeepsTheInvariants) {
  std::mt19937 rng(99);
  const char alphabet[] = {',', '"', '\n', '\r', '\0', '+', '1', '5', '@', '.', 'a', ' ', '\xC3', '\xA9', '\xff'};
  for (int round = 0; round < 2000; ++round) {
    std::string data = "phone,email,first_name,x\n";
    const size_t n = rng() % 400;
    for (size_t i = 0; i < n; ++i) {
      data.push_back(round % 4 == 0 ? static_cast<char>(rng()) : alphabet[rng() % sizeof(alphabet)]);
    }
    Parsed p = Parse(data);
    ASSERT_TRUE(p.status.ok()) << p.status.ToString();
    size_t last = 1;
    for (size_t line : p.lines) {
      ASSERT_GT(line, last);
      last = line;
    }
    last = 1;
    for (const CsvReject& r : p.rejects) {
      ASSERT_GT(r.line, last);
      last = r.line;
      ASSERT_FALSE(r.detail.empty());
    }
    for (const LeadInput& lead : p.leads) {
      ASSERT_FALSE(lead.phone.empty());
      ASSERT_TRUE(IsValidUtf8(lead.phone));
      ASSERT_TRUE(lead.email.empty() || IsPlausibleEmail(lead.email));
    }
  }
}

TEST(ParseLeadsCsvTest, ManyRows) {
  std::string data = "phone,first_name,last_name,email,account\n";
  const size_t kRows = 100000;
  data.reserve(kRows * 64);
  for (size_t i = 0; i < kRows; ++i) {
    data += "+1650253" + std::to_string(1000000 + i).substr(3) + ",First" + std::to_string(i) + ",Last,f" +
            std::to_string(i) + "@example.com,ACC" + std::to_string(i) + "\n";
  }
  Parsed p = Parse(data);
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.leads.size(), kRows);
  EXPECT_TRUE(p.rejects.empty());
  EXPECT_EQ(p.lines.back(), kRows + 1);
  EXPECT_EQ(p.leads[12345].first_name, "First12345");
  EXPECT_EQ(p.leads[12345].custom, (std::vector<CustomField>{{"account", "ACC12345"}}));
}

// ------------------------------------------------------------ ImportCsv

// Just enough of a Store for ImportCsv: campaigns by name, AddLeads with the
// real phone normalization, duplicates and a do-not-call list.
class FakeStore : public Store {
 public:
  std::set<std::string> campaigns = {"spring"};
  std::set<std::string> dnc;
  std::map<std::string, std::set<std::string>> phones;  // campaign -> E.164
  int add_calls = 0;
  AddOptions last_options;
  Timestamp last_now = 0;

  Result<Campaign> GetCampaign(std::string_view name) const override {
    if (!campaigns.count(std::string(name))) return Status::NotFound("no campaign '" + std::string(name) + "'");
    Campaign c;
    c.id = 1;
    c.name = std::string(name);
    return c;
  }
  Result<AddLeadsResult> AddLeads(const std::string& campaign, const std::vector<LeadInput>& leads,
                                  const AddOptions& options, Timestamp now) override {
    ++add_calls;
    last_options = options;
    last_now = now;
    if (!campaigns.count(campaign)) return Status::NotFound("no campaign '" + campaign + "'");
    AddLeadsResult result;
    result.ids.assign(leads.size(), 0);
    for (size_t i = 0; i < leads.size(); ++i) {
      Result<std::string> phone = NormalizePhone(leads[i].phone, options.default_region);
      if (!phone.ok()) {
        result.rejects.push_back(RowReject{i, RejectReason::kInvalidPhone, phone.status().message()});
        continue;
      }
      if (!phones[campaign].insert(*phone).second) {
        result.rejects.push_back(RowReject{i, RejectReason::kDuplicate, "phone " + *phone + " is already a lead"});
        continue;
      }
      ++result.imported;
      if (dnc.count(*phone)) ++result.do_not_call;
      result.ids[i] = result.imported;
    }
    return result;
  }

  // Not needed by ImportCsv.
  Result<Campaign> CreateCampaign(const std::string&, const CampaignSettings&, Timestamp) override { return No(); }
  Result<Campaign> UpdateCampaign(const std::string&, const CampaignSettings&, Timestamp) override { return No(); }
  std::vector<Campaign> ListCampaigns() const override { return {}; }
  Result<LeadId> AddLead(const std::string&, const LeadInput&, const AddOptions&, Timestamp) override { return No(); }
  Result<LeadInfo> GetLead(LeadId) const override { return No(); }
  Result<std::vector<LeadInfo>> FindLeadsByPhone(std::string_view, std::string_view) const override { return No(); }
  Result<std::vector<ClaimedLead>> Claim(const std::string&, size_t, const std::string&, Timestamp) override {
    return No();
  }
  Result<LeadInfo> Report(LeadId, uint32_t, LeadStatus, const std::string&, Timestamp) override { return No(); }
  Result<std::vector<LeadInfo>> Expire(Timestamp) override { return No(); }
  Result<DncResult> AddDoNotCall(std::string_view, const std::string&, std::string_view, Timestamp) override {
    return No();
  }
  Result<LeadInfo> MarkLeadDoNotCall(LeadId, const std::string&, Timestamp) override { return No(); }
  Result<bool> IsDoNotCall(std::string_view, std::string_view) const override { return No(); }
  Result<DncEntry> GetDoNotCall(std::string_view, std::string_view) const override { return No(); }
  Result<LeadInfo> Requeue(LeadId, const std::string&, Timestamp) override { return No(); }
  Result<StatusCounts> Counts(std::string_view) const override { return No(); }
  std::vector<CampaignCounts> AllCounts() const override { return {}; }
  Status ScanLog(const LogFilter&, const std::function<bool(const LoggedEvent&)>&) const override { return No(); }
  Status History(LeadId, std::vector<LoggedEvent>*) const override { return No(); }
  Digest Head() const override { return {}; }
  SeqNo LastSeq() const override { return 0; }
  Result<std::vector<CampaignCounts>> Replay(const ReplayTarget&) const override { return No(); }
  Status Verify(const VerifyOptions&, AuditReport*) const override { return No(); }
  Status Rebuild() override { return No(); }
  Status Checkpoint() override { return No(); }
  Status CatchUp() override { return No(); }
  size_t ApproximateViewMemory() const override { return 0; }

 private:
  static Status No() { return Status::NotSupported("fake"); }
};

TEST(ImportCsvTest, MergesParseAndStoreRejectsByLine) {
  FakeStore store;
  store.dnc.insert("+442070313000");
  const std::string data =
      "phone,first_name,email\n"      // 1
      "+16502530000,Ann,\n"           // 2 imported
      "+1 555 123 4567,Bad,\n"        // 3 invalid_phone (store)
      ",Nobody,\n"                    // 4 missing_phone (parse)
      "(650) 253-0000,Dup,\n"         // 5 duplicate of line 2 (store, with region US)
      "+442070313000,Dnc,\n"          // 6 imported as do_not_call
      "+16502530001,Eve,bad@\n"       // 7 invalid_email (parse)
      "\"+16502530002\",\"Multi\n"    // 8-9 imported
      "line\",\n"
      "650 253 0003,Nat,\n";          // 10 imported (national, region US)
  AddOptions options;
  options.default_region = "US";
  Result<CsvImportSummary> r = ImportCsv(store, "spring", data, options, 12345);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(store.add_calls, 1);
  EXPECT_EQ(store.last_options.default_region, "US");
  EXPECT_EQ(store.last_now, 12345);
  EXPECT_EQ(r->read, 8u);
  EXPECT_EQ(r->imported, 4u);
  EXPECT_EQ(r->do_not_call, 1u);
  EXPECT_EQ(r->rejected, 4u);
  EXPECT_EQ(r->read, r->imported + r->rejected);
  ASSERT_EQ(r->rejects.size(), 4u);
  const std::pair<size_t, RejectReason> want[] = {{3, RejectReason::kInvalidPhone},
                                                  {4, RejectReason::kMissingPhone},
                                                  {5, RejectReason::kDuplicate},
                                                  {7, RejectReason::kInvalidEmail}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r->rejects[i].line, want[i].first) << i;
    EXPECT_EQ(RejectReasonName(r->rejects[i].reason), RejectReasonName(want[i].second)) << i;
  }
  EXPECT_NE(r->rejects[0].detail.find("phone '+1 555 123 4567' is not a valid number"), std::string::npos);
}

TEST(ImportCsvTest, UnknownCampaignIsTheStoresError) {
  FakeStore store;
  Result<CsvImportSummary> r = ImportCsv(store, "autumn", "phone\n+16502530000\n");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "no campaign 'autumn'");
  // Also when no row would reach AddLeads.
  r = ImportCsv(store, "autumn", "phone\n\n");
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(store.add_calls, 0);
}

TEST(ImportCsvTest, HeaderProblemFailsTheImportAndWritesNothing) {
  FakeStore store;
  Result<CsvImportSummary> r = ImportCsv(store, "spring", "name,email\nAnn,a@b.co\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "the header has no 'phone' column (columns: name, email)");
  EXPECT_EQ(store.add_calls, 0);
}

TEST(ImportCsvTest, AllRowsRejectedByTheParser) {
  FakeStore store;
  Result<CsvImportSummary> r = ImportCsv(store, "spring", "phone,x\n,1\n\"unterminated\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(store.add_calls, 0);
  EXPECT_EQ(r->read, 2u);
  EXPECT_EQ(r->imported, 0u);
  EXPECT_EQ(r->rejected, 2u);
  ASSERT_EQ(r->rejects.size(), 2u);
  EXPECT_EQ(r->rejects[0].line, 2u);
  EXPECT_EQ(r->rejects[1].line, 3u);
}

// ------------------------------------------------------------ rejects file

TEST(FormatRejectsCsvTest, QuotesWhereNeededAndReadsBack) {
  const std::vector<CsvReject> rejects = {
      {3, RejectReason::kInvalidPhone, "phone '+1 555' is not a valid number"},
      {7, RejectReason::kMalformedRow, "the row has 2 fields, the header 5"},
      {9, RejectReason::kInvalidEmail, "email 'a\"b' is \"odd\""},
      {12, RejectReason::kMalformedRow, "two\nlines"},
      {15, RejectReason::kDuplicate, " padded "},
      {16, RejectReason::kMissingPhone, ""},
  };
  const std::string out = FormatRejectsCsv(rejects);
  EXPECT_EQ(out,
            "line,reason,detail\n"
            "3,invalid_phone,phone '+1 555' is not a valid number\n"
            "7,malformed_row,\"the row has 2 fields, the header 5\"\n"
            "9,invalid_email,\"email 'a\"\"b' is \"\"odd\"\"\"\n"
            "12,malformed_row,\"two\nlines\"\n"
            "15,duplicate,\" padded \"\n"
            "16,missing_phone,\n");
  auto recs = ReadAll(out);
  ASSERT_EQ(recs.size(), rejects.size() + 1);
  EXPECT_EQ(recs[0].fields, (Fields{"line", "reason", "detail"}));
  for (size_t i = 0; i < rejects.size(); ++i) {
    ASSERT_EQ(recs[i + 1].error, "");
    EXPECT_EQ(recs[i + 1].fields,
              (Fields{std::to_string(rejects[i].line), std::string(RejectReasonName(rejects[i].reason)),
                      rejects[i].detail}));
  }
  EXPECT_EQ(FormatRejectsCsv({}), "line,reason,detail\n");
}

// ------------------------------------------------------------ UTF-8, email

TEST(Utf8Test, Table) {
  const std::pair<std::string, bool> cases[] = {
      {"", true},
      {"plain ascii", true},
      {"h\xC3\xA9llo", true},                   // é
      {"\xE6\x97\xA5\xE6\x9C\xAC", true},       // 日本
      {"\xF0\x9F\x98\x80", true},               // U+1F600
      {"\xF4\x8F\xBF\xBF", true},               // U+10FFFF
      {"\xED\x9F\xBF", true},                   // U+D7FF, just below the surrogates
      {"\xEE\x80\x80", true},                   // U+E000, just above
      {"\xC2\x80", true},                       // smallest 2-byte
      {"\xE0\xA0\x80", true},                   // smallest 3-byte
      {"\xF0\x90\x80\x80", true},               // smallest 4-byte
      {"\xC0\xAF", false},                      // overlong '/'
      {"\xC1\xBF", false},                      // overlong
      {"\xE0\x80\xAF", false},                  // overlong 3-byte
      {"\xE0\x9F\xBF", false},                  // overlong 3-byte (U+07FF)
      {"\xF0\x80\x80\xAF", false},              // overlong 4-byte
      {"\xF0\x8F\xBF\xBF", false},              // overlong 4-byte (U+FFFF)
      {"\xED\xA0\x80", false},                  // U+D800 surrogate
      {"\xED\xBF\xBF", false},                  // U+DFFF surrogate
      {"\xF4\x90\x80\x80", false},              // U+110000
      {"\xF5\x80\x80\x80", false},              // lead byte beyond the range
      {"\xFF", false},
      {"\x80", false},                          // lone continuation
      {"\xC3", false},                          // truncated at end
      {"\xE2\x82", false},                      // truncated
      {"\xF0\x9F\x98", false},                  // truncated
      {"\xC3\x28", false},                      // bad continuation
      {"\xE2\x28\xA1", false},
      {"\xE2\x82\x28", false},
      {std::string(100, 'a') + "\xC3", false},  // past the 8-byte fast path
      {std::string(7, 'a') + "\xC3\xA9" + std::string(20, 'b'), true},
      {std::string(16, 'a') + "\x80" + std::string(16, 'a'), false},
      {"a\0b"s, true},                          // NUL is valid UTF-8 (the reader refuses it)
  };
  for (const auto& [s, valid] : cases) {
    EXPECT_EQ(IsValidUtf8(s), valid) << ::testing::PrintToString(s);
  }
}

TEST(EmailTest, Table) {
  const std::pair<const char*, bool> cases[] = {
      {"ann@example.com", true},
      {"a.b+tag@mail.example.co.uk", true},
      {"o'brien@example.ie", true},
      {"x@a-b.io", true},
      {"j\xC3\xBCrgen@example.de", true},  // UTF-8 local part
      {"123@456.78", true},
      {"", false},
      {"ann", false},
      {"ann@", false},
      {"@example.com", false},
      {"ann@example", false},       // undotted domain
      {"ann@@example.com", false},
      {"a@b@example.com", false},
      {"ann smith@example.com", false},
      {"ann@exa mple.com", false},
      {"ann@example..com", false},
      {"ann@.example.com", false},
      {"ann@example.com.", false},
      {"ann@-example.com", false},
      {"ann@example-.com", false},
      {"ann@exam_ple.com", false},
      {".ann@example.com", false},
      {"ann.@example.com", false},
      {"an..n@example.com", false},
      {"ann\t@example.com", false},
      {"<ann@example.com>", false},
      {"Ann <ann@example.com>", false},
      {"ann@ex\xC3\xA4mple.com", false},  // IDN must be punycode
  };
  for (const auto& [email, plausible] : cases) {
    EXPECT_EQ(IsPlausibleEmail(email), plausible) << email;
  }
  EXPECT_FALSE(IsPlausibleEmail(std::string(65, 'a') + "@example.com"));
  EXPECT_TRUE(IsPlausibleEmail(std::string(64, 'a') + "@example.com"));
}

}  // namespace
}  // namespace leadlog
