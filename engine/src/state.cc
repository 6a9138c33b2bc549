#include "state.h"

#include <charconv>

namespace leadlog {

bool LeadRow::SameState(const LeadRow& o) const {
  return phone == o.phone && when == o.when && added_seq == o.added_seq && campaign == o.campaign &&
         attempt == o.attempt && budget_used == o.budget_used && status == o.status &&
         last_outcome == o.last_outcome && (flags & kCallOpen) == (o.flags & kCallOpen);
}

void PhoneIndex::Grow(const LeadTable& leads, size_t min_capacity) {
  size_t cap = slots_.empty() ? 1024 : slots_.size();
  while (cap * 3 / 4 < min_capacity) cap *= 2;
  if (cap == slots_.size()) return;
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(cap, 0);
  size_ = 0;
  for (uint64_t slot : old) {
    if (slot != 0) {
      LeadId id = slot & kIdMask;
      Insert(leads[id - 1].phone, id, leads);
    }
  }
}

void PhoneIndex::Reserve(size_t leads, const LeadTable& rows) { Grow(rows, leads); }

void PhoneIndex::Insert(uint64_t phone, LeadId lead, const LeadTable& leads) {
  if ((size_ + 1) > slots_.size() * 3 / 4) Grow(leads, size_ + 1);
  size_t mask = slots_.size() - 1;
  size_t i = Mix(phone) & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = Tag(phone) | lead;
  ++size_;
}

LeadId PhoneIndex::Find(uint64_t phone, CampaignId campaign, const LeadTable& leads) const {
  if (slots_.empty()) return 0;
  size_t mask = slots_.size() - 1;
  uint64_t tag = Tag(phone);
  for (size_t i = Mix(phone) & mask;; i = (i + 1) & mask) {
    uint64_t slot = slots_[i];
    if (slot == 0) return 0;
    if ((slot & ~kIdMask) != tag) continue;
    LeadId id = slot & kIdMask;
    const LeadRow& row = leads[id - 1];
    if (row.phone == phone && row.campaign == campaign) return id;
  }
}

const CampaignState* State::campaign(std::string_view name) const {
  auto it = campaign_by_name.find(std::string(name));
  return it == campaign_by_name.end() ? nullptr : campaign(it->second);
}

void State::MarkDirty(LeadId id) {
  if (!track_changes) return;
  LeadRow& row = leads[id - 1];
  if (!(row.flags & LeadRow::kDirty)) {
    row.flags |= LeadRow::kDirty;
    dirty_leads.push_back(id);
  }
}

void State::RebuildQueues() {
  for (CampaignState& c : campaigns) {
    c.pending.clear();
    c.scheduled = {};
    c.parked.clear();
  }
  leases = {};
  std::vector<DueEntry> pending;
  for (LeadId id = 1; id <= leads.size(); ++id) {
    const LeadRow& row = leads[id - 1];
    CampaignState* c = campaign(row.campaign);
    if (c == nullptr) continue;
    switch (row.status) {
      case LeadStatus::kPending:
        if (row.attempt == 0) {
          pending.push_back({row.when, id});
        } else {
          c->scheduled.push({row.when, id});
        }
        break;
      case LeadStatus::kNoAnswer:
      case LeadStatus::kVoicemail:
      case LeadStatus::kFailed:
        if (row.when != 0) c->scheduled.push({row.when, id});
        break;
      default:
        break;
    }
    if (row.call_open()) leases.push({row.when, id, row.attempt});
  }
  std::sort(pending.begin(), pending.end(),
            [](const DueEntry& a, const DueEntry& b) { return a.due != b.due ? a.due < b.due : a.lead < b.lead; });
  for (const DueEntry& e : pending) campaigns[leads[e.lead - 1].campaign - 1].pending.push_back(e.lead);
}

size_t State::MemoryBytes() const {
  size_t bytes = leads.MemoryBytes() + phones.MemoryBytes();
  for (const CampaignState& c : campaigns) {
    bytes += sizeof(CampaignState) + c.pending.MemoryBytes() + c.scheduled.size() * sizeof(DueEntry);
  }
  bytes += leases.size() * sizeof(LeaseEntry);
  bytes += dnc.size() * (sizeof(uint64_t) + sizeof(DncMark) + 16);
  bytes += dirty_leads.capacity() * sizeof(LeadId) + history_tail.capacity() * sizeof(history_tail[0]);
  return bytes;
}

void DropStaleQueueHeads(const State& state, CampaignState& c) {
  while (!c.pending.empty()) {
    const LeadRow& row = state.leads[c.pending.front() - 1];
    if (row.status == LeadStatus::kPending && row.attempt == 0) break;
    c.pending.pop_front();
  }
  while (!c.scheduled.empty() && !IsScheduledAt(state.leads[c.scheduled.top().lead - 1], c.scheduled.top().due)) {
    c.scheduled.pop();
  }
}

uint64_t RowDigest(LeadId id, const LeadRow& row) {
  auto mix = [](uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 29);
  };
  uint64_t h = mix(0x6c6561646c6f67ULL, id);
  h = mix(h, row.phone);
  h = mix(h, static_cast<uint64_t>(row.when));
  h = mix(h, row.added_seq);
  h = mix(h, row.campaign);
  h = mix(h, (uint64_t{row.attempt} << 32) | row.budget_start());
  h = mix(h, (uint64_t{static_cast<uint8_t>(row.status)} << 16) | (uint64_t{static_cast<uint8_t>(row.last_outcome)} << 8) |
                 (row.flags & LeadRow::kCallOpen));
  return h;
}

bool IsScheduledAt(const LeadRow& row, Timestamp due) {
  switch (row.status) {
    case LeadStatus::kPending:
      return row.attempt > 0 && row.when == due;
    case LeadStatus::kNoAnswer:
    case LeadStatus::kVoicemail:
    case LeadStatus::kFailed:
      return row.when != 0 && row.when == due;
    default:
      return false;
  }
}

bool PhoneToInt(std::string_view e164, uint64_t* out) {
  if (e164.size() < 2 || e164.size() > 16 || e164[0] != '+' || e164[1] == '0') return false;
  uint64_t v = 0;
  for (size_t i = 1; i < e164.size(); ++i) {
    char c = e164[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

std::string PhoneToString(uint64_t phone) {
  char buf[24];
  buf[0] = '+';
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf), phone);
  return std::string(buf, end);
}

}  // namespace leadlog
