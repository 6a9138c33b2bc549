#include "keys.h"

namespace leadlog::keys {
namespace {

template <class T, size_t N>
void PutBigEndian(T v, char* out) {
  for (size_t i = 0; i < N; ++i) out[i] = static_cast<char>((v >> (8 * (N - 1 - i))) & 0xff);
}

template <class T, size_t N>
T GetBigEndian(const char* in) {
  T v = 0;
  for (size_t i = 0; i < N; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace

Key<8> Seq(SeqNo seq) {
  Key<8> k;
  PutBigEndian<uint64_t, 8>(seq, k.bytes.data());
  return k;
}

Key<8> Lead(LeadId lead) { return Seq(lead); }

Key<4> CampaignKey(CampaignId campaign) {
  Key<4> k;
  PutBigEndian<uint32_t, 4>(campaign, k.bytes.data());
  return k;
}

Key<16> LeadEvent(LeadId lead, SeqNo seq) {
  Key<16> k;
  PutBigEndian<uint64_t, 8>(lead, k.bytes.data());
  PutBigEndian<uint64_t, 8>(seq, k.bytes.data() + 8);
  return k;
}

Key<4> FormatVersion(uint32_t version) { return CampaignKey(version); }

bool DecodeSeq(std::string_view key, SeqNo* seq) {
  if (key.size() != 8) return false;
  *seq = GetBigEndian<uint64_t, 8>(key.data());
  return true;
}

bool DecodeLead(std::string_view key, LeadId* lead) { return DecodeSeq(key, lead); }

bool DecodeCampaign(std::string_view key, CampaignId* campaign) {
  if (key.size() != 4) return false;
  *campaign = GetBigEndian<uint32_t, 4>(key.data());
  return true;
}

bool DecodeLeadEvent(std::string_view key, LeadId* lead, SeqNo* seq) {
  if (key.size() != 16) return false;
  *lead = GetBigEndian<uint64_t, 8>(key.data());
  *seq = GetBigEndian<uint64_t, 8>(key.data() + 8);
  return true;
}

bool DecodeFormatVersion(std::string_view value, uint32_t* version) { return DecodeCampaign(value, version); }

std::string EncodeLeadEventRun(const SeqNo* seqs, size_t n) {
  std::string out;
  for (size_t i = 1; i < n; ++i) {
    uint64_t gap = seqs[i] - seqs[i - 1];
    while (gap >= 0x80) {
      out.push_back(static_cast<char>((gap & 0x7f) | 0x80));
      gap >>= 7;
    }
    out.push_back(static_cast<char>(gap));
  }
  return out;
}

bool DecodeLeadEventRun(SeqNo first, std::string_view value, std::vector<SeqNo>* out) {
  out->push_back(first);
  SeqNo seq = first;
  size_t records = 1;
  for (size_t i = 0; i < value.size();) {
    uint64_t gap = 0;
    for (int shift = 0;; shift += 7) {
      if (i == value.size() || shift > 63) return false;
      const auto byte = static_cast<uint8_t>(value[i++]);
      if (shift == 63 && byte > 1) return false;
      gap |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (gap == 0 || seq > UINT64_MAX - gap || ++records > kMaxLeadEventRun) return false;
    seq += gap;
    out->push_back(seq);
  }
  return true;
}

}  // namespace leadlog::keys
