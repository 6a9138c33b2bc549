// Deterministic test data and small process probes for the benchmarks.
//
// Invariant: a lead's E.164 number is an injective function of its index
// (country slot from the index, a bijective scramble within the country's
// number space), so MakeLeads never produces two valid leads with the same
// phone and never needs a hash set to find out.
#include "common.h"

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "leadlog/store.h"

namespace bench {

leadlog::Timestamp NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NormalizeOrEmpty(std::string_view phone, std::string_view default_region) {
  auto r = leadlog::NormalizePhone(phone, default_region);
  return r.ok() ? std::move(r).value() : std::string();
}

void NormalizeAll(const std::vector<leadlog::LeadInput>& leads, unsigned threads, std::vector<std::string>* out) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  out->assign(leads.size(), std::string());
  // Interleaved chunks keep both threads busy to the end without a queue.
  constexpr size_t kChunk = 1024;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (;;) {
      size_t begin = next.fetch_add(kChunk);
      if (begin >= leads.size()) return;
      size_t end = std::min(leads.size(), begin + kChunk);
      for (size_t i = begin; i < end; ++i) (*out)[i] = NormalizeOrEmpty(leads[i].phone);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

namespace {

// US area codes that libphonenumber 8.12 treats as valid geographic codes.
constexpr std::array<int, 40> kUsAreas = {201, 202, 206, 212, 213, 214, 215, 303, 305, 310, 312, 313, 404, 408,
                                          410, 415, 503, 512, 602, 612, 617, 619, 646, 650, 702, 713, 718, 720,
                                          773, 801, 813, 818, 858, 904, 916, 917, 919, 949, 971, 972};
constexpr std::array<int, 9> kBrAreas = {11, 21, 31, 41, 51, 61, 71, 81, 91};

// A bijection on [0, space) for space = 2^a * 5^b: multiply by a unit mod space.
uint64_t Scramble(uint64_t j, uint64_t space, uint64_t seed) { return (j * 7919 + seed) % space; }

std::string Digits(uint64_t v, int width) { return fmt::format("{:0{}d}", v, width); }

// Renders E.164 digits (without '+') in one of a few human forms.
std::string Display(const std::string& cc, const std::string& national, uint64_t style) {
  switch (style % 4) {
    case 0:
      return fmt::format("+{}{}", cc, national);
    case 1:
      return fmt::format("+{} {}", cc, national);
    case 2: {
      std::string s = fmt::format("+{} ", cc);
      for (size_t i = 0; i < national.size(); ++i) {
        if (i > 0 && i % 3 == 0 && national.size() - i >= 2) s += '-';
        s += national[i];
      }
      return s;
    }
    default:
      return fmt::format("+{} ({}) {}", cc, national.substr(0, 3), national.substr(3));
  }
}

// The `j`th number of country slot `c`; injective in j for each c.
std::string IntlNumber(int c, uint64_t j, uint64_t style) {
  switch (c) {
    case 0: {  // US: NPA + [2-9]XX + XXXX
      uint64_t area = kUsAreas[j % kUsAreas.size()];
      uint64_t rest = Scramble(j / kUsAreas.size(), 8'000'000, 12345);
      return Display("1", fmt::format("{}{}{}", area, 200 + rest / 10000, Digits(rest % 10000, 4)), style);
    }
    case 1:  // GB mobile: 79[024-9] + 7 digits; use 790 + 7 digits ... 799
      return Display("44", fmt::format("79{}{}", "0245678"[j % 7], Digits(Scramble(j / 7, 10'000'000, 7), 7)),
                     style);
    case 2:  // DE mobile: 17X + 7 digits
      return Display("49", fmt::format("17{}{}", j % 10, Digits(Scramble(j / 10, 10'000'000, 3), 7)), style);
    case 3:  // FR mobile: 6[0-24-8] + 7 digits
      return Display("33", fmt::format("6{}{}", "01245678"[j % 8], Digits(Scramble(j / 8, 10'000'000, 5), 7)),
                     style);
    case 4:  // IN mobile: 98 + 8 digits
      return Display("91", fmt::format("98{}", Digits(Scramble(j, 100'000'000, 11), 8)), style);
    default: {  // BR mobile: area + 9 + 8 digits
      uint64_t area = kBrAreas[j % kBrAreas.size()];
      return Display("55", fmt::format("{}9{}", area, Digits(Scramble(j / kBrAreas.size(), 100'000'000, 13), 8)),
                     style);
    }
  }
}

// Country slot of index i: half US, the rest spread over five countries.
constexpr std::array<int, 10> kSlotCountry = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5};
// Position of slot s among the slots of its country (for the injective j).
constexpr std::array<int, 10> kSlotRank = {0, 0, 1, 0, 2, 0, 3, 0, 4, 0};
constexpr std::array<int, 6> kCountrySlots = {5, 1, 1, 1, 1, 1};

constexpr std::array<std::string_view, 16> kFirst = {"James", "Mary", "Robert", "Patricia", "John", "Jennifer",
                                                     "Michael", "Linda", "Oliver", "Amelia", "Lukas", "Emma",
                                                     "Arjun", "Priya", "Lucas", "Sofía"};
constexpr std::array<std::string_view, 16> kLast = {"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia",
                                                    "Miller", "Davis", "Taylor", "Müller", "Schmidt", "Martin",
                                                    "Bernard", "Sharma", "Patel", "Silva"};

// ASCII renderings for e-mail addresses (the names themselves keep their UTF-8).
constexpr std::array<std::string_view, 16> kEmailFirst = {"james", "mary", "robert", "patricia", "john", "jennifer",
                                                          "michael", "linda", "oliver", "amelia", "lukas", "emma",
                                                          "arjun", "priya", "lucas", "sofia"};
constexpr std::array<std::string_view, 16> kEmailLast = {"smith", "johnson", "williams", "brown", "jones", "garcia",
                                                         "miller", "davis", "taylor", "mueller", "schmidt", "martin",
                                                         "bernard", "sharma", "patel", "silva"};

}  // namespace

std::string ValidIntlPhone(uint64_t seed) {
  int slot = static_cast<int>(seed % 10);
  int c = kSlotCountry[slot];
  return IntlNumber(c, (seed / 10) * kCountrySlots[c] + kSlotRank[slot], Mix(seed, 1));
}

std::string ValidUsNationalPhone(uint64_t seed) {
  uint64_t area = kUsAreas[seed % kUsAreas.size()];
  uint64_t rest = Scramble(seed / kUsAreas.size(), 8'000'000, 99);
  std::string ex = std::to_string(200 + rest / 10000), line = Digits(rest % 10000, 4);
  switch (Mix(seed, 2) % 4) {
    case 0:
      return fmt::format("({}) {}-{}", area, ex, line);
    case 1:
      return fmt::format("{}.{}.{}", area, ex, line);
    case 2:
      return fmt::format("1 ({}) {}-{}", area, ex, line);
    default:
      return fmt::format("{}{}{}", area, ex, line);
  }
}

std::string InvalidPhone(uint64_t seed) {
  switch (seed % 5) {
    case 0:
      return fmt::format("+1555{}", Digits(seed % 1000, 3));  // too short
    case 1:
      return fmt::format("+1 099 {} {}", 200 + seed % 700, Digits(seed % 10000, 4));  // area code 0xx
    case 2:
      return "call me maybe";
    case 3:
      return fmt::format("+44 {}", Digits(seed % 100000, 5));  // too short for GB
    default:
      return fmt::format("+999{}", Digits(seed % 100000000, 8));  // no such country code
  }
}

std::vector<leadlog::LeadInput> MakeLeads(size_t n, uint64_t seed, double invalid, size_t first) {
  std::vector<leadlog::LeadInput> leads(n);
  // Every k-th row is bad, so the bad ones spread evenly through the file.
  const size_t bad_every = invalid > 0 ? static_cast<size_t>(1.0 / invalid + 0.5) : 0;
  for (size_t k = 0; k < n; ++k) {
    auto& l = leads[k];
    const size_t i = first + k;
    uint64_t h = Mix(seed, i);
    if (bad_every && i % bad_every == bad_every - 1) {
      l.phone = InvalidPhone(h);
    } else {
      // Offsetting the index by the seed gives each seed its own numbers;
      // indices stay below 640M, where every country's numbering is injective.
      l.phone = ValidIntlPhone(i + (seed % 8) * 50'000'000ULL);
    }
    l.first_name = kFirst[h % kFirst.size()];
    l.last_name = kLast[(h >> 8) % kLast.size()];
    l.email = fmt::format("{}.{}{}@example.com", kEmailFirst[h % kFirst.size()], kEmailLast[(h >> 8) % kLast.size()], i);
    l.custom.push_back({"account", fmt::format("AC-{:08d}", (h >> 16) % 100'000'000)});
    l.custom.push_back({"appointment", fmt::format("2027-{:02d}-{:02d}", 1 + (h >> 40) % 12, 1 + (h >> 44) % 28)});
  }
  return leads;
}

namespace {
void AppendCsvField(std::string* out, std::string_view v) {
  bool quote = v.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out->append(v);
    return;
  }
  out->push_back('"');
  for (char c : v) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}
}  // namespace

std::string LeadsToCsv(const std::vector<leadlog::LeadInput>& leads) {
  std::string out = "phone,first_name,last_name,email,account,appointment\r\n";
  out.reserve(leads.size() * 96);
  for (const auto& l : leads) {
    AppendCsvField(&out, l.phone);
    out.push_back(',');
    AppendCsvField(&out, l.first_name);
    out.push_back(',');
    AppendCsvField(&out, l.last_name);
    out.push_back(',');
    AppendCsvField(&out, l.email);
    for (const auto& f : l.custom) {
      out.push_back(',');
      AppendCsvField(&out, f.value);
    }
    out.append("\r\n");
  }
  return out;
}

void CheckGeneratedLeads(const std::vector<leadlog::LeadInput>& leads, double invalid, size_t sample) {
  const size_t bad_every = invalid > 0 ? static_cast<size_t>(1.0 / invalid + 0.5) : 0;
  size_t step = std::max<size_t>(1, leads.size() / std::max<size_t>(1, sample));
  // Check a strided sample plus the first rows of every country slot.
  for (size_t i = 0; i < leads.size(); i += (i < 64 ? 1 : step)) {
    bool want_bad = bad_every && i % bad_every == bad_every - 1;
    bool valid = !NormalizeOrEmpty(leads[i].phone).empty();
    if (valid == want_bad) Die("generated phone '{}' (row {}) should be {}", leads[i].phone, i, want_bad ? "invalid" : "valid");
  }
}

leadlog::LeadStatus PickOutcome(uint64_t lead, uint32_t attempt, bool retry_heavy) {
  uint64_t r = Mix(lead, attempt) % 100;
  using S = leadlog::LeadStatus;
  if (retry_heavy) return r < 85 ? S::kNoAnswer : r < 90 ? S::kVoicemail : r < 95 ? S::kCompleted : S::kFailed;
  return r < 40 ? S::kCompleted : r < 75 ? S::kNoAnswer : r < 90 ? S::kVoicemail : S::kFailed;
}

leadlog::CampaignSettings CyclingSettings() {
  leadlog::CampaignSettings s;
  s.max_attempts = 1000;
  s.retry_no_answer = 60 * leadlog::kSecond;
  s.retry_voicemail = 60 * leadlog::kSecond;
  s.retry_failed = leadlog::kNever;
  s.lease = 15 * leadlog::kMinute;
  return s;
}

uint64_t PeakRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

uint64_t CurrentRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return got == 2 ? static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::string FormatRate(double per_s) {
  if (per_s >= 1e6) return fmt::format("{:.2f}M", per_s / 1e6);
  if (per_s >= 1e4) return fmt::format("{:.1f}K", per_s / 1e3);
  if (per_s >= 100) return fmt::format("{:.0f}", per_s);
  return fmt::format("{:.3g}", per_s);
}

}  // namespace bench
