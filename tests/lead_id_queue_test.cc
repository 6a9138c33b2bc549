// LeadIdQueue (state.h): a campaign's pending FIFO, stored as runs of
// consecutive lead ids. It must behave exactly as a plain queue of ids.
#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "state.h"

namespace leadlog {
namespace {

// Drives a LeadIdQueue and a std::deque with the same operations.
void ExpectSameAsDeque(LeadIdQueue& q, std::deque<LeadId>& model) {
  ASSERT_EQ(q.size(), model.size());
  ASSERT_EQ(q.empty(), model.empty());
  if (!model.empty()) {
    ASSERT_EQ(q.front(), model.front());
  }
}

TEST(LeadIdQueueTest, AnImportIntoOneCampaignIsOneRun) {
  LeadIdQueue q;
  for (LeadId id = 1; id <= 1'000'000; ++id) q.push_back(id);
  EXPECT_EQ(q.size(), 1'000'000u);
  EXPECT_EQ(q.MemoryBytes(), sizeof(uint64_t));
  for (LeadId id = 1; id <= 1'000'000; ++id) {
    ASSERT_EQ(q.front(), id);
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
}

TEST(LeadIdQueueTest, InterleavedCampaignsCostOneEntryALead) {
  LeadIdQueue a, b;
  for (LeadId id = 1; id <= 1000; ++id) (id % 2 ? a : b).push_back(id);
  EXPECT_EQ(a.MemoryBytes(), 500 * sizeof(uint64_t));
  EXPECT_EQ(b.MemoryBytes(), 500 * sizeof(uint64_t));
  EXPECT_EQ(a.front(), 1u);
  EXPECT_EQ(b.front(), 2u);
}

TEST(LeadIdQueueTest, RandomOperationsMatchADeque) {
  std::mt19937_64 rng(9);
  LeadIdQueue q;
  std::deque<LeadId> model;
  LeadId next = 1;
  for (int step = 0; step < 200'000; ++step) {
    if (rng() % 3 != 0) {
      next += rng() % 3 == 0 ? 1 + rng() % 5 : 1;
      const LeadId id = rng() % 50 == 0 ? 1 + rng() % next : next;
      q.push_back(id);
      model.push_back(id);
    } else if (!model.empty()) {
      q.pop_front();
      model.pop_front();
    }
    ExpectSameAsDeque(q, model);
  }
  while (!model.empty()) {
    q.pop_front();
    model.pop_front();
    ExpectSameAsDeque(q, model);
  }
}

TEST(LeadIdQueueTest, ARunLongerThanAnEntryHoldsContinuesInTheNext) {
  LeadIdQueue q;
  const LeadId n = (LeadId{1} << 24) + 3;  // one more than a run of 24-bit length holds, and then some
  for (LeadId id = 1; id <= n; ++id) q.push_back(id);
  EXPECT_EQ(q.size(), n);
  EXPECT_EQ(q.MemoryBytes(), 2 * sizeof(uint64_t));
  for (LeadId id = 1; id <= n; ++id) {
    ASSERT_EQ(q.front(), id);
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace leadlog
