// A small dialer process that embeds leadlog (see docs/embedding.md).
//
//   leadlog_dialer_example DB_DIR [--synced]
//
// It opens (or creates) the database in DB_DIR, releases the claims of a
// previous run that died mid-call, makes sure its campaign exists, hands the
// engine a few leads, then runs four dialer threads that claim leads, "call"
// them and report how each call ended, and finally prints the campaign's
// counts. Running it again on the same directory is fine: the campaign and
// its leads are already there (the leads come back as duplicates), and
// whatever is due is worked again.
//
// Every call returns a Status or a Result<T>; nothing throws. The program
// exits 1 on the first error it cannot handle.

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "leadlog/leadlog.h"

namespace {

constexpr const char* kCampaign = "winter-renewals";

// Prints the error and returns the process's exit code for it.
int Fail(const char* what, const leadlog::Status& status) {
  std::fprintf(stderr, "dialer_example: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

// Stands in for the real call: the AI assistant would dial profile.phone and
// greet profile.first_name. Here the outcome is derived from the lead id so
// that a run is repeatable.
leadlog::LeadStatus PlaceCall(const leadlog::ClaimedLead& claim) {
  switch (claim.lead % 4) {
    case 0: return leadlog::LeadStatus::kCompleted;
    case 1: return leadlog::LeadStatus::kNoAnswer;
    case 2: return leadlog::LeadStatus::kVoicemail;
    default: return leadlog::LeadStatus::kFailed;
  }
}

std::vector<leadlog::LeadInput> SampleLeads() {
  auto lead = [](std::string phone, std::string first, std::string last, std::string email,
                 std::string account, std::string appointment) {
    leadlog::LeadInput in;
    in.phone = std::move(phone);
    in.first_name = std::move(first);
    in.last_name = std::move(last);
    in.email = std::move(email);
    // Custom fields: any key/value strings the assistant can use in the call.
    in.custom.push_back({"account_id", std::move(account)});
    if (!appointment.empty()) in.custom.push_back({"appointment", std::move(appointment)});
    return in;
  };
  return {
      lead("+1 201-555-0123", "Maria", "Gonzalez", "maria.gonzalez@example.com", "ACC-100231", "2026-12-08 14:30"),
      lead("+1 415-555-0132", "James", "Whitfield", "j.whitfield@example.com", "ACC-100232", ""),
      lead("(212) 555-0187", "Aisha", "Khan", "", "ACC-100233", "2026-12-09 10:00"),  // national format
      lead("+44 20 7946 0321", "Oliver", "Hughes", "oliver.hughes@example.co.uk", "ACC-200101", ""),
      lead("+49 30 12345678", "Lukas", "Müller", "lukas.mueller@example.de", "ACC-300101", "2026-12-10 10:30"),
      lead("+33 6 12 34 56 78", "Léa", "Martin", "lea.martin@example.fr", "ACC-400102", ""),
      lead("+91 98765 43210", "Priya", "Sharma", "priya.sharma@example.in", "ACC-800101", ""),
      lead("+55 11 91234-5678", "Ana", "Souza", "", "ACC-900101", ""),
      lead("+61 491 570 156", "Charlotte", "Wilson", "charlotte.wilson@example.com.au", "ACC-910101", ""),
      lead("+81 90-1234-5678", "Yuki", "Tanaka", "yuki.tanaka@example.jp", "ACC-930101", ""),
      lead("+1 555 0100", "Bad", "Number", "", "ACC-999901", ""),  // rejected: not a valid number
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::strcmp(argv[2], "--synced") != 0)) {
    std::fprintf(stderr, "usage: %s DB_DIR [--synced]\n", argv[0]);
    return 2;
  }

  // ---- open: one Store per process, shared by every thread ----
  leadlog::Options options;
  // kBuffered: a returned call survives the process crashing, not a power
  // loss. kSynced: it survives a power loss too; concurrent callers share
  // each fsync (group commit).
  options.durability = argc == 3 ? leadlog::Durability::kSynced : leadlog::Durability::kBuffered;
  std::unique_ptr<leadlog::Store> store;
  // Opening after a crash loads the last checkpoint of the views and replays
  // the log after it: the state is exactly what the log says.
  if (leadlog::Status s = leadlog::Store::Open(options, argv[1], &store); !s.ok()) {
    return Fail("open", s);  // e.g. Busy: another process has it open for writing
  }

  // ---- crash recovery: end the claims of dialers that died mid-call ----
  // Leads whose lease has run out become no_answer (reason lease_expired,
  // counted as an attempt) and are retried by the campaign's rules.
  auto expired = store->Expire();
  if (!expired.ok()) return Fail("expire", expired.status());
  std::printf("start-up: released %zu expired claims\n", expired->size());

  // ---- the campaign: create it once, reuse it afterwards ----
  leadlog::CampaignSettings settings;
  settings.max_attempts = 3;
  settings.retry_no_answer = 2 * leadlog::kHour;
  settings.retry_voicemail = 24 * leadlog::kHour;
  settings.retry_failed = leadlog::kNever;  // a failed call is not retried
  settings.lease = 10 * leadlog::kMinute;   // a call that reports nothing for 10 minutes is over
  auto campaign = store->CreateCampaign(kCampaign, settings);
  if (!campaign.ok()) {
    if (campaign.status().code() != leadlog::Status::Code::kAlreadyExists) {
      return Fail("create campaign", campaign.status());
    }
    campaign = store->GetCampaign(kCampaign);
    if (!campaign.ok()) return Fail("get campaign", campaign.status());
  }
  std::printf("campaign %s (id %u): max %u attempts, lease %s\n", campaign->name.c_str(), campaign->id,
              campaign->settings.max_attempts, leadlog::FormatDuration(campaign->settings.lease).c_str());

  // ---- leads: one atomic batch; bad rows come back as rejects ----
  leadlog::AddOptions add;
  add.default_region = "US";  // how to read national-format numbers
  const std::vector<leadlog::LeadInput> leads = SampleLeads();
  auto added = store->AddLeads(kCampaign, leads, add);
  if (!added.ok()) return Fail("add leads", added.status());
  std::printf("added %llu leads, %zu rejected\n", static_cast<unsigned long long>(added->imported),
              added->rejects.size());
  for (const leadlog::RowReject& r : added->rejects) {
    std::printf("  rejected %s (%s): %s\n", leads[r.row].phone.c_str(),
                std::string(leadlog::RejectReasonName(r.reason)).c_str(), r.detail.c_str());
  }

  // ---- four dialer threads on the one Store ----
  // Claim hands each due lead to exactly one caller; concurrent Claim and
  // Report calls are committed together in groups.
  std::atomic<int> errors{0};
  std::atomic<int> calls{0};
  std::vector<std::thread> dialers;
  for (int d = 0; d < 4; ++d) {
    dialers.emplace_back([&, d] {
      const std::string dialer_id = "dialer-" + std::to_string(d);
      for (;;) {
        auto claimed = store->Claim(kCampaign, 2, dialer_id);
        if (!claimed.ok()) {
          std::fprintf(stderr, "%s: claim: %s\n", dialer_id.c_str(), claimed.status().ToString().c_str());
          ++errors;
          return;
        }
        if (claimed->empty()) return;  // nothing due now: the retries come later
        for (const leadlog::ClaimedLead& c : *claimed) {
          leadlog::LeadStatus outcome = PlaceCall(c);
          auto reported = store->Report(c.lead, c.attempt, outcome, "example call");
          if (reported.ok() && c.lead % 5 == 0) {
            // A dialer may send the same report again (after a timeout, say):
            // the same outcome for the same attempt is a harmless no-op.
            reported = store->Report(c.lead, c.attempt, outcome, "example call");
          }
          if (!reported.ok()) {
            std::fprintf(stderr, "%s: report lead %llu: %s\n", dialer_id.c_str(),
                         static_cast<unsigned long long>(c.lead), reported.status().ToString().c_str());
            ++errors;
            return;
          }
          ++calls;
          std::printf("%s: lead %llu %s %s, attempt %u -> %s\n", dialer_id.c_str(),
                      static_cast<unsigned long long>(c.lead), c.profile.first_name.c_str(),
                      c.profile.phone.c_str(), c.attempt,
                      std::string(leadlog::LeadStatusName(reported->status)).c_str());
        }
      }
    });
  }
  for (std::thread& t : dialers) t.join();
  if (errors > 0) return 1;

  // ---- the views: counts per status, exact up to the newest record ----
  auto counts = store->Counts(kCampaign);
  if (!counts.ok()) return Fail("counts", counts.status());
  std::printf("%d calls placed; %s:", calls.load(), kCampaign);
  for (int s = 0; s < leadlog::kNumStatuses; ++s) {
    std::printf(" %s=%llu", std::string(leadlog::LeadStatusName(static_cast<leadlog::LeadStatus>(s))).c_str(),
                static_cast<unsigned long long>(counts->by_status[s]));
  }
  std::printf(" total=%llu\n", static_cast<unsigned long long>(counts->total));
  std::printf("log head: seq %llu\n", static_cast<unsigned long long>(store->Head().seq));

  // Every claim of this run was reported, so nothing may still be calling.
  if ((*counts)[leadlog::LeadStatus::kCalling] != 0) {
    std::fprintf(stderr, "dialer_example: leads left in calling\n");
    return 1;
  }
  return 0;  // ~Store writes a final checkpoint and closes
}
