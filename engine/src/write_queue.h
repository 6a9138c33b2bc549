// WriteQueue: who leads a group commit, who waits, and how a waiter learns
// that its op was committed.
//
// Every write call joins the queue. The first caller with nobody leading
// becomes the leader: it takes every writer queued at that moment (itself
// first), commits their ops in one WriteBatch and marks each of them done.
// Then it hands the lead to the oldest writer still queued, if any.
//
// Why not one mutex and condition variable for the whole queue, as before:
// with 8 dialer threads on 2 cores, a leader waking each member while
// holding the queue's mutex, and members then fighting for that mutex,
// spent over half of the CPU of a claim/report load in futex calls and
// context switches. Here each writer waits on its own state: it spins a
// moment, then blocks on its own mutex; a leader takes the queue's mutex only
// to take or return writers, and makes a wake-up syscall only for a waiter
// that really blocked. The scheme is RocksDB's WriteThread's, rebuilt small
// because our leader must also apply each op to the in-memory views under the
// state lock, which RocksDB's write group cannot do for us.
//
// Invariants:
//  - At most one leader at a time, and the leader is the oldest writer in the
//    queue when it takes its group: ops are committed in arrival order.
//  - leading_ is false only while the queue is empty.
//  - A leader writes a writer's status before setting its state (release);
//    the state change is the last time the leader touches that writer, which
//    may return and be destroyed at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "leadlog/status.h"

namespace leadlog {

class WriteQueue {
 public:
  struct Writer {
    Writer(const void* op_, size_t bytes_) : op(op_), bytes(bytes_) {}
    const void* op;  // what to commit; opaque to the queue
    size_t bytes;    // about how many bytes op will write (0: small): the leader sizes its batch
    Status status;   // set by the leader that commits op
    // kWaiting -> kDone | kLead, or kWaiting -> kBlocked -> kDone | kLead.
    std::atomic<uint8_t> state{kWaiting};
    // Used only once the waiter has blocked.
    std::mutex mu;
    std::condition_variable cv;
  };
  static constexpr uint8_t kWaiting = 0, kBlocked = 1, kDone = 2, kLead = 3;

  // Enqueues `w` and returns once it is done (`w->status` holds the outcome)
  // or is to lead (returns true; then call TakeGroup and FinishGroup).
  bool Join(Writer* w);

  // The leader's group: the writers queued now, oldest (the leader) first.
  void TakeGroup(std::vector<Writer*>* group);

  // Ends the leader's group. group[0..taken) were committed (their statuses
  // set); they are marked done. group[taken..) go back to the queue's front
  // in order. The lead passes to the oldest writer queued, if any. Returns
  // with `leader` no longer in the queue.
  void FinishGroup(const std::vector<Writer*>& group, size_t taken);

 private:
  static uint8_t Await(Writer* w);
  static void SetState(Writer* w, uint8_t state);

  std::mutex mu_;
  std::deque<Writer*> queue_;  // guarded by mu_
  bool leading_ = false;       // guarded by mu_
};

}  // namespace leadlog
