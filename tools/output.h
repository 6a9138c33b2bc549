// How the leadlog tool shows things: JSON objects (one per line), aligned
// tables, readable times, and redaction of personal data.
//
// Invariants:
//  - With --json, stdout carries exactly one JSON object per line and nothing
//    else; every message for people goes to stderr or is suppressed.
//  - A lead object always has lead, campaign, phone, status, attempts,
//    first_name, last_name, email and custom; an event object always has seq,
//    ts (RFC 3339) and type, and lead when the event concerns one lead.
//  - Redaction happens here, at the edge, never in what the engine returns,
//    so no output path can forget it once a Redactor is on.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "leadlog/leadlog.h"

namespace leadlog::tool {

// Keys keep the order they are written in, so a lead reads lead, campaign,
// phone, status... as DESIGN.md lists them, not alphabetically.
using Json = nlohmann::ordered_json;

// Masks personal data: phone numbers keep their country code and last two
// digits (+1********67); names, emails and custom values become "***".
class Redactor {
 public:
  explicit Redactor(bool on) : on_(on) {}
  bool on() const { return on_; }
  std::string Phone(std::string_view phone) const;
  std::string Text(std::string_view text) const;  // "" stays "" (nothing to hide)

  // Exposed for tests of the masking rule itself.
  static std::string MaskPhone(std::string_view e164);

 private:
  bool on_;
};

// ---- JSON ----
Json TimeJson(Timestamp ts);  // RFC 3339, or null for 0
Json CustomJson(const std::vector<CustomField>& custom, const Redactor& redact);
Json CampaignJson(const Campaign& campaign);
Json LeadJson(const LeadInfo& lead, const Redactor& redact);
Json ClaimJson(const ClaimedLead& claim, const std::string& campaign);
Json CountsJson(const std::string& campaign, const StatusCounts& counts);
Json EventJson(const LoggedEvent& event, const CampaignNames& names, const Redactor& redact);
// Prints one object on one line of stdout.
void PrintJson(const Json& object);

// ---- human output ----
// "2026-12-04 10:00:00 UTC"; "-" for 0.
std::string HumanTime(Timestamp ts);
// "45s", "15m", "1h 30m", "2d 4h"; "never" for kNever.
std::string HumanDuration(Duration d);
// "in 1h", "3m ago", "now".
std::string Relative(Timestamp ts, Timestamp now);
// Control characters (a line break inside a quoted CSV field) would break a
// table apart; they are shown escaped.
std::string Printable(std::string_view text);
std::string FullName(const LeadProfile& profile, const Redactor& redact);
std::string CustomText(const std::vector<CustomField>& custom, const Redactor& redact);
// "retry no_answer after 1h, voicemail after 4h, failed never"
std::string RetryText(const CampaignSettings& settings);
// One line that says what an event did, for history and dump tables.
std::string EventDetail(const LoggedEvent& event, const CampaignNames& names, const Redactor& redact);
// "Lead 12 is no_answer after attempt 2; the next call is due ... (in 1h)."
std::string LeadStateSentence(const LeadInfo& lead, Timestamp now);
// "1 lead", "2 leads".
std::string Plural(uint64_t n, std::string_view one, std::string_view many);

// Columns are sized to their widest cell (counted in UTF-8 code points);
// numeric columns are right-aligned. All-empty headers print no header row
// (a key/value listing).
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  void RightAlign(size_t column);
  void AddRow(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  void Print(FILE* out = stdout, std::string_view indent = "") const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

size_t DisplayWidth(std::string_view utf8);
// Pads to `width` display columns, on the right (or the left when right_align).
std::string Pad(std::string_view text, size_t width, bool right_align = false);

// A table of counts, one row per campaign plus a total row when several.
void PrintCountsTable(const std::vector<CampaignCounts>& counts);

}  // namespace leadlog::tool
