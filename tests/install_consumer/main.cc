// Built against an installed leadlog (see CMakeLists.txt beside it): opens a
// Store in the directory given on the command line, creates a campaign, adds
// one lead and prints the campaign's counts. Exits 1 on any error.
#include <cstdio>
#include <memory>

#include "leadlog/leadlog.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer DB_DIR\n");
    return 2;
  }
  auto fail = [](const char* what, const leadlog::Status& s) {
    std::fprintf(stderr, "consumer: %s: %s\n", what, s.ToString().c_str());
    return 1;
  };

  std::unique_ptr<leadlog::Store> store;
  if (auto s = leadlog::Store::Open(leadlog::Options{}, argv[1], &store); !s.ok()) return fail("open", s);

  auto campaign = store->CreateCampaign("install-check", leadlog::CampaignSettings{});
  if (!campaign.ok()) return fail("create campaign", campaign.status());

  leadlog::LeadInput lead;
  lead.phone = "+44 20 7946 0321";
  lead.first_name = "Oliver";
  lead.custom = {{"account_id", "ACC-200101"}};
  auto id = store->AddLead("install-check", lead);
  if (!id.ok()) return fail("add lead", id.status());

  auto counts = store->Counts("install-check");
  if (!counts.ok()) return fail("counts", counts.status());
  std::printf("lead %llu added; install-check: pending=%llu total=%llu\n", static_cast<unsigned long long>(*id),
              static_cast<unsigned long long>((*counts)[leadlog::LeadStatus::kPending]),
              static_cast<unsigned long long>(counts->total));
  return counts->total == 1 && (*counts)[leadlog::LeadStatus::kPending] == 1 ? 0 : 1;
}
