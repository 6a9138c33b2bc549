// Reading leads from RFC 4180 CSV, and importing them into a Store.
//
// Invariants:
//  - The reader never fails as a whole because of one bad record: a malformed
//    record is reported with its line number and the reader resynchronizes at
//    the next record boundary. Only an unreadable header fails the import.
//  - Line numbers are physical, 1-based lines of the file where a record
//    starts (the header is line 1), so a rejects file points at what a person
//    sees in an editor, even when quoted fields span lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "leadlog/status.h"
#include "leadlog/store.h"
#include "leadlog/types.h"

namespace leadlog {

// Limits that keep hostile files from exhausting memory. A record beyond them
// is rejected (field_too_long / malformed_row), never truncated silently.
struct CsvLimits {
  size_t max_field_bytes = 64 * 1024;
  size_t max_fields = 1024;
  size_t max_phone_bytes = 64;
  size_t max_name_bytes = 256;
  size_t max_email_bytes = 254;
};

struct CsvRecord {
  size_t line = 0;  // physical line where the record starts
  std::vector<std::string> fields;
};

// Streams records out of an in-memory CSV document (UTF-8, optional BOM,
// CRLF or LF, quoted fields with doubled quotes and embedded line breaks).
class CsvReader {
 public:
  explicit CsvReader(std::string_view data, CsvLimits limits = {});
  // Next record into *record. Returns false at the end of input. When the
  // record is malformed (unterminated quote, stray quote, too many fields, a
  // field too long, NUL byte), *error is set (record->line is still right) and
  // the reader has already skipped to the next record.
  bool Next(CsvRecord* record, Status* error);

 private:
  std::string_view data_;
  size_t pos_ = 0;
  size_t line_ = 1;
  CsvLimits limits_;
};

struct CsvReject {
  size_t line = 0;
  RejectReason reason = RejectReason::kMalformedRow;
  std::string detail;
};

struct CsvImportSummary {
  uint64_t read = 0;  // data records (not the header, not physical lines)
  uint64_t imported = 0;
  uint64_t rejected = 0;
  uint64_t do_not_call = 0;  // imported directly as do_not_call
  std::vector<CsvReject> rejects;  // ordered by line
};

// Parses the header and the records into lead inputs. Columns: phone
// (required), first_name, last_name, email (case-insensitive names, trimmed);
// every other column is a custom field. Rows that cannot become a LeadInput
// (malformed, too long, invalid UTF-8, missing phone, bad email) go to rejects;
// phone validity and duplicates are judged by Store::AddLeads.
// Fails (InvalidArgument) only when the header is missing, malformed, lacks a
// phone column, or names a column twice.
Status ParseLeadsCsv(std::string_view data, std::vector<LeadInput>* leads, std::vector<size_t>* lines,
                     std::vector<CsvReject>* rejects, uint64_t* records_read, const CsvLimits& limits = {});

// ParseLeadsCsv + Store::AddLeads in one atomic batch; rejects merged by line.
Result<CsvImportSummary> ImportCsv(Store& store, const std::string& campaign, std::string_view data,
                                   const AddOptions& options = {}, Timestamp now = kClockNow);

// Writes rejects as CSV: line,reason,detail (with a header row).
std::string FormatRejectsCsv(const std::vector<CsvReject>& rejects);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view s);
// A pragmatic address check: one '@', non-empty local part, a dotted domain of
// letters, digits and hyphens, no spaces. Empty is not valid.
bool IsPlausibleEmail(std::string_view email);

}  // namespace leadlog
