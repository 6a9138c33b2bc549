// Shared pieces of the benchmarks: deterministic data (valid phone numbers
// of several countries, leads, CSV documents), timing, memory probes, and the
// phone validation every system runs.
//
// Invariants:
//  - Every generator is a pure function of its seed: the same arguments give
//    byte-identical data on every run and for every system compared, so the
//    three systems always see the same input.
//  - Generated "valid" numbers are valid by construction AND checked with
//    leadlog::NormalizePhone; a generated "invalid" one fails that check.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "leadlog/types.h"

namespace bench {

// Aborts the run: a benchmark that hits an error has no figure worth printing.
template <class... Args>
[[noreturn]] void Die(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print(stderr, "leadlog bench: {}\n", fmt::format(f, std::forward<Args>(args)...));
  std::exit(1);
}

// splitmix64: tiny, fast, and good enough to make data look random.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return Next() % n; }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_;
};

inline uint64_t Mix(uint64_t a, uint64_t b) { return Rng(a * 0x100000001b3ULL ^ b).Next(); }

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Wall clock in microseconds since the epoch (what leadlog's default clock gives).
leadlog::Timestamp NowMicros();

// Validation as every system does it: leadlog::NormalizePhone (libphonenumber).
// Empty result: not a valid number.
std::string NormalizeOrEmpty(std::string_view phone, std::string_view default_region = "");

// Validates every phone on `threads` threads (0: hardware concurrency);
// out[i] is the E.164 form or empty. This is also the "validation alone"
// reference that the import goal is measured against.
void NormalizeAll(const std::vector<leadlog::LeadInput>& leads, unsigned threads,
                  std::vector<std::string>* out);

// One valid international number, in a display form chosen by the seed
// ("+14155552671", "+1 415-555-2671", "+44 7911 123456", ...), for the
// countries US, GB, DE, FR, IN, BR. Valid by construction (not re-checked).
std::string ValidIntlPhone(uint64_t seed);
// One US number in a national format ("(415) 555-2671", "415.555.2671", ...),
// valid with default region "US".
std::string ValidUsNationalPhone(uint64_t seed);
// A malformed or invalid number (too short, bad area code, letters, ...).
std::string InvalidPhone(uint64_t seed);

// Leads `first` .. `first + n - 1` of the stream for `seed`: distinct valid
// international phones (E.164 distinct per index), names, email and two
// custom fields. A fraction `invalid` of them (spread deterministically)
// carries an invalid phone instead. Chunks of one stream never collide.
std::vector<leadlog::LeadInput> MakeLeads(size_t n, uint64_t seed, double invalid = 0.0, size_t first = 0);
// The same leads as an RFC 4180 CSV document with a header row.
std::string LeadsToCsv(const std::vector<leadlog::LeadInput>& leads);
// Checks (with NormalizePhone) that MakeLeads's promise holds for a sample;
// dies when it does not. Cheap: checks `sample` rows.
void CheckGeneratedLeads(const std::vector<leadlog::LeadInput>& leads, double invalid, size_t sample);

// The outcome a simulated call ends with: a pure function of (lead, attempt)
// so every system reports the same outcomes. Mix: completed 40%, no_answer
// 35%, voicemail 15%, failed 10%; `retry_heavy` gives mostly no_answer.
leadlog::LeadStatus PickOutcome(uint64_t lead, uint32_t attempt, bool retry_heavy = false);

// Campaign settings for logs that keep leads cycling: many attempts and
// short retry delays (60 s), so a simulated clock brings leads back.
leadlog::CampaignSettings CyclingSettings();

// Process memory: peak resident (ru_maxrss) and current resident, bytes.
uint64_t PeakRssBytes();
uint64_t CurrentRssBytes();

std::string FormatRate(double per_s);

}  // namespace bench
