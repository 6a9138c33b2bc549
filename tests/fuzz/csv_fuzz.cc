// libFuzzer target for the CSV reader and the leads-file mapping.
//
// Invariants checked on every input (a violation aborts, which the fuzzer
// reports as a crash):
//  - CsvReader ends, consumes input on every record, and reports ascending
//    line numbers within the input's physical line count; a good record
//    respects the limits, a bad one carries a message and no fields.
//  - ParseLeadsCsv: read == leads + rejects, lines and rejects ascend, every
//    accepted lead has a non-empty UTF-8 phone and a plausible or empty email.
//  - FormatRejectsCsv output reads back, field for field, through CsvReader.
// Built by CI with: clang++ -std=c++20 -fsanitize=fuzzer,address -I engine/include
//   tests/fuzz/csv_fuzz.cc <engine sources or library>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "leadlog/csv.h"

namespace {

using leadlog::CsvLimits;
using leadlog::CsvReader;
using leadlog::CsvRecord;
using leadlog::CsvReject;
using leadlog::LeadInput;
using leadlog::Status;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

size_t PhysicalLines(std::string_view data) {
  size_t lines = 1;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n' || (data[i] == '\r' && (i + 1 == data.size() || data[i + 1] != '\n'))) ++lines;
  }
  return lines;
}

void FuzzReader(std::string_view data, const CsvLimits& limits) {
  CsvReader reader(data, limits);
  CsvRecord record;
  Status error;
  size_t last_line = 0;
  size_t records = 0;
  const size_t max_line = PhysicalLines(data);
  while (reader.Next(&record, &error)) {
    Check(++records <= data.size(), "a record without input");
    Check(record.line > last_line, "record lines ascend");
    Check(record.line <= max_line, "record line within the input");
    last_line = record.line;
    if (error.ok()) {
      Check(!record.fields.empty(), "a good record has a field");
      Check(record.fields.size() <= limits.max_fields, "field count limit");
      for (const std::string& f : record.fields) Check(f.size() <= limits.max_field_bytes, "field size limit");
    } else {
      Check(!error.message().empty(), "an error has a message");
      Check(record.fields.empty(), "a bad record has no fields");
    }
  }
  Check(error.ok(), "end of input is not an error");
}

void FuzzLeads(std::string_view data, const CsvLimits& limits) {
  std::vector<LeadInput> leads;
  std::vector<size_t> lines;
  std::vector<CsvReject> rejects;
  uint64_t read = 0;
  const Status s = leadlog::ParseLeadsCsv(data, &leads, &lines, &rejects, &read, limits);
  if (!s.ok()) {
    Check(s.code() == Status::Code::kInvalidArgument, "header errors are InvalidArgument");
    Check(!s.message().empty(), "header error has a message");
    return;
  }
  Check(read == leads.size() + rejects.size(), "read == accepted + rejected");
  Check(lines.size() == leads.size(), "one line per lead");
  for (size_t i = 1; i < lines.size(); ++i) Check(lines[i] > lines[i - 1], "lead lines ascend");
  for (size_t i = 1; i < rejects.size(); ++i) Check(rejects[i].line > rejects[i - 1].line, "reject lines ascend");
  for (const LeadInput& lead : leads) {
    Check(!lead.phone.empty(), "accepted lead has a phone");
    Check(lead.phone.size() <= limits.max_phone_bytes, "phone limit");
    Check(leadlog::IsValidUtf8(lead.phone) && leadlog::IsValidUtf8(lead.first_name) &&
              leadlog::IsValidUtf8(lead.last_name) && leadlog::IsValidUtf8(lead.email),
          "accepted fields are UTF-8");
    Check(lead.email.empty() || leadlog::IsPlausibleEmail(lead.email), "accepted email is plausible");
    for (const auto& f : lead.custom) Check(!f.value.empty() && leadlog::IsValidUtf8(f.value), "custom value");
  }

  // The rejects file must read back exactly.
  const std::string out = leadlog::FormatRejectsCsv(rejects);
  CsvLimits roomy;
  roomy.max_field_bytes = out.size() + 1;
  CsvReader reader(out, roomy);
  CsvRecord record;
  Status error;
  Check(reader.Next(&record, &error) && error.ok() && record.fields.size() == 3, "rejects header");
  for (const CsvReject& r : rejects) {
    Check(reader.Next(&record, &error) && error.ok(), "rejects row reads back");
    Check(record.fields.size() == 3 && record.fields[0] == std::to_string(r.line) &&
              record.fields[1] == leadlog::RejectReasonName(r.reason) && record.fields[2] == r.detail,
          "rejects row round-trips");
  }
  Check(!reader.Next(&record, &error), "no extra rejects rows");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  CsvLimits small;  // tight limits reach the limit paths with small inputs
  small.max_field_bytes = 32;
  small.max_fields = 6;
  small.max_phone_bytes = 16;
  small.max_name_bytes = 8;
  small.max_email_bytes = 24;

  FuzzReader(data, CsvLimits{});
  FuzzReader(data, small);
  FuzzLeads(data, CsvLimits{});
  // Most random inputs die at the header; give the row paths a valid one too.
  const std::string with_header = "phone,first_name,last_name,email,note\n" + std::string(data);
  FuzzLeads(with_header, CsvLimits{});
  FuzzLeads(with_header, small);
  return 0;
}
