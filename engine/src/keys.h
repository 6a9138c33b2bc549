// Key encodings of every column family. The one place that knows them.
//
// Invariants:
//  - Keys compare bytewise (RocksDB's default comparator), so every integer is
//    big-endian: iteration order is numeric order, and `ldb`/`sst_dump` can
//    read the database without a custom comparator.
//  - log:          seq (8 bytes)                       -> fb::Record
//  - leads:        lead id (8 bytes)                   -> fb::LeadView
//  - campaigns:    campaign id (4 bytes)               -> fb::CampaignView
//  - dnc:          E.164 phone ("+15551234567")        -> fb::DncView
//  - lead_events:  lead id (8) + seq (8)               -> the lead's later
//                  records written by the same checkpoint, as gaps (the
//                  history index; see LeadEventRun below). Empty: that one
//                  record. A lead's lead_added record is not indexed (its row
//                  holds that seq).
//  - meta:         ASCII name ("format_version", "checkpoint")
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "leadlog/types.h"

namespace leadlog::keys {

inline constexpr const char* kLogCF = "log";
inline constexpr const char* kLeadsCF = "leads";
inline constexpr const char* kCampaignsCF = "campaigns";
inline constexpr const char* kDncCF = "dnc";
inline constexpr const char* kLeadEventsCF = "lead_events";
inline constexpr const char* kMetaCF = "meta";

inline constexpr std::string_view kMetaFormatVersion = "format_version";
inline constexpr std::string_view kMetaCheckpoint = "checkpoint";

template <size_t N>
struct Key {
  std::array<char, N> bytes;
  std::string_view view() const { return {bytes.data(), N}; }
};

Key<8> Seq(SeqNo seq);
Key<8> Lead(LeadId lead);
Key<4> CampaignKey(CampaignId campaign);
Key<16> LeadEvent(LeadId lead, SeqNo seq);
// The format version value in meta (4 bytes big-endian).
Key<4> FormatVersion(uint32_t version);

// Each returns false when `key` has the wrong length.
bool DecodeSeq(std::string_view key, SeqNo* seq);
bool DecodeLead(std::string_view key, LeadId* lead);
bool DecodeCampaign(std::string_view key, CampaignId* campaign);
bool DecodeLeadEvent(std::string_view key, LeadId* lead, SeqNo* seq);
bool DecodeFormatVersion(std::string_view value, uint32_t* version);

// The history index packs a run of one lead's records into one entry: the
// key names the lead and the run's first record; the value holds the gap to
// each further record as an unsigned LEB128 varint (gap >= 1, ascending), so a
// lead with k records in a checkpoint costs one key and about k bytes instead
// of k keys. An empty value is a run of one record, which is also how every
// entry looked before runs existed: old indexes read the same.
inline constexpr size_t kMaxLeadEventRun = 256;  // records per entry at most
// `seqs` ascending, 1 to kMaxLeadEventRun of them: the value of the entry
// keyed LeadEvent(lead, seqs[0]).
std::string EncodeLeadEventRun(const SeqNo* seqs, size_t n);
// Appends the run's records (first, then each later one) to `out`. False for
// a value that is not a run: a truncated or overlong varint, a zero gap, a
// sequence number past 2^64, more than kMaxLeadEventRun records.
bool DecodeLeadEventRun(SeqNo first, std::string_view value, std::vector<SeqNo>* out);

}  // namespace leadlog::keys
