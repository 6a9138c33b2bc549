// The `rocksdb_naive` peer: RocksDB used directly with every view in every
// batch. Per event one Put into `log` (8-byte big-endian seq), one Put of the
// whole lead record into `leads` (8-byte big-endian id) and one Put of the
// campaign's counts into `counts`, all in the same WriteBatch; batches of 256
// events. The state logic runs on an in-memory copy of the leads and an
// in-memory index of due leads, rebuilt from the `leads` column family on open.
//
// Invariants:
//  - The in-memory state, the open WriteBatch and the seq counter change
//    together under the Batcher's mutex; a committed batch holds whole events
//    with all their views.
//  - A lead is in its campaign's due index exactly when LeadState::due > 0.
//  - Records are a fixed little-endian header plus length-prefixed strings:
//    the cheapest encoding a team would hand-roll.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common.h"
#include "leadlog/csv.h"
#include "peer.h"
#include "peer_common.h"

namespace bench {
namespace {

void PutBE64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetBE64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint32_t GetBE32(rocksdb::Slice s) {
  uint32_t v = 0;
  for (size_t i = 0; i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
template <class T>
void PutRaw(std::string* s, T v) {
  s->append(reinterpret_cast<const char*>(&v), sizeof v);
}
void PutStr(std::string* s, std::string_view v) {
  PutRaw<uint16_t>(s, static_cast<uint16_t>(v.size()));
  s->append(v);
}

class Reader {
 public:
  explicit Reader(rocksdb::Slice s) : p_(s.data()), end_(s.data() + s.size()) {}
  template <class T>
  T Raw() {
    T v;
    Need(sizeof v);
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  std::string_view Str() {
    auto n = Raw<uint16_t>();
    Need(n);
    std::string_view v(p_, n);
    p_ += n;
    return v;
  }

 private:
  void Need(size_t n) const {
    if (static_cast<size_t>(end_ - p_) < n) Die("rocksdb_naive: truncated record");
  }
  const char* p_;
  const char* end_;
};

struct LeadMem {
  LeadState state;
  Timestamp added = 0;
  leadlog::LeadProfile profile;
};

std::string EncodeLead(const LeadMem& l) {
  std::string v;
  v.reserve(128);
  PutRaw(&v, l.state.campaign);
  PutRaw(&v, static_cast<uint8_t>(l.state.status));
  PutRaw(&v, l.state.attempts);
  PutRaw(&v, l.state.attempts_used);
  PutRaw(&v, l.state.due);
  PutRaw(&v, l.state.lease_until);
  PutRaw(&v, l.added);
  PutStr(&v, l.profile.phone);
  PutStr(&v, l.profile.first_name);
  PutStr(&v, l.profile.last_name);
  PutStr(&v, l.profile.email);
  PutRaw<uint16_t>(&v, static_cast<uint16_t>(l.profile.custom.size()));
  for (const auto& f : l.profile.custom) {
    PutStr(&v, f.key);
    PutStr(&v, f.value);
  }
  return v;
}

LeadMem DecodeLead(rocksdb::Slice s) {
  Reader r(s);
  LeadMem l;
  l.state.campaign = r.Raw<uint32_t>();
  l.state.status = static_cast<LeadStatus>(r.Raw<uint8_t>());
  l.state.attempts = r.Raw<uint32_t>();
  l.state.attempts_used = r.Raw<uint32_t>();
  l.state.due = r.Raw<int64_t>();
  l.state.lease_until = r.Raw<int64_t>();
  l.added = r.Raw<int64_t>();
  l.profile.phone = r.Str();
  l.profile.first_name = r.Str();
  l.profile.last_name = r.Str();
  l.profile.email = r.Str();
  auto n = r.Raw<uint16_t>();
  for (uint16_t i = 0; i < n; ++i) {
    leadlog::CustomField f;
    f.key = r.Str();
    f.value = r.Str();
    l.profile.custom.push_back(std::move(f));
  }
  return l;
}

// Log record: header, then (lead_added) the profile, (claimed) the dialer,
// (campaign_created) the settings.
std::string EncodeEvent(const PeerEvent& e, const leadlog::LeadProfile* profile, std::string_view dialer) {
  std::string v;
  v.reserve(128);
  PutRaw(&v, e.seq);
  PutRaw(&v, e.ts);
  PutRaw(&v, static_cast<uint8_t>(e.type));
  PutRaw(&v, e.lead);
  PutRaw(&v, e.campaign);
  PutRaw(&v, e.attempt);
  PutRaw(&v, static_cast<uint8_t>(e.status));
  PutRaw(&v, e.lease_until);
  if (e.type == EventType::kCampaignCreated) {
    PutRaw(&v, e.settings.max_attempts);
    PutRaw(&v, e.settings.retry_no_answer);
    PutRaw(&v, e.settings.retry_voicemail);
    PutRaw(&v, e.settings.retry_failed);
    PutRaw(&v, e.settings.lease);
  } else if (profile) {
    PutStr(&v, profile->phone);
    PutStr(&v, profile->first_name);
    PutStr(&v, profile->last_name);
    PutStr(&v, profile->email);
    PutRaw<uint16_t>(&v, static_cast<uint16_t>(profile->custom.size()));
    for (const auto& f : profile->custom) {
      PutStr(&v, f.key);
      PutStr(&v, f.value);
    }
  } else {
    PutStr(&v, dialer);
  }
  return v;
}

void DecodeEvent(rocksdb::Slice s, PeerEvent* e, leadlog::LeadProfile* profile, std::string* dialer) {
  Reader r(s);
  e->seq = r.Raw<uint64_t>();
  e->ts = r.Raw<int64_t>();
  e->type = static_cast<EventType>(r.Raw<uint8_t>());
  e->lead = r.Raw<uint64_t>();
  e->campaign = r.Raw<uint32_t>();
  e->attempt = r.Raw<uint32_t>();
  e->status = static_cast<LeadStatus>(r.Raw<uint8_t>());
  e->lease_until = r.Raw<int64_t>();
  if (e->type == EventType::kCampaignCreated) {
    e->settings.max_attempts = r.Raw<uint32_t>();
    e->settings.retry_no_answer = r.Raw<int64_t>();
    e->settings.retry_voicemail = r.Raw<int64_t>();
    e->settings.retry_failed = r.Raw<int64_t>();
    e->settings.lease = r.Raw<int64_t>();
  } else if (e->type == EventType::kLeadAdded) {
    profile->phone = r.Str();
    profile->first_name = r.Str();
    profile->last_name = r.Str();
    profile->email = r.Str();
    profile->custom.clear();
    auto n = r.Raw<uint16_t>();
    for (uint16_t i = 0; i < n; ++i) {
      leadlog::CustomField f;
      f.key = r.Str();
      f.value = r.Str();
      profile->custom.push_back(std::move(f));
    }
  } else {
    dialer->assign(r.Str());
  }
}

std::string CountsValue(const StatusCounts& c) {
  std::string v;
  for (uint64_t n : c.by_status) PutRaw(&v, n);
  PutRaw(&v, c.total);
  return v;
}
StatusCounts DecodeCounts(rocksdb::Slice s) {
  Reader r(s);
  StatusCounts c;
  for (auto& n : c.by_status) n = r.Raw<uint64_t>();
  c.total = r.Raw<uint64_t>();
  return c;
}

std::string Key64(uint64_t v) {
  std::string k;
  PutBE64(&k, v);
  return k;
}
std::string Key32(uint32_t v) {
  std::string k;
  for (int i = 3; i >= 0; --i) k.push_back(static_cast<char>(v >> (8 * i)));
  return k;
}

class RocksdbNaivePeer final : public Peer {
 public:
  ~RocksdbNaivePeer() override { Close(); }
  const char* name() const override { return "rocksdb_naive"; }

  void Open(const std::string& dir, bool synced, CommitMode mode) override {
    rocksdb::Options opts;
    opts.create_if_missing = true;
    opts.create_missing_column_families = true;
    // Defaults otherwise, as MEASUREMENTS.md R1-R9 measured them.
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"log", {}}, {"leads", {}}, {"counts", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    auto st = rocksdb::DB::Open(opts, dir + "/naive", cfs, &handles, &db);
    if (!st.ok()) Die("rocksdb_naive open: {}", st.ToString());
    db_.reset(db);
    cf_default_ = handles[0];
    cf_log_ = handles[1];
    cf_leads_ = handles[2];
    cf_counts_ = handles[3];
    wo_.sync = synced;

    // Rebuild what the logic keeps in memory: campaigns, counts, leads, the
    // due index and the duplicate check; and the next seq from the log's tail.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, cf_default_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string name = it->key().ToString();
      Reader r(it->value());
      uint32_t id = r.Raw<uint32_t>();
      CampaignSettings s;
      s.max_attempts = r.Raw<uint32_t>();
      s.retry_no_answer = r.Raw<int64_t>();
      s.retry_voicemail = r.Raw<int64_t>();
      s.retry_failed = r.Raw<int64_t>();
      s.lease = r.Raw<int64_t>();
      campaign_ids_[name] = id;
      if (campaigns_.size() < id) campaigns_.resize(id);
      campaigns_[id - 1].settings = s;
    }
    it.reset(db_->NewIterator({}, cf_counts_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      campaigns_.at(GetBE32(it->key()) - 1).counts = DecodeCounts(it->value());
    }
    it.reset(db_->NewIterator({}, cf_leads_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t id = GetBE64(it->key().data());
      if (id != leads_.size() + 1) Die("rocksdb_naive: lead ids not dense at {}", id);
      LeadMem l = DecodeLead(it->value());
      auto& c = campaigns_.at(l.state.campaign - 1);
      c.phones.insert(l.profile.phone);
      if (l.state.due > 0) c.due.emplace(l.state.due, id);
      leads_.push_back(std::move(l));
    }
    it.reset(db_->NewIterator({}, cf_log_));
    it->SeekToLast();
    next_seq_ = it->Valid() ? GetBE64(it->key().data()) + 1 : 1;
    it.reset();
    batcher_.Init(mode, [this] {
      auto s = db_->Write(wo_, &batch_);
      if (!s.ok()) Die("rocksdb_naive write: {}", s.ToString());
      batch_.Clear();
    });
  }

  void Close() override {
    if (!db_) return;
    batcher_.Flush();
    for (auto* h : {cf_default_, cf_log_, cf_leads_, cf_counts_}) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    db_.reset();
    leads_.clear();
    campaigns_.clear();
    campaign_ids_.clear();
  }

  void Flush() override { batcher_.Flush(); }

  void CreateCampaign(const std::string& name, const CampaignSettings& s, Timestamp now) override {
    now = Resolve(now);
    batcher_.Run([&] {
      campaigns_.emplace_back();
      campaigns_.back().settings = s;
      uint32_t id = static_cast<uint32_t>(campaigns_.size());
      campaign_ids_[name] = id;
      std::string v;
      PutRaw(&v, id);
      PutRaw(&v, s.max_attempts);
      PutRaw(&v, s.retry_no_answer);
      PutRaw(&v, s.retry_voicemail);
      PutRaw(&v, s.retry_failed);
      PutRaw(&v, s.lease);
      batch_.Put(cf_default_, name, v);
      PeerEvent e;
      e.type = EventType::kCampaignCreated;
      e.ts = now;
      e.campaign = id;
      e.settings = s;
      LogEvent(&e, nullptr, {});
      PutCounts(id);
      return size_t{1};
    });
  }

  PeerImport ImportCsv(const std::string& campaign, std::string_view csv, Timestamp now) override {
    now = Resolve(now);
    std::vector<leadlog::LeadInput> leads;
    std::vector<size_t> lines;
    std::vector<leadlog::CsvReject> rejects;
    uint64_t read = 0;
    auto st = leadlog::ParseLeadsCsv(csv, &leads, &lines, &rejects, &read);
    if (!st.ok()) Die("rocksdb_naive: csv: {}", st.ToString());
    PeerImport r = AddLeads(campaign, leads, now);
    r.read = read;
    r.rejected += rejects.size();
    return r;
  }

  PeerImport AddLeads(const std::string& campaign, const std::vector<leadlog::LeadInput>& leads,
                      Timestamp now) override {
    now = Resolve(now);
    uint32_t cid = CampaignIdOf(campaign);
    std::vector<std::string> e164;
    NormalizeAll(leads, 0, &e164);
    PeerImport r;
    r.read = leads.size();
    for (size_t begin = 0; begin < leads.size(); begin += 256) {
      size_t end = std::min(leads.size(), begin + 256);
      batcher_.Run([&] {
        auto& c = campaigns_[cid - 1];
        size_t added = 0;
        for (size_t i = begin; i < end; ++i) {
          if (e164[i].empty() || !c.phones.insert(e164[i]).second) {
            ++r.rejected;
            continue;
          }
          const auto& in = leads[i];
          LeadMem l;
          l.state.campaign = cid;
          l.state.due = now;
          l.added = now;
          l.profile = {e164[i], in.first_name, in.last_name, in.email, in.custom};
          uint64_t id = leads_.size() + 1;
          c.due.emplace(now, id);
          c.counts.by_status[S(LeadStatus::kPending)]++;
          c.counts.total++;
          PeerEvent e;
          e.type = EventType::kLeadAdded;
          e.ts = now;
          e.lead = id;
          e.campaign = cid;
          LogEvent(&e, &l.profile, {});
          batch_.Put(cf_leads_, Key64(id), EncodeLead(l));
          PutCounts(cid);
          leads_.push_back(std::move(l));
          ++added;
        }
        r.imported += added;
        return added;
      });
    }
    return r;
  }

  void Claim(const std::string& campaign, size_t n, const std::string& dialer, Timestamp now,
             std::vector<PeerClaim>* out) override {
    now = Resolve(now);
    out->clear();
    uint32_t cid = CampaignIdOf(campaign);
    batcher_.Run([&] {
      auto& c = campaigns_[cid - 1];
      Timestamp lease_until = now + c.settings.lease;
      while (out->size() < n && !c.due.empty() && c.due.begin()->first <= now) {
        uint64_t id = c.due.begin()->second;
        c.due.erase(c.due.begin());
        LeadMem& l = leads_[id - 1];
        LeadStatus from = l.state.status;
        uint32_t attempt = l.state.attempts + 1;
        if (!ApplyClaim(&l.state, attempt, lease_until)) Die("rocksdb_naive: due index holds unclaimable lead {}", id);
        c.counts.by_status[S(from)]--;
        c.counts.by_status[S(LeadStatus::kCalling)]++;
        PeerEvent e;
        e.type = EventType::kLeadClaimed;
        e.ts = now;
        e.lead = id;
        e.campaign = cid;
        e.attempt = attempt;
        e.status = LeadStatus::kCalling;
        e.lease_until = lease_until;
        LogEvent(&e, nullptr, dialer);
        batch_.Put(cf_leads_, Key64(id), EncodeLead(l));
        PutCounts(cid);
        out->push_back({id, attempt, l.profile.phone});
      }
      return out->size();
    });
  }

  void Report(uint64_t lead, uint32_t attempt, LeadStatus outcome, Timestamp now) override {
    now = Resolve(now);
    batcher_.Run([&] {
      if (lead == 0 || lead > leads_.size()) Die("rocksdb_naive: report for unknown lead {}", lead);
      LeadMem& l = leads_[lead - 1];
      if (l.state.status == outcome && l.state.attempts == attempt) return size_t{0};  // retried report
      auto& c = campaigns_[l.state.campaign - 1];
      if (!ApplyReport(&l.state, c.settings, attempt, outcome, now))
        Die("rocksdb_naive: illegal report for lead {} attempt {}", lead, attempt);
      if (l.state.due > 0) c.due.emplace(l.state.due, lead);
      c.counts.by_status[S(LeadStatus::kCalling)]--;
      c.counts.by_status[S(outcome)]++;
      PeerEvent e;
      e.type = EventType::kOutcomeReported;
      e.ts = now;
      e.lead = lead;
      e.campaign = l.state.campaign;
      e.attempt = attempt;
      e.status = outcome;
      LogEvent(&e, nullptr, {});
      batch_.Put(cf_leads_, Key64(lead), EncodeLead(l));
      PutCounts(l.state.campaign);
      return size_t{1};
    });
  }

  // A reader of the counts view: what a naive team's dashboard reads.
  StatusCounts Counts(const std::string& campaign) override {
    uint32_t cid = CampaignIdOf(campaign);
    std::string v;
    auto st = db_->Get({}, cf_counts_, Key32(cid), &v);
    if (!st.ok()) Die("rocksdb_naive counts: {}", st.ToString());
    return DecodeCounts(v);
  }

  uint64_t Verify() override {
    batcher_.Flush();
    return batcher_.Read([&] {
      Replayer r;
      PeerEvent e;
      leadlog::LeadProfile profile;
      std::string dialer;
      rocksdb::ReadOptions ro;
      ro.fill_cache = false;  // a full scan would only evict the hot blocks
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_log_));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        DecodeEvent(it->value(), &e, &profile, &dialer);
        if (e.seq != GetBE64(it->key().data())) Die("verify: key/seq mismatch at {}", e.seq);
        if (e.type == EventType::kLeadAdded && (profile.phone.empty() || profile.phone[0] != '+'))
          Die("verify: record {}: bad phone", e.seq);
        r.Apply(e);
      }
      if (!it->status().ok()) Die("rocksdb_naive scan: {}", it->status().ToString());
      it.reset(db_->NewIterator(ro, cf_leads_));
      for (it->SeekToFirst(); it->Valid(); it->Next())
        r.CheckLead(GetBE64(it->key().data()), DecodeLead(it->value()).state);
      it.reset(db_->NewIterator(ro, cf_counts_));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        r.CheckCounts(GetBE32(it->key()), DecodeCounts(it->value()));
      }
      return r.events();
    });
  }

  uint64_t LastSeq() override {
    return batcher_.Read([&] { return next_seq_ - 1; });
  }

 private:
  struct CampaignMem {
    CampaignSettings settings;
    StatusCounts counts;
    std::set<std::pair<Timestamp, uint64_t>> due;  // (due, lead): oldest due first, ties by id
    std::unordered_set<std::string> phones;
  };

  uint32_t CampaignIdOf(const std::string& name) {
    return batcher_.Read([&] {
      auto it = campaign_ids_.find(name);
      if (it == campaign_ids_.end()) Die("rocksdb_naive: no campaign {}", name);
      return it->second;
    });
  }
  void LogEvent(PeerEvent* e, const leadlog::LeadProfile* profile, std::string_view dialer) {
    e->seq = next_seq_++;
    batch_.Put(cf_log_, Key64(e->seq), EncodeEvent(*e, profile, dialer));
  }
  void PutCounts(uint32_t cid) { batch_.Put(cf_counts_, Key32(cid), CountsValue(campaigns_[cid - 1].counts)); }

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* cf_default_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_log_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_leads_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_counts_ = nullptr;
  rocksdb::WriteOptions wo_;
  rocksdb::WriteBatch batch_;
  Batcher batcher_;
  uint64_t next_seq_ = 1;
  std::vector<LeadMem> leads_;
  std::vector<CampaignMem> campaigns_;
  std::unordered_map<std::string, uint32_t> campaign_ids_;
};

}  // namespace

std::unique_ptr<Peer> MakeRocksdbNaivePeer() { return std::make_unique<RocksdbNaivePeer>(); }

}  // namespace bench
