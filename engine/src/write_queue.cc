#include "write_queue.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LEADLOG_CPU_RELAX() _mm_pause()
#else
#define LEADLOG_CPU_RELAX() std::atomic_signal_fence(std::memory_order_seq_cst)
#endif

namespace leadlog {

namespace {

// Spin this many pauses (well under a microsecond) before blocking: a leader
// that is about to finish saves the waiter a sleep and a wake-up. Longer
// spins, and yielding the core in a loop instead of blocking, measured no
// faster on 2 cores with 8 dialer threads, and burn CPU other threads need.
constexpr int kSpins = 16;

}  // namespace

uint8_t WriteQueue::Await(Writer* w) {
  for (int i = 0; i < kSpins; ++i) {
    uint8_t s = w->state.load(std::memory_order_acquire);
    if (s != kWaiting) return s;
    LEADLOG_CPU_RELAX();
  }
  std::unique_lock<std::mutex> l(w->mu);
  uint8_t expected = kWaiting;
  if (w->state.compare_exchange_strong(expected, kBlocked, std::memory_order_acq_rel)) {
    w->cv.wait(l, [w] { return w->state.load(std::memory_order_acquire) != kBlocked; });
    return w->state.load(std::memory_order_acquire);
  }
  return expected;
}

void WriteQueue::SetState(Writer* w, uint8_t state) {
  uint8_t expected = kWaiting;
  if (w->state.compare_exchange_strong(expected, state, std::memory_order_acq_rel)) return;
  // The waiter blocked (or is about to, holding mu): change the state under
  // its mutex so the wake-up cannot be lost, and so that the waiter returns
  // only after we have let go of it.
  std::lock_guard<std::mutex> l(w->mu);
  w->state.store(state, std::memory_order_release);
  w->cv.notify_one();
}

bool WriteQueue::Join(Writer* w) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(w);
    if (!leading_) {
      leading_ = true;
      return true;
    }
  }
  return Await(w) == kLead;
}

void WriteQueue::TakeGroup(std::vector<Writer*>* group) {
  std::lock_guard<std::mutex> l(mu_);
  group->assign(queue_.begin(), queue_.end());
  queue_.clear();
}

void WriteQueue::FinishGroup(const std::vector<Writer*>& group, size_t taken) {
  Writer* next = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.insert(queue_.begin(), group.begin() + static_cast<std::ptrdiff_t>(taken), group.end());
    if (queue_.empty()) {
      leading_ = false;
    } else {
      next = queue_.front();
    }
  }
  // group[0] is the leader itself: its caller reads its status directly.
  for (size_t i = 1; i < taken; ++i) SetState(group[i], kDone);
  if (next != nullptr) SetState(next, kLead);
}

}  // namespace leadlog
