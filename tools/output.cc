// JSON objects, tables, times and redaction for the leadlog tool.
//
// Invariant: JSON is dumped with invalid UTF-8 replaced rather than thrown
// on, so one odd byte in a custom field can never cut a dump short.
#include "output.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace leadlog::tool {

namespace {

// ITU-T E.164 country calling codes are prefix-free: 1 and 7 are one digit,
// these are two, and every other code is three. Knowing the length is all
// the masking needs, so the tool does not pull in libphonenumber for it.
bool IsTwoDigitCountryCode(int cc) {
  static constexpr int kTwo[] = {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
                                 55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98};
  for (int c : kTwo) {
    if (c == cc) return true;
  }
  return false;
}

size_t CountryCodeLength(std::string_view digits) {
  if (digits.empty()) return 0;
  if (digits[0] == '1' || digits[0] == '7') return 1;
  if (digits.size() >= 2 && IsTwoDigitCountryCode((digits[0] - '0') * 10 + (digits[1] - '0'))) return 2;
  return std::min<size_t>(3, digits.size());
}

std::string DurationText(Duration d) { return d == kNever ? "never" : HumanDuration(d); }

}  // namespace

// ---- redaction ----

std::string Redactor::MaskPhone(std::string_view e164) {
  if (e164.size() < 2 || e164[0] != '+' ||
      e164.substr(1).find_first_not_of("0123456789") != std::string_view::npos) {
    return "***";  // not E.164: nothing can be kept safely
  }
  std::string_view digits = e164.substr(1);
  size_t cc = CountryCodeLength(digits);
  size_t national = digits.size() - cc;
  size_t keep = national > 2 ? 2 : 0;
  std::string out = "+";
  out.append(digits.substr(0, cc));
  out.append(national - keep, '*');
  out.append(digits.substr(digits.size() - keep));
  return out;
}

std::string Redactor::Phone(std::string_view phone) const {
  if (!on_ || phone.empty()) return std::string(phone);
  return MaskPhone(phone);
}

std::string Redactor::Text(std::string_view text) const {
  if (!on_ || text.empty()) return std::string(text);
  return "***";
}

// ---- JSON ----

Json TimeJson(Timestamp ts) {
  if (ts == 0) return nullptr;
  return FormatTime(ts);
}

namespace {

std::string DurationJson(Duration d) { return d == kNever ? "never" : FormatDuration(d); }

Json SettingsJson(const CampaignSettings& s) {
  return {{"max_attempts", s.max_attempts},
          {"retry",
           {{"no_answer", DurationJson(s.retry_no_answer)},
            {"voicemail", DurationJson(s.retry_voicemail)},
            {"failed", DurationJson(s.retry_failed)}}},
          {"lease", DurationJson(s.lease)}};
}

void AddProfile(Json& j, const LeadProfile& p, const Redactor& redact) {
  j["phone"] = redact.Phone(p.phone);
  j["first_name"] = redact.Text(p.first_name);
  j["last_name"] = redact.Text(p.last_name);
  j["email"] = redact.Text(p.email);
  j["custom"] = CustomJson(p.custom, redact);
}

}  // namespace

Json CustomJson(const std::vector<CustomField>& custom, const Redactor& redact) {
  Json j = Json::object();
  for (const CustomField& f : custom) j[f.key] = redact.on() ? std::string("***") : f.value;
  return j;
}

Json CampaignJson(const Campaign& c) {
  Json j = {{"campaign", c.name}, {"id", c.id}};
  j.update(SettingsJson(c.settings));
  j["created"] = TimeJson(c.created);
  return j;
}

Json LeadJson(const LeadInfo& lead, const Redactor& redact) {
  Json j = {{"lead", lead.id},
            {"campaign", lead.campaign_name},
            {"phone", redact.Phone(lead.profile.phone)},
            {"status", std::string(LeadStatusName(lead.status))},
            {"attempts", lead.attempts},
            {"attempts_used", lead.attempts_used}};
  AddProfile(j, lead.profile, redact);  // phone again: same value, same place
  j["added"] = TimeJson(lead.added);
  j["due"] = TimeJson(lead.due);
  j["lease_until"] = TimeJson(lead.lease_until);
  return j;
}

Json ClaimJson(const ClaimedLead& claim, const std::string& campaign) {
  Json j = {{"lead", claim.lead}, {"campaign", campaign}, {"attempt", claim.attempt}};
  AddProfile(j, claim.profile, Redactor(false));
  j["lease_until"] = TimeJson(claim.lease_until);
  return j;
}

Json CountsJson(const std::string& campaign, const StatusCounts& counts) {
  Json j = {{"campaign", campaign}};
  for (int i = 0; i < kNumStatuses; ++i) {
    j[std::string(LeadStatusName(static_cast<LeadStatus>(i)))] = counts.by_status[i];
  }
  j["total"] = counts.total;
  return j;
}

Json EventJson(const LoggedEvent& e, const CampaignNames& names, const Redactor& redact) {
  Json j = {{"seq", e.seq}, {"ts", FormatTime(e.ts)}, {"type", std::string(EventTypeName(e.type))}};
  if (e.lead != 0) j["lead"] = e.lead;
  std::string campaign = !e.campaign_name.empty() ? e.campaign_name : names.Name(e.campaign);
  if (!campaign.empty()) j["campaign"] = campaign;
  switch (e.type) {
    case EventType::kCampaignCreated:
    case EventType::kCampaignUpdated:
      j.update(SettingsJson(e.settings));
      break;
    case EventType::kLeadAdded:
      j["status"] = std::string(LeadStatusName(e.status));
      AddProfile(j, e.profile, redact);
      break;
    case EventType::kLeadClaimed:
      j["attempt"] = e.attempt;
      j["lease_until"] = TimeJson(e.lease_until);
      j["dialer"] = e.dialer;
      break;
    case EventType::kOutcomeReported:
      j["attempt"] = e.attempt;
      j["outcome"] = std::string(LeadStatusName(e.status));
      j["reason"] = e.reason;
      break;
    case EventType::kLeaseExpired:
      j["attempt"] = e.attempt;
      j["outcome"] = "no_answer";
      j["reason"] = e.reason.empty() ? std::string("lease_expired") : e.reason;
      break;
    case EventType::kPhoneMarkedDoNotCall:
      j["phone"] = redact.Phone(e.profile.phone);
      j["reason"] = e.reason;
      break;
    case EventType::kLeadMarkedDoNotCall:
    case EventType::kLeadRequeued:
      j["reason"] = e.reason;
      break;
  }
  return j;
}

void PrintJson(const Json& object) {
  std::string line = object.dump(-1, ' ', false, Json::error_handler_t::replace);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
}

// ---- human output ----

std::string HumanTime(Timestamp ts) {
  if (ts == 0) return "-";
  // Floor division: times before 1970 must not round toward zero.
  std::time_t secs = static_cast<std::time_t>(ts >= 0 ? ts / kSecond : -((-ts + kSecond - 1) / kSecond));
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return FormatTime(ts);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string HumanDuration(Duration d) {
  if (d == kNever) return "never";
  if (d < 0) return fmt::format("-{}", HumanDuration(-d));
  if (d == 0) return "0s";
  if (d < kSecond) return "<1s";
  int64_t s = d / kSecond;
  int64_t days = s / 86400, hours = s % 86400 / 3600, mins = s % 3600 / 60, secs = s % 60;
  auto two = [](int64_t a, std::string_view ua, int64_t b, std::string_view ub) {
    return b == 0 ? fmt::format("{}{}", a, ua) : fmt::format("{}{} {}{}", a, ua, b, ub);
  };
  if (days > 0) return two(days, "d", hours, "h");
  if (hours > 0) return two(hours, "h", mins, "m");
  if (mins > 0) return two(mins, "m", secs, "s");
  return fmt::format("{}s", secs);
}

std::string Relative(Timestamp ts, Timestamp now) {
  Duration diff = ts - now;
  if (diff > -kSecond && diff < kSecond) return "now";
  return diff > 0 ? "in " + HumanDuration(diff) : HumanDuration(-diff) + " ago";
}

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string FullName(const LeadProfile& p, const Redactor& redact) {
  std::string first = redact.Text(p.first_name), last = redact.Text(p.last_name);
  if (first.empty()) return Printable(last);
  if (last.empty()) return Printable(first);
  return Printable(first + " " + last);
}

std::string CustomText(const std::vector<CustomField>& custom, const Redactor& redact) {
  std::string out;
  for (const CustomField& f : custom) {
    if (!out.empty()) out += ", ";
    out += Printable(f.key) + "=" + Printable(redact.on() ? "***" : f.value);
  }
  return out;
}

std::string RetryText(const CampaignSettings& s) {
  auto one = [](std::string_view outcome, Duration d) {
    return d == kNever ? fmt::format("{} never", outcome) : fmt::format("{} after {}", outcome, HumanDuration(d));
  };
  return fmt::format("retry {}, {}, {}", one("no_answer", s.retry_no_answer), one("voicemail", s.retry_voicemail),
                     one("failed", s.retry_failed));
}

std::string EventDetail(const LoggedEvent& e, const CampaignNames& names, const Redactor& redact) {
  std::string campaign = !e.campaign_name.empty() ? e.campaign_name : names.Name(e.campaign);
  auto with_reason = [&](std::string text) {
    return e.reason.empty() ? text : fmt::format("{} ({})", text, Printable(e.reason));
  };
  switch (e.type) {
    case EventType::kCampaignCreated:
    case EventType::kCampaignUpdated:
      return fmt::format("campaign {} {}: up to {} attempts, {}, lease {}", Printable(campaign),
                         e.type == EventType::kCampaignCreated ? "created" : "settings changed", e.settings.max_attempts,
                         RetryText(e.settings), DurationText(e.settings.lease));
    case EventType::kLeadAdded: {
      std::string who = redact.Phone(e.profile.phone);
      std::string name = FullName(e.profile, redact);
      if (!name.empty()) who += ", " + name;
      if (!e.profile.email.empty()) who += ", " + Printable(redact.Text(e.profile.email));
      return fmt::format("added to {} as {}: {}", Printable(campaign), LeadStatusName(e.status), who);
    }
    case EventType::kLeadClaimed:
      return fmt::format("attempt {} claimed by dialer {}, lease until {}", e.attempt,
                         e.dialer.empty() ? "-" : Printable(e.dialer), HumanTime(e.lease_until));
    case EventType::kOutcomeReported:
      return with_reason(fmt::format("attempt {} ended: {}", e.attempt, LeadStatusName(e.status)));
    case EventType::kLeaseExpired:
      return fmt::format("attempt {} lease ran out with no outcome reported: no_answer (lease_expired)", e.attempt);
    case EventType::kPhoneMarkedDoNotCall:
      return with_reason(fmt::format("phone {} put on the do-not-call list", redact.Phone(e.profile.phone)));
    case EventType::kLeadMarkedDoNotCall:
      return with_reason("marked do_not_call");
    case EventType::kLeadRequeued:
      return with_reason("requeued by an operator with a fresh attempt budget");
  }
  return "";
}

std::string LeadStateSentence(const LeadInfo& lead, Timestamp now) {
  std::string head = fmt::format("Lead {} ({}) is {}", lead.id, Printable(lead.campaign_name), LeadStatusName(lead.status));
  switch (lead.status) {
    case LeadStatus::kDoNotCall:
      return head + "; it will never be called.";
    case LeadStatus::kCalling:
      return fmt::format("{} (attempt {}); the lease runs until {} ({}).", head, lead.attempts,
                         HumanTime(lead.lease_until), Relative(lead.lease_until, now));
    case LeadStatus::kPending:
      return fmt::format("{}; due {} ({}).", head, HumanTime(lead.due), Relative(lead.due, now));
    default:
      break;
  }
  if (lead.due == 0) return fmt::format("{} after attempt {}; it will not be called again.", head, lead.attempts);
  return fmt::format("{} after attempt {}; the next call is due {} ({}).", head, lead.attempts, HumanTime(lead.due),
                     Relative(lead.due, now));
}

std::string Plural(uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// ---- tables ----

size_t DisplayWidth(std::string_view utf8) {
  size_t width = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) != 0x80) ++width;  // count lead bytes, not continuation bytes
  }
  return width;
}

std::string Pad(std::string_view text, size_t width, bool right_align) {
  size_t w = DisplayWidth(text);
  std::string pad(w < width ? width - w : 0, ' ');
  return right_align ? pad + std::string(text) : std::string(text) + pad;
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)), right_(headers_.size(), false) {}

void Table::RightAlign(size_t column) {
  if (column < right_.size()) right_[column] = true;
}

void Table::AddRow(std::vector<std::string> row) {
  row.resize(headers_.size());
  rows_.push_back(std::move(row));
}

void Table::Print(FILE* out, std::string_view indent) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      bool last = i + 1 == row.size();
      // No trailing blanks: the last left-aligned cell is not padded.
      line += (last && !right_[i]) ? row[i] : Pad(row[i], widths[i], right_[i]);
      if (!last) line += "  ";
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out);
  };
  bool headless = std::all_of(headers_.begin(), headers_.end(), [](const std::string& h) { return h.empty(); });
  if (!headless) print_row(headers_);
  for (const auto& row : rows_) print_row(row);
}

void PrintCountsTable(const std::vector<CampaignCounts>& all) {
  Table t({"CAMPAIGN", "PENDING", "CALLING", "COMPLETED", "NO_ANSWER", "VOICEMAIL", "FAILED", "DO_NOT_CALL", "TOTAL"});
  for (size_t i = 1; i <= 8; ++i) t.RightAlign(i);
  StatusCounts sum;
  for (const CampaignCounts& cc : all) {
    std::vector<std::string> row{Printable(cc.campaign.name)};
    for (int i = 0; i < kNumStatuses; ++i) {
      row.push_back(std::to_string(cc.counts.by_status[i]));
      sum.by_status[i] += cc.counts.by_status[i];
    }
    row.push_back(std::to_string(cc.counts.total));
    sum.total += cc.counts.total;
    t.AddRow(std::move(row));
  }
  if (all.size() > 1) {
    std::vector<std::string> row{"(all)"};
    for (int i = 0; i < kNumStatuses; ++i) row.push_back(std::to_string(sum.by_status[i]));
    row.push_back(std::to_string(sum.total));
    t.AddRow(std::move(row));
  }
  t.Print();
}

}  // namespace leadlog::tool
