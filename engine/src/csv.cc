// CSV import: an RFC 4180 reader that survives any byte sequence, the
// mapping of a leads file onto LeadInputs, and the import into a Store.
//
// Invariants:
//  - The reader consumes at least one byte per record it returns, so it ends
//    on any input; it never throws and never holds more than max_fields x
//    max_field_bytes of one record in memory.
//  - A record's line is the physical 1-based line it starts on. CRLF, LF and a
//    lone CR each end one line, inside quotes too, so numbers match an editor.
//  - After a malformed record the reader is positioned at the next record
//    boundary (a line break outside quotes); an unterminated quote swallows
//    the rest of the input and is reported once.
//  - ParseLeadsCsv: records_read == leads.size() + rejects.size(), lines[i] is
//    the line of leads[i], lines ascend, rejects ascend by line.
//  - ImportCsv: read == imported + rejected; nothing valid is dropped.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "leadlog/csv.h"

namespace leadlog {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

enum class CsvError : uint8_t { kNone, kMalformed, kFieldTooLong };

// Bytes that end a run of plain field content: checked per byte in the hot
// loop, so a table lookup instead of five comparisons.
struct SpecialTable {
  bool unquoted[256] = {};  // , CR LF " NUL
  bool quoted[256] = {};    // CR LF " NUL
  constexpr SpecialTable() {
    for (unsigned char c : {',', '\r', '\n', '"', '\0'}) unquoted[c] = true;
    for (unsigned char c : {'\r', '\n', '"', '\0'}) quoted[c] = true;
  }
};
constexpr SpecialTable kSpecial;

size_t SkipBom(std::string_view data) { return data.substr(0, kBom.size()) == kBom ? kBom.size() : 0; }

// The record scanner behind CsvReader::Next and ParseLeadsCsv (which needs
// the kind of error, not just a Status). State lives in *pos and *line.
class Scanner {
 public:
  Scanner(std::string_view data, const CsvLimits& limits) : d_(data.data()), n_(data.size()), limits_(limits) {}

  // Returns false at the end of input. Otherwise fills rec (fields cleared on
  // error), sets *kind and, on error, *message.
  bool Read(size_t* pos, size_t* line, CsvRecord* rec, CsvError* kind, std::string* message) {
    p_ = *pos;
    ln_ = *line;
    kind_ = CsvError::kNone;
    message_ = message;
    // Empty lines between records are not records.
    while (p_ < n_ && (d_[p_] == '\n' || d_[p_] == '\r')) EatLineBreak();
    if (p_ >= n_) {
      *pos = p_;
      *line = ln_;
      return false;
    }
    rec->line = ln_;
    size_t stored = 0;  // fields written into rec->fields so far
    size_t count = 0;   // fields seen, stored or not
    for (;;) {
      ++count;
      std::string* out = nullptr;
      if (count > limits_.max_fields) {
        Fail(CsvError::kMalformed, fmt::format("the record has more than {} fields", limits_.max_fields));
      } else if (kind_ == CsvError::kNone) {
        if (stored == rec->fields.size()) rec->fields.emplace_back();
        out = &rec->fields[stored++];
        out->clear();
      }
      if (p_ < n_ && d_[p_] == '"') {
        if (!ReadQuoted(out, count)) break;  // unterminated: at end of input
      } else {
        ReadUnquoted(out, count, /*after_quote=*/false);
      }
      if (p_ >= n_) break;
      if (d_[p_] == ',') {
        ++p_;
        continue;
      }
      EatLineBreak();  // ReadQuoted/ReadUnquoted stop only at ',', a line break or the end
      break;
    }
    rec->fields.resize(kind_ == CsvError::kNone ? stored : 0);
    *kind = kind_;
    *pos = p_;
    *line = ln_;
    return true;
  }

 private:
  void EatLineBreak() {
    if (d_[p_] == '\r' && p_ + 1 < n_ && d_[p_ + 1] == '\n') ++p_;
    ++p_;
    ++ln_;
  }

  // The first problem of a record is the one reported; later ones would be
  // consequences of it or noise.
  void Fail(CsvError kind, std::string message) {
    if (kind_ != CsvError::kNone) return;
    kind_ = kind;
    *message_ = std::move(message);
  }

  // Appends [from, to) to *out unless that passes the field limit; then the
  // field is dropped (never truncated) and the record fails.
  void Append(std::string*& out, size_t field, const char* from, size_t len) {
    if (out == nullptr || len == 0) return;
    if (out->size() + len > limits_.max_field_bytes) {
      out->clear();
      out = nullptr;
      Fail(CsvError::kFieldTooLong,
           fmt::format("field {} is longer than the limit of {} bytes", field, limits_.max_field_bytes));
      return;
    }
    out->append(from, len);
  }

  // At an opening quote. Returns false when the quote is never closed.
  bool ReadQuoted(std::string*& out, size_t field) {
    const size_t open_line = ln_;
    ++p_;
    for (;;) {
      const size_t start = p_;
      while (p_ < n_ && !kSpecial.quoted[static_cast<unsigned char>(d_[p_])]) ++p_;
      Append(out, field, d_ + start, p_ - start);
      if (p_ >= n_) {
        Fail(CsvError::kMalformed,
             fmt::format("the quote that opens field {} on line {} is never closed; the rest of the input "
                         "(through line {}) was read as part of it",
                         field, open_line, ln_));
        return false;
      }
      const char c = d_[p_];
      if (c == '"') {
        if (p_ + 1 < n_ && d_[p_ + 1] == '"') {
          Append(out, field, d_ + p_, 1);
          p_ += 2;
          continue;
        }
        ++p_;
        break;
      }
      if (c == '\0') {
        Fail(CsvError::kMalformed, fmt::format("field {} contains a NUL byte", field));
        ++p_;
        continue;
      }
      // A line break inside quotes is content, and still a physical line.
      const size_t br = p_;
      EatLineBreak();
      Append(out, field, d_ + br, p_ - br);
    }
    if (p_ < n_ && d_[p_] != ',' && d_[p_] != '\n' && d_[p_] != '\r') {
      Fail(CsvError::kMalformed,
           fmt::format("field {} has text after its closing quote (a quote inside a field must be doubled)", field));
      // Skip to the end of the field, reading the rest as unquoted text.
      ReadUnquoted(out, field, /*after_quote=*/true);
    }
    return true;
  }

  void ReadUnquoted(std::string*& out, size_t field, bool after_quote) {
    for (;;) {
      const size_t start = p_;
      while (p_ < n_ && !kSpecial.unquoted[static_cast<unsigned char>(d_[p_])]) ++p_;
      Append(out, field, d_ + start, p_ - start);
      if (p_ >= n_) return;
      const char c = d_[p_];
      if (c == ',' || c == '\n' || c == '\r') return;
      if (c == '"') {
        if (!after_quote) {
          Fail(CsvError::kMalformed,
               fmt::format("field {} has a quote inside unquoted text (quote the whole field and double the "
                           "quote)",
                           field));
        }
      } else {
        Fail(CsvError::kMalformed, fmt::format("field {} contains a NUL byte", field));
      }
      Append(out, field, d_ + p_, 1);
      ++p_;
    }
  }

  const char* d_;
  size_t n_;
  const CsvLimits& limits_;
  size_t p_ = 0;
  size_t ln_ = 1;
  CsvError kind_ = CsvError::kNone;
  std::string* message_ = nullptr;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A value quoted for a human message: bounded, cut on a UTF-8 boundary,
// control bytes replaced so a rejects line stays one line. Callers pass only
// valid UTF-8.
std::string Shown(std::string_view s) {
  constexpr size_t kMax = 40;
  size_t n = s.size();
  if (n > kMax) {
    n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::string out = "'";
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  out.push_back('\'');
  if (n < s.size()) out += fmt::format(" (cut; {} bytes)", s.size());
  return out;
}

// Offset of the first byte that breaks UTF-8, or npos. Rejects overlongs,
// surrogates, code points above U+10FFFF and truncated sequences.
size_t Utf8ErrorOffset(std::string_view s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Most of a leads file is ASCII: skip it eight bytes at a time.
    if (n - i >= 8) {
      uint64_t w;
      std::memcpy(&w, b + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;  // continuation byte, C0/C1 overlong lead, or F5..FF
    }
    if (n - i <= need) return i;
    if (b[i + 1] < lo || b[i + 1] > hi) return i;
    for (size_t k = 2; k <= need; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) return i;
    }
    i += need + 1;
  }
  return std::string_view::npos;
}

enum class Column : uint8_t { kPhone, kFirstName, kLastName, kEmail, kCustom };

struct HeaderColumn {
  Column role = Column::kCustom;
  std::string name;   // as written (trimmed); the custom field key
  std::string shown;  // quoted and bounded, for reject details
  size_t limit = 0;  // byte limit for this column's values
};

Status ParseHeader(const CsvRecord& header, const CsvLimits& limits, std::vector<HeaderColumn>* columns,
                   size_t* phone_index) {
  std::unordered_map<std::string, size_t> seen;  // lowercase name -> 1-based column
  columns->clear();
  bool have_phone = false;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string_view name = Trim(header.fields[i]);
    // A second BOM (or one inside a quoted first name) must not hide 'phone'.
    while (name.substr(0, kBom.size()) == kBom) name = Trim(name.substr(kBom.size()));
    if (Utf8ErrorOffset(name) != std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("column {} of the header is not valid UTF-8", i + 1));
    }
    if (name.empty()) {
      return Status::InvalidArgument(
          fmt::format("column {} of the header has no name; every column needs one", i + 1));
    }
    std::string lower = Lower(name);
    auto [it, inserted] = seen.emplace(lower, i + 1);
    if (!inserted) {
      return Status::InvalidArgument(
          fmt::format("the header names column {} twice (columns {} and {}); column names are case-insensitive",
                      Shown(name), it->second, i + 1));
    }
    HeaderColumn col;
    col.name = std::string(name);
    col.shown = Shown(name);
    if (lower == "phone") {
      col.role = Column::kPhone;
      col.limit = limits.max_phone_bytes;
      *phone_index = i;
      have_phone = true;
    } else if (lower == "first_name") {
      col.role = Column::kFirstName;
      col.limit = limits.max_name_bytes;
    } else if (lower == "last_name") {
      col.role = Column::kLastName;
      col.limit = limits.max_name_bytes;
    } else if (lower == "email") {
      col.role = Column::kEmail;
      col.limit = limits.max_email_bytes;
    } else {
      col.limit = limits.max_field_bytes;
    }
    columns->push_back(std::move(col));
  }
  if (!have_phone) {
    std::string names;
    for (size_t i = 0; i < columns->size() && i < 20; ++i) {
      if (i > 0) names += ", ";
      names += (*columns)[i].name;
    }
    if (columns->size() > 20) names += fmt::format(", ... ({} in all)", columns->size());
    return Status::InvalidArgument(fmt::format("the header has no 'phone' column (columns: {})", names));
  }
  return Status::OK();
}

}  // namespace

CsvReader::CsvReader(std::string_view data, CsvLimits limits)
    : data_(data), pos_(SkipBom(data)), limits_(limits) {}

bool CsvReader::Next(CsvRecord* record, Status* error) {
  Scanner scanner(data_, limits_);
  CsvError kind = CsvError::kNone;
  std::string message;
  if (!scanner.Read(&pos_, &line_, record, &kind, &message)) {
    record->fields.clear();
    *error = Status::OK();
    return false;
  }
  *error = kind == CsvError::kNone ? Status::OK() : Status::InvalidArgument(std::move(message));
  return true;
}

Status ParseLeadsCsv(std::string_view data, std::vector<LeadInput>* leads, std::vector<size_t>* lines,
                     std::vector<CsvReject>* rejects, uint64_t* records_read, const CsvLimits& limits) {
  leads->clear();
  lines->clear();
  rejects->clear();
  *records_read = 0;

  Scanner scanner(data, limits);
  size_t pos = SkipBom(data);
  size_t line = 1;
  CsvRecord rec;
  CsvError kind = CsvError::kNone;
  std::string message;
  if (!scanner.Read(&pos, &line, &rec, &kind, &message)) {
    return Status::InvalidArgument("the file is empty; it needs a header row naming its columns, with 'phone' among them");
  }
  if (kind != CsvError::kNone) {
    return Status::InvalidArgument(fmt::format("the header (line {}) is malformed: {}", rec.line, message));
  }
  std::vector<HeaderColumn> columns;
  size_t phone_index = 0;
  Status s = ParseHeader(rec, limits, &columns, &phone_index);
  if (!s.ok()) return s;
  const size_t ncols = columns.size();
  const size_t ncustom = static_cast<size_t>(std::count_if(
      columns.begin(), columns.end(), [](const HeaderColumn& c) { return c.role == Column::kCustom; }));

  // One lead per line is the common shape; reserving avoids regrowing a
  // vector of a million LeadInputs several times.
  const size_t estimate = static_cast<size_t>(std::count(data.begin() + static_cast<ptrdiff_t>(pos), data.end(), '\n'));
  leads->reserve(estimate + 1);
  lines->reserve(estimate + 1);

  auto reject = [&](RejectReason reason, std::string detail) {
    rejects->push_back(CsvReject{rec.line, reason, std::move(detail)});
  };

  while (scanner.Read(&pos, &line, &rec, &kind, &message)) {
    ++*records_read;
    if (kind != CsvError::kNone) {
      reject(kind == CsvError::kFieldTooLong ? RejectReason::kFieldTooLong : RejectReason::kMalformedRow,
             std::move(message));
      continue;
    }
    if (rec.fields.size() != ncols) {
      reject(RejectReason::kMalformedRow,
             fmt::format("the row has {} field{}; the header has {}", rec.fields.size(),
                         rec.fields.size() == 1 ? "" : "s", ncols));
      continue;
    }
    // Checks go by reason first, then by column, so a row with several
    // problems always reports the same one.
    bool bad = false;
    for (size_t i = 0; i < ncols && !bad; ++i) {
      if (rec.fields[i].size() > columns[i].limit) {
        reject(RejectReason::kFieldTooLong, fmt::format("column {} is {} bytes long; the limit is {}",
                                                        columns[i].shown, rec.fields[i].size(), columns[i].limit));
        bad = true;
      }
    }
    for (size_t i = 0; i < ncols && !bad; ++i) {
      const size_t at = Utf8ErrorOffset(rec.fields[i]);
      if (at != std::string_view::npos) {
        reject(RejectReason::kInvalidUtf8,
               fmt::format("column {} is not valid UTF-8 (bad byte at offset {})", columns[i].shown, at));
        bad = true;
      }
    }
    if (bad) continue;
    const std::string_view phone = Trim(rec.fields[phone_index]);
    if (phone.empty()) {
      reject(RejectReason::kMissingPhone, "the phone is empty");
      continue;
    }
    LeadInput lead;
    lead.phone.assign(phone);
    if (ncustom > 0) lead.custom.reserve(ncustom);
    for (size_t i = 0; i < ncols && !bad; ++i) {
      const std::string& value = rec.fields[i];
      switch (columns[i].role) {
        case Column::kPhone:
          break;
        case Column::kFirstName:
          lead.first_name.assign(Trim(value));
          break;
        case Column::kLastName:
          lead.last_name.assign(Trim(value));
          break;
        case Column::kEmail:
          lead.email.assign(Trim(value));
          if (!lead.email.empty() && !IsPlausibleEmail(lead.email)) {
            reject(RejectReason::kInvalidEmail, fmt::format("email {} is not a plausible address", Shown(lead.email)));
            bad = true;
          }
          break;
        case Column::kCustom:
          // Custom values are kept exactly as written; an empty cell is no field.
          if (!value.empty()) lead.custom.push_back(CustomField{columns[i].name, value});
          break;
      }
    }
    if (bad) continue;
    leads->push_back(std::move(lead));
    lines->push_back(rec.line);
  }
  return Status::OK();
}

Result<CsvImportSummary> ImportCsv(Store& store, const std::string& campaign, std::string_view data,
                                   const AddOptions& options, Timestamp now) {
  // Ask first, so an unknown campaign is reported as such even for a file
  // whose rows are all rejected (AddLeads would then not be called).
  Result<Campaign> found = store.GetCampaign(campaign);
  if (!found.ok()) return found.status();

  std::vector<LeadInput> leads;
  std::vector<size_t> lines;
  CsvImportSummary summary;
  Status s = ParseLeadsCsv(data, &leads, &lines, &summary.rejects, &summary.read);
  if (!s.ok()) return s;

  if (!leads.empty()) {
    Result<AddLeadsResult> added = store.AddLeads(campaign, leads, options, now);
    if (!added.ok()) return added.status();
    summary.imported = added->imported;
    summary.do_not_call = added->do_not_call;
    const size_t parse_rejects = summary.rejects.size();
    for (RowReject& r : added->rejects) {
      // A row index out of range would be an engine bug; keep the reject
      // (counts must still add up) but with no line to point at.
      const size_t line = r.row < lines.size() ? lines[r.row] : 0;
      summary.rejects.push_back(CsvReject{line, r.reason, std::move(r.detail)});
    }
    // Both halves are sorted by line already; merge them.
    std::inplace_merge(summary.rejects.begin(), summary.rejects.begin() + static_cast<ptrdiff_t>(parse_rejects),
                       summary.rejects.end(),
                       [](const CsvReject& a, const CsvReject& b) { return a.line < b.line; });
  }
  summary.rejected = summary.rejects.size();
  // Holds as long as AddLeads accounts for every row it was given.
  assert(summary.read == summary.imported + summary.rejected);
  return summary;
}

std::string FormatRejectsCsv(const std::vector<CsvReject>& rejects) {
  std::string out = "line,reason,detail\n";
  for (const CsvReject& r : rejects) {
    out += fmt::format("{},{},", r.line, RejectReasonName(r.reason));
    const std::string& d = r.detail;
    const bool quote = d.find_first_of(",\"\r\n") != std::string::npos || (!d.empty() && (IsSpace(d.front()) || IsSpace(d.back())));
    if (quote) {
      out.push_back('"');
      for (char c : d) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
      }
      out.push_back('"');
    } else {
      out += d;
    }
    out.push_back('\n');
  }
  return out;
}

bool IsValidUtf8(std::string_view s) { return Utf8ErrorOffset(s) == std::string_view::npos; }

bool IsPlausibleEmail(std::string_view email) {
  const size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) return false;
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  // Local part: 1..64 bytes of dot-atom-ish text; UTF-8 allowed (RFC 6531),
  // no spaces or control bytes, no empty dot-separated pieces.
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  for (char ch : local) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
        c == '<' || c == '>' || c == '[' || c == '\\' || c == ']') {
      return false;
    }
  }
  if (!IsValidUtf8(local)) return false;
  // Domain: at least two labels of letters, digits and hyphens, a label
  // neither empty nor starting or ending with a hyphen (RFC 1035).
  if (domain.empty() || domain.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  for (;;) {
    size_t dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

}  // namespace leadlog
