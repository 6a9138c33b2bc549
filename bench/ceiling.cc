#include "ceiling.h"

#include <rocksdb/db.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "common.h"

namespace bench {
namespace {

std::unique_ptr<rocksdb::DB> OpenFresh(const std::string& dir) {
  std::filesystem::remove_all(dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  // leadlog's log memtable by default: half of Options::memtable_budget_bytes.
  o.write_buffer_size = 32 << 20;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
  if (!s.ok()) Die("ceiling: cannot open {}: {}", dir, s.ToString());
  return std::unique_ptr<rocksdb::DB>(db);
}

void SeqKey(uint64_t seq, char out[8]) {
  for (int b = 0; b < 8; ++b) out[b] = static_cast<char>(seq >> (56 - 8 * b));
}

void Check(const rocksdb::Status& s) {
  if (!s.ok()) Die("ceiling: write failed: {}", s.ToString());
}

}  // namespace

CeilingRun RunPerCallCeiling(const std::string& dir, unsigned threads, bool synced, double seconds, uint64_t cap) {
  auto db = OpenFresh(dir);
  const std::string value(kCeilingRecordBytes, 'r');
  std::atomic<uint64_t> seq{0};
  std::atomic<bool> stop{false};
  const uint64_t cap_records = 2 * cap;
  Timer timer;
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      rocksdb::WriteOptions wo;
      wo.sync = synced;
      char key[8];
      while (!stop.load(std::memory_order_relaxed)) {
        uint64_t q = seq.fetch_add(1) + 1;
        if (q > cap_records) break;
        SeqKey(q, key);
        rocksdb::WriteBatch wb;
        wb.Put(rocksdb::Slice(key, 8), value);
        Check(db->Write(wo, &wb));
      }
    });
  }
  while (seq.load() < cap_records && timer.Seconds() < seconds) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  for (auto& t : pool) t.join();
  double s = timer.Seconds();
  uint64_t records = std::min(seq.load(), cap_records);
  db.reset();
  std::filesystem::remove_all(dir);
  return {static_cast<double>(records) / 2 / s, records / 2};
}

CeilingRun RunBatchedCeiling(const std::string& dir, double seconds, uint64_t cap) {
  auto db = OpenFresh(dir);
  const std::string value(kCeilingRecordBytes, 'r');
  constexpr uint64_t kTransitionsPerWrite = 256;
  uint64_t seq = 0, transitions = 0;
  char key[8];
  Timer timer;
  while (transitions < cap && timer.Seconds() < seconds) {
    rocksdb::WriteBatch wb;
    for (uint64_t i = 0; i < 2 * kTransitionsPerWrite; ++i) {
      SeqKey(++seq, key);
      wb.Put(rocksdb::Slice(key, 8), value);
    }
    Check(db->Write(rocksdb::WriteOptions(), &wb));
    transitions += kTransitionsPerWrite;
  }
  double s = timer.Seconds();
  db.reset();
  std::filesystem::remove_all(dir);
  return {static_cast<double>(transitions) / s, transitions};
}

double TimeOneAtomicWrite(const std::string& dir, uint64_t records, size_t value_bytes) {
  auto db = OpenFresh(dir);
  const std::string value(value_bytes, 'r');
  char key[8];
  Timer timer;
  // Built and written inside the timed span, as an import must: its records
  // exist only once it has validated them.
  rocksdb::WriteBatch wb(records * (value_bytes + 16));
  for (uint64_t seq = 1; seq <= records; ++seq) {
    SeqKey(seq, key);
    wb.Put(rocksdb::Slice(key, 8), value);
  }
  Check(db->Write(rocksdb::WriteOptions(), &wb));
  double s = timer.Seconds();
  db.reset();
  std::filesystem::remove_all(dir);
  return s;
}

}  // namespace bench
