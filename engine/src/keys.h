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
//  - lead_events:  lead id (8) + seq (8)               -> empty (the history index)
//  - meta:         ASCII name ("format_version", "checkpoint")
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

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

}  // namespace leadlog::keys
