// The `leadlog` system of the comparison: nothing but the public API
// (Store, ImportCsv), so the figures are what an embedding dialer gets.
//
// Invariants: CommitMode is ignored (leadlog commits each call itself, by
// group commit, and returns only once committed); kClockNow is passed through
// to the store's own clock; any non-OK status is fatal.
#include <memory>

#include "common.h"
#include "leadlog/csv.h"
#include "leadlog/store.h"
#include "peer.h"
#include "peer_leadlog.h"

namespace bench {
namespace {

class LeadlogPeer final : public Peer, public LeadlogAccess {
 public:
  ~LeadlogPeer() override { Close(); }
  const char* name() const override { return "leadlog"; }

  void Open(const std::string& dir, bool synced, CommitMode) override {
    leadlog::Options o;
    o.durability = synced ? leadlog::Durability::kSynced : leadlog::Durability::kBuffered;
    auto st = leadlog::Store::Open(o, dir + "/leadlog", &store_);
    if (!st.ok()) Die("leadlog open: {}", st.ToString());
  }
  void Close() override { store_.reset(); }
  void Flush() override {}

  void CreateCampaign(const std::string& name, const leadlog::CampaignSettings& s, leadlog::Timestamp now) override {
    auto r = store_->CreateCampaign(name, s, now);
    if (!r.ok()) Die("leadlog create campaign: {}", r.status().ToString());
  }

  PeerImport ImportCsv(const std::string& campaign, std::string_view csv, leadlog::Timestamp now) override {
    auto r = leadlog::ImportCsv(*store_, campaign, csv, {}, now);
    if (!r.ok()) Die("leadlog import: {}", r.status().ToString());
    return {r->read, r->imported, r->rejected};
  }

  PeerImport AddLeads(const std::string& campaign, const std::vector<leadlog::LeadInput>& leads,
                      leadlog::Timestamp now) override {
    auto r = store_->AddLeads(campaign, leads, {}, now);
    if (!r.ok()) Die("leadlog add leads: {}", r.status().ToString());
    return {leads.size(), r->imported, r->rejects.size()};
  }

  void Claim(const std::string& campaign, size_t n, const std::string& dialer, leadlog::Timestamp now,
             std::vector<PeerClaim>* out) override {
    out->clear();
    auto r = store_->Claim(campaign, n, dialer, now);
    if (!r.ok()) Die("leadlog claim: {}", r.status().ToString());
    for (auto& c : *r) out->push_back({c.lead, c.attempt, std::move(c.profile.phone)});
  }

  void Report(uint64_t lead, uint32_t attempt, leadlog::LeadStatus outcome, leadlog::Timestamp now) override {
    auto r = store_->Report(lead, attempt, outcome, std::string(), now);
    if (!r.ok()) Die("leadlog report lead {} attempt {}: {}", lead, attempt, r.status().ToString());
  }

  leadlog::StatusCounts Counts(const std::string& campaign) override {
    auto r = store_->Counts(campaign);
    if (!r.ok()) Die("leadlog counts: {}", r.status().ToString());
    return *r;
  }

  uint64_t Verify() override {
    leadlog::AuditReport report;
    auto st = store_->Verify({}, &report);
    if (!st.ok()) Die("leadlog verify: {}", st.ToString());
    if (!report.ok())
      Die("leadlog verify found {} problems; first: record {} {}: {}", report.problems.size(), report.problems[0].seq,
          report.problems[0].rule, report.problems[0].detail);
    return report.events;
  }

  uint64_t LastSeq() override { return store_->LastSeq(); }

  leadlog::Store* store() override { return store_.get(); }

 private:
  std::unique_ptr<leadlog::Store> store_;
};

}  // namespace

std::unique_ptr<Peer> MakeLeadlogPeer() { return std::make_unique<LeadlogPeer>(); }

}  // namespace bench
