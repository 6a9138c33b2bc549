#include "store_impl.h"

#include <fmt/format.h>
#include <malloc.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <set>

#include "apply.h"
#include "format.h"
#include "keys.h"
#include "leadlog/csv.h"
#include "rocks_logger.h"

namespace leadlog {

namespace fs = std::filesystem;

namespace {

rocksdb::Slice S(std::string_view v) { return {v.data(), v.size()}; }
template <size_t N>
rocksdb::Slice S(const keys::Key<N>& k) {
  return {k.bytes.data(), N};
}

// The latest time a caller may pass: 9999-12-31T23:59:59Z.
constexpr Timestamp kMaxTime = 253402300799LL * kSecond;

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  if (s.IsCorruption()) return Status::Corruption(fmt::format("{}: {}", what, s.ToString()));
  return Status::IOError(fmt::format("{}: {}", what, s.ToString()));
}

const std::vector<std::string>& ColumnFamilyNames() {
  static const std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, keys::kLogCF,  keys::kLeadsCF,
                                                 keys::kCampaignsCF, keys::kDncCF, keys::kLeadEventsCF,
                                                 keys::kMetaCF};
  return names;
}

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kMaxCustomFields = 1024;
constexpr size_t kMaxCustomKeyBytes = 256;
constexpr size_t kMaxCustomValueBytes = 64 * 1024;

// Free-text reasons travel in the log: bounded and valid UTF-8.
Status CheckReason(const std::string& reason) {
  if (reason.size() > 4096 || !IsValidUtf8(reason)) {
    return Status::InvalidArgument("the reason must be valid UTF-8 of at most 4096 bytes");
  }
  return Status::OK();
}

}  // namespace

// ---------------------------------------------------------------- Open

Status Store::Open(const Options& options, const std::string& path, std::unique_ptr<Store>* store) {
  auto impl = std::make_unique<StoreImpl>(options, path);
  if (Status s = impl->Init(); !s.ok()) return s;
  *store = std::move(impl);
  return Status::OK();
}

Store::~Store() = default;

StoreImpl::StoreImpl(const Options& options, std::string path) : options_(options), path_(std::move(path)) {}

Status StoreImpl::Init() {
  if (Status s = OpenDb(); !s.ok()) return s;
  if (Status s = LoadState(); !s.ok()) return s;
  if (!options_.read_only) checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
  return Status::OK();
}

Status StoreImpl::OpenDb() {
  std::error_code ec;
  bool exists = fs::exists(path_, ec);
  bool has_current = exists && fs::exists(fs::path(path_) / "CURRENT", ec);
  if (options_.read_only && !has_current) {
    return Status::NotFound(fmt::format("no leadlog database at {}", path_));
  }
  if (!has_current) {
    if (exists && !fs::is_directory(path_, ec)) {
      return Status::InvalidArgument(fmt::format("{} exists and is not a directory", path_));
    }
    if (exists && !fs::is_empty(path_, ec)) {
      return Status::InvalidArgument(
          fmt::format("{} exists, is not empty and is not a leadlog database; refusing to write into it", path_));
    }
    if (!options_.create_if_missing) return Status::NotFound(fmt::format("no leadlog database at {}", path_));
    if (Status s = CreateDatabase(); !s.ok()) return s;
  } else {
    std::vector<std::string> families;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path_, &families);
    if (!s.ok()) return FromRocks(s, fmt::format("cannot read {}", path_));
    std::set<std::string> have(families.begin(), families.end());
    for (const std::string& name : ColumnFamilyNames()) {
      if (!have.count(name)) {
        return Status::NotSupported(fmt::format(
            "{} is a RocksDB database but not a leadlog database (it has no '{}' column family)", path_, name));
      }
    }
  }

  rocksdb::DBOptions db_options;
  db_options.max_background_jobs = 2;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 4;
  // The view families are written only at checkpoints and rarely fill a
  // memtable; without a cap they would pin every WAL file since their last
  // flush, and an open after a crash would re-read gigabytes of WAL. The cap
  // makes RocksDB flush them once the WALs pass it.
  db_options.max_total_wal_size = 256 << 20;
  if (options_.read_only) db_options.max_open_files = -1;  // required by secondary instances
  // One budget for every family's memtables (RocksDB's WriteBufferManager
  // flushes the largest when they pass it): they are part of the resident set
  // a dialer pays for (docs/performance.md, memory).
  db_options.db_write_buffer_size = options_.memtable_budget_bytes;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = Descriptors(options_);

  rocksdb::Status s;
  if (options_.read_only) {
    scratch_dir_ = options_.secondary_scratch_dir;
    if (scratch_dir_.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "leadlog-reader-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) {
        return Status::IOError(fmt::format("cannot create a scratch directory for the reader: {}", std::strerror(errno)));
      }
      scratch_dir_ = tmpl;
      owns_scratch_ = true;
    }
    db_options.info_log = std::make_shared<QuietFileLogger>(scratch_dir_ + "/LOG", rocksdb::InfoLogLevel::WARN_LEVEL);
    s = rocksdb::DB::OpenAsSecondary(db_options, path_, scratch_dir_, descriptors, &handles_, &db_);
    if (s.ok()) s = db_->TryCatchUpWithPrimary();
  } else {
    db_options.info_log = std::make_shared<QuietFileLogger>(path_ + "/LOG", rocksdb::InfoLogLevel::WARN_LEVEL);
    s = rocksdb::DB::Open(db_options, path_, descriptors, &handles_, &db_);
  }
  if (!s.ok()) {
    std::string msg = s.ToString();
    // Permissions first: a LOCK file we may not open is not someone else's lock.
    if (msg.find("Permission denied") != std::string::npos || msg.find("Read-only file system") != std::string::npos) {
      return Status::IOError(fmt::format("cannot open {} for writing: {}", path_, msg));
    }
    if (s.IsIOError() && (msg.find("Resource temporarily unavailable") != std::string::npos ||
                          msg.find("lock hold by current process") != std::string::npos ||
                          msg.find("No locks available") != std::string::npos)) {
      return Status::Busy(fmt::format(
          "the database {} is in use by another process; read-only commands still work", path_));
    }
    return FromRocks(s, fmt::format("cannot open {}", path_));
  }
  log_cf_ = handles_[1];
  leads_cf_ = handles_[2];
  campaigns_cf_ = handles_[3];
  dnc_cf_ = handles_[4];
  lead_events_cf_ = handles_[5];
  meta_cf_ = handles_[6];

  std::string version;
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, S(keys::kMetaFormatVersion), &version);
  if (s.IsNotFound()) {
    if (options_.read_only) return Status::Corruption(fmt::format("{} has no format version", path_));
    s = db_->Put(rocksdb::WriteOptions(), meta_cf_, S(keys::kMetaFormatVersion),
                 S(keys::FormatVersion(kFormatVersion)));
    return FromRocks(s, "cannot write the format version");
  }
  if (!s.ok()) return FromRocks(s, "cannot read the format version");
  uint32_t v = 0;
  if (!keys::DecodeFormatVersion(version, &v)) return Status::Corruption("the format version does not decode");
  if (v > kFormatVersion) {
    return Status::NotSupported(fmt::format(
        "{} was written by a newer leadlog (format {}; this build reads up to {}); upgrade leadlog", path_, v,
        kFormatVersion));
  }
  if (v < kFormatVersion && !options_.read_only) {
    // From now on records of this format may be written: older engines must
    // refuse the database.
    s = db_->Put(rocksdb::WriteOptions(), meta_cf_, S(keys::kMetaFormatVersion),
                 S(keys::FormatVersion(kFormatVersion)));
    return FromRocks(s, "cannot write the format version");
  }
  return Status::OK();
}

std::vector<rocksdb::ColumnFamilyDescriptor> StoreImpl::Descriptors(const Options& options) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : ColumnFamilyNames()) {
    rocksdb::ColumnFamilyOptions cf;
    if (name == keys::kLogCF && options.memtable_budget_bytes != 0) {
      // Appends of sequential keys, flushed into files that never overlap (no
      // compaction rewrites them): half the budget, so that a checkpoint's
      // views have room without flushing the log at once.
      cf.write_buffer_size = std::max<size_t>(options.memtable_budget_bytes / 2, 4 << 20);
    }
    descriptors.emplace_back(name, cf);
  }
  return descriptors;
}

// A new database is made whole in a private sibling directory and renamed
// into place, so a crash while creating leaves either no database or a
// complete one (with every column family and its format version), never a
// half-made directory that later opens would have to refuse.
Status StoreImpl::CreateDatabase() {
  fs::path target = fs::path(path_).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return Status::IOError(fmt::format("cannot create {}: {}", parent.string(), ec.message()));
  // mkdtemp makes the directory 0700: it holds personal data (names, numbers).
  std::string tmp = (parent / (target.filename().string() + ".creating-XXXXXX")).string();
  if (::mkdtemp(tmp.data()) == nullptr) {
    return Status::IOError(fmt::format("cannot create a directory next to {}: {}", path_, std::strerror(errno)));
  }
  auto cleanup = [&](Status s) {
    fs::remove_all(tmp, ec);
    return s;
  };
  {
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(db_options, tmp, Descriptors(options_), &handles, &db);
    if (!s.ok()) return cleanup(FromRocks(s, fmt::format("cannot create a database for {}", path_)));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db->Put(wo, handles[6], S(keys::kMetaFormatVersion), S(keys::FormatVersion(kFormatVersion)));
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    rocksdb::Status closed = db->Close();
    delete db;
    if (!s.ok()) return cleanup(FromRocks(s, "cannot write the format version"));
    if (!closed.ok()) return cleanup(FromRocks(closed, "cannot close the new database"));
  }
  // rename(2) replaces an empty directory the caller may have made.
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    return cleanup(Status::IOError(fmt::format("cannot move the new database into {}: {}", path_, std::strerror(errno))));
  }
  if (int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  return Status::OK();
}

StoreImpl::~StoreImpl() {
  if (checkpoint_thread_.joinable()) {
    {
      std::lock_guard<std::mutex> l(cp_signal_mu_);
      shutting_down_ = true;
    }
    cp_signal_.notify_all();
    checkpoint_thread_.join();
    bool healthy;
    {
      std::shared_lock<std::shared_mutex> l(state_mu_);
      healthy = bg_error_.ok();
    }
    if (healthy && checkpoints_enabled_) WriteCheckpoint(false);
  }
  if (db_ != nullptr) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
    delete db_;
  }
  if (owns_scratch_) {
    std::error_code ec;
    fs::remove_all(scratch_dir_, ec);
  }
}

// ---------------------------------------------------------------- state loading

Status StoreImpl::ReadRecord(SeqNo seq, std::string* bytes, const rocksdb::Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  rocksdb::Status s = db_->Get(ro, log_cf_, S(keys::Seq(seq)), bytes);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("log record {} is missing", seq));
  return FromRocks(s, fmt::format("cannot read log record {}", seq));
}

Status StoreImpl::LoadCheckpoint(State* state, bool* found, std::vector<AuditProblem>* problems,
                                 const rocksdb::Snapshot* snapshot) const {
  *found = false;
  // Every read of one checkpoint comes from one snapshot, so a checkpoint
  // written meanwhile is seen whole or not at all.
  rocksdb::ReadOptions snap;
  snap.snapshot = snapshot;
  auto problem = [&](SeqNo seq, LeadId lead, std::string_view rule, std::string detail) -> Status {
    if (problems == nullptr) {
      return Status::Corruption(fmt::format(
          "the stored views disagree with the log ({}); run `leadlog rebuild` to derive them again from the log",
          detail));
    }
    problems->push_back({seq, lead, std::string(rule), std::move(detail)});
    return Status::OK();
  };
  std::string value;
  rocksdb::Status rs = db_->Get(snap, meta_cf_, S(keys::kMetaCheckpoint), &value);
  if (rs.IsNotFound()) return Status::OK();
  if (!rs.ok()) return FromRocks(rs, "cannot read the checkpoint");
  CheckpointInfo cp;
  if (Status s = DecodeCheckpoint(value, &cp); !s.ok()) return problem(0, 0, "view_damaged", s.message());

  // The checkpoint must describe this log: record cp.seq hashes to cp.hash.
  if (cp.seq > 0) {
    std::string bytes;
    Status s = ReadRecord(cp.seq, &bytes, snapshot);
    if (!s.ok()) {
      if (!s.IsNotFound()) return s;
      if (Status p = problem(cp.seq, 0, "checkpoint_mismatch",
                             fmt::format("the checkpoint reflects record {}, which is not in the log", cp.seq));
          !p.ok()) {
        return p;
      }
    } else if (Sha256().Of(bytes) != cp.hash) {
      if (Status p = problem(cp.seq, 0, "checkpoint_mismatch",
                             fmt::format("record {} does not hash to the checkpoint's hash", cp.seq));
          !p.ok()) {
        return p;
      }
    } else {
      DecodedRecord rec;
      if (!DecodeRecord(bytes, &rec).ok() || rec.ts != cp.ts) {
        if (Status p = problem(cp.seq, 0, "checkpoint_mismatch",
                               fmt::format("the checkpoint's time is not record {}'s", cp.seq));
            !p.ok()) {
          return p;
        }
      }
    }
  }

  std::vector<StatusCounts> stored_counts;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snap, campaigns_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      CampaignId id = 0;
      CampaignState c;
      StatusCounts counts;
      if (!keys::DecodeCampaign(it->key().ToStringView(), &id) || id != state->next_campaign()) {
        if (Status p = problem(0, 0, "view_damaged", "campaign ids in the campaigns view are not dense"); !p.ok()) return p;
        break;
      }
      if (Status s = DecodeCampaignView(it->value().ToStringView(), &c.info, &counts); !s.ok() || c.info.id != id) {
        if (Status p = problem(0, 0, "view_damaged", fmt::format("campaign {}: {}", id, s.message())); !p.ok()) return p;
        break;
      }
      state->campaign_by_name[c.info.name] = id;
      state->campaigns.push_back(std::move(c));
      stored_counts.push_back(counts);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the campaigns view");
  }
  if (state->next_campaign() != cp.next_campaign) {
    if (Status p = problem(0, 0, "view_damaged",
                           fmt::format("the checkpoint counts {} campaigns, the view holds {}", cp.next_campaign - 1,
                                       state->campaigns.size()));
        !p.ok()) {
      return p;
    }
  }
  {
    state->phones.Reserve(cp.leads, state->leads);
    rocksdb::ReadOptions ro = snap;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, leads_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      LeadId key_id = 0, id = 0;
      LeadRow row;
      Status s = DecodeLeadView(it->value().ToStringView(), &id, &row);
      if (!keys::DecodeLead(it->key().ToStringView(), &key_id) || key_id != state->next_lead() || !s.ok() ||
          id != key_id || state->campaign(row.campaign) == nullptr || row.added_seq > cp.seq) {
        // Name the lead that is wrong: a gap means the expected one is missing.
        bool gap = keys::DecodeLead(it->key().ToStringView(), &key_id) && key_id > state->next_lead();
        LeadId named = gap ? state->next_lead() : key_id;
        if (Status p = problem(0, named, "view_damaged",
                               gap ? fmt::format("lead {} is missing from the leads view", named)
                                   : fmt::format("lead {} in the leads view is damaged{}", named,
                                                 s.ok() ? "" : ": " + s.message()));
            !p.ok()) {
          return p;
        }
        break;
      }
      state->leads.push_back(row);
      state->leads_digest ^= RowDigest(id, row);
      CampaignState& c = state->campaigns[row.campaign - 1];
      ++c.counts.by_status[static_cast<int>(row.status)];
      ++c.counts.total;
      state->phones.Insert(row.phone, id, state->leads);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the leads view");
  }
  if (state->leads.size() != cp.leads || state->next_lead() != cp.next_lead) {
    if (Status p = problem(0, 0, "view_damaged",
                           fmt::format("the checkpoint counts {} leads, the view holds {}", cp.leads, state->leads.size()));
        !p.ok()) {
      return p;
    }
  }
  if (state->leads_digest != cp.leads_digest) {
    if (Status p = problem(0, 0, "view_damaged",
                           "the leads view does not match the checkpoint's digest: a lead row was changed, added or removed");
        !p.ok()) {
      return p;
    }
  }
  for (size_t i = 0; i < state->campaigns.size(); ++i) {
    if (!(state->campaigns[i].counts == stored_counts[i])) {
      if (Status p = problem(0, 0, "view_damaged",
                             fmt::format("the stored counts of campaign '{}' do not match its leads",
                                         state->campaigns[i].info.name));
          !p.ok()) {
        return p;
      }
    }
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snap, dnc_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string phone, reason;
      DncMark mark;
      uint64_t number = 0;
      Status s = DecodeDncView(it->value().ToStringView(), &phone, &mark, &reason);
      if (!s.ok() || phone != it->key().ToStringView() || !PhoneToInt(phone, &number) || mark.seq > cp.seq) {
        if (Status p = problem(0, 0, "view_damaged", fmt::format("do-not-call entry '{}' is damaged", it->key().ToStringView()));
            !p.ok()) {
          return p;
        }
        continue;
      }
      state->dnc.emplace(number, mark);
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the do-not-call view");
  }
  if (state->dnc.size() != cp.dnc_phones) {
    if (Status p = problem(0, 0, "view_damaged",
                           fmt::format("the checkpoint counts {} do-not-call phones, the view holds {}", cp.dnc_phones,
                                       state->dnc.size()));
        !p.ok()) {
      return p;
    }
  }
  state->last_seq = cp.seq;
  state->last_ts = cp.ts;
  state->head = cp.hash;
  state->RebuildQueues();
  *found = true;
  return Status::OK();
}

namespace {

// Records read from the log by the reader thread of a replay: raw bytes with
// their key and hash, so that the applying thread only decodes and applies.
struct RawRecords {
  struct Entry {
    SeqNo seq = 0;
    bool key_ok = true;
    size_t offset = 0;
    size_t size = 0;
    Hash32 hash{};
  };
  std::string bytes;
  std::vector<Entry> entries;
  bool last = false;       // nothing follows (end of log, `to` reached, or error)
  bool chunk_end = false;  // the last batch of its chunk (see ReplayInto)
  Status status;
};

// A bounded hand-off between the two threads of a replay.
class RawQueue {
 public:
  // Room for a reader's whole next chunk (32 batches of at most 1024 records
  // or 1 MiB; about 6 MiB for the workloads' records) while the applier
  // takes the other reader's: with 4, a reader waited most of the time and
  // the two read in turns (full verify of 10M events: 6.0-6.2 s -> 4.7 s).
  static constexpr size_t kDepth = 40;
  void Push(std::unique_ptr<RawRecords> r) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return q_.size() < kDepth || closed_; });
    if (closed_) return;
    q_.push_back(std::move(r));
    cv_.notify_all();
  }
  std::unique_ptr<RawRecords> Pop() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !q_.empty(); });
    auto r = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return r;
  }
  // The consumer stops early: the producer's pushes return at once.
  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  bool closed() {
    std::lock_guard<std::mutex> l(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<RawRecords>> q_;
  bool closed_ = false;
};

}  // namespace

// Two threads: one reads the log and hashes each record (RocksDB iteration
// and SHA-256 are half the cost), the other decodes and applies, so a replay
// uses both cores. The state is only touched by the calling thread.
Status StoreImpl::ReplayInto(State* state, SeqNo from, SeqNo to, Timestamp until_ts,
                             std::vector<AuditProblem>* problems, uint64_t* records, bool report_progress,
                             const rocksdb::Snapshot* snapshot) const {
  // Where the log ends now: plans the readers' chunks and the progress bar.
  SeqNo last_in_log = 0;
  {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
    it->SeekToLast();
    if (it->Valid()) keys::DecodeSeq(it->key().ToStringView(), &last_in_log);
  }
  // Reading a record and hashing it costs about as much as decoding and
  // applying it, so a long replay splits the reading between two threads:
  // the seq range is cut into chunks of kChunk records, reader r reads
  // chunks r, r + kReaders, ... and hashes them, and this thread applies the
  // chunks in order, taking each from its reader's queue. A short one (and
  // one whose end is unknown) has one reader and one chunk. Every chunk but
  // the last ends before the first well-formed key at or past its end; the
  // last one runs to `to` or the end of the log, so every key from `from` on,
  // malformed ones included, is handed over exactly once, in key order.
  constexpr SeqNo kChunk = SeqNo{1} << 15;
  static_assert(kChunk / 1024 < RawQueue::kDepth, "a reader can read ahead a whole chunk");
  constexpr unsigned kReaders = 2;
  const SeqNo end = std::min(to, last_in_log);
  const uint64_t chunks = end >= from ? (end - from) / kChunk + 1 : 1;
  const unsigned readers = chunks >= 2 * kReaders ? kReaders : 1;
  std::vector<RawQueue> queues(readers);
  // Applied batches go back to their reader: a fresh 1 MiB buffer per batch
  // would be fresh pages from the kernel each time (zeroing them was a tenth
  // of a replay's CPU).
  struct Spare {
    std::mutex mu;
    std::vector<std::unique_ptr<RawRecords>> batches;
  };
  std::vector<Spare> spares(readers);
  auto fresh_batch = [&](unsigned r) {
    std::lock_guard<std::mutex> l(spares[r].mu);
    if (spares[r].batches.empty()) return std::make_unique<RawRecords>();
    std::unique_ptr<RawRecords> b = std::move(spares[r].batches.back());
    spares[r].batches.pop_back();
    b->bytes.clear();
    b->entries.clear();
    b->last = b->chunk_end = false;
    b->status = Status::OK();
    return b;
  };
  auto read = [&](unsigned r) {
    Sha256 sha;
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    ro.fill_cache = false;
    ro.readahead_size = 4 << 20;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
    RawQueue& queue = queues[r];
    for (uint64_t c = r; c < (readers == 1 ? 1 : chunks); c += readers) {
      const SeqNo lo = from + c * kChunk;
      const bool final_chunk = readers == 1 || c == chunks - 1;
      const SeqNo hi = lo + kChunk;  // exclusive; not for the final chunk
      auto batch = fresh_batch(r);
      bool stop = false;
      for (it->Seek(S(keys::Seq(lo))); it->Valid(); it->Next()) {
        RawRecords::Entry e;
        e.key_ok = keys::DecodeSeq(it->key().ToStringView(), &e.seq);
        if (e.key_ok && e.seq > to) break;
        if (e.key_ok && !final_chunk && e.seq >= hi) break;
        std::string_view bytes = it->value().ToStringView();
        e.offset = batch->bytes.size();
        e.size = bytes.size();
        e.hash = sha.Of(bytes);
        batch->bytes.append(bytes);
        batch->entries.push_back(e);
        if (batch->entries.size() == 1024 || batch->bytes.size() > (1 << 20)) {
          if (queue.closed()) return;
          queue.Push(std::move(batch));
          batch = fresh_batch(r);
        }
      }
      batch->status = FromRocks(it->status(), "cannot read the log");
      batch->chunk_end = true;
      batch->last = final_chunk || !batch->status.ok();
      stop = batch->last;
      queue.Push(std::move(batch));
      if (stop) return;
    }
  };
  std::vector<std::thread> reader_threads;
  for (unsigned r = 0; r < readers; ++r) reader_threads.emplace_back(read, r);

  SeqNo expected = from;
  uint64_t count = 0;
  auto problem = [&](SeqNo seq, LeadId lead, std::string_view rule, const std::string& detail) -> Status {
    if (problems == nullptr) {
      return Status::Corruption(fmt::format("log record {}: {}", seq, detail));
    }
    problems->push_back({seq, lead, std::string(rule), detail});
    return Status::OK();
  };
  // Processes one record; false stops the replay (with *result set).
  auto process = [&](const RawRecords& batch, const RawRecords::Entry& raw, Status* result) -> bool {
    SeqNo seq = raw.seq;
    if (!raw.key_ok) {
      *result = problem(expected, 0, "bad_key", "a log key is not 8 bytes");
      return result->ok();
    }
    std::string_view bytes(batch.bytes.data() + raw.offset, raw.size);
    if (seq != expected) {
      *result = problem(seq, 0, "dense_seq",
                        fmt::format("records {}..{} are missing: the sequence must be dense", expected, seq - 1));
      if (!result->ok()) return false;
    }
    expected = seq + 1;
    DecodedRecord rec;
    if (Status s = DecodeRecord(bytes, &rec); !s.ok()) {
      *result = problem(seq, 0, "undecodable_record", s.message());
      state->head = raw.hash;
      state->last_seq = seq;
      return result->ok();
    }
    if (rec.ts > until_ts) return false;
    if (rec.seq != seq) {
      *result = problem(seq, rec.event.lead, "seq_mismatch",
                        fmt::format("record stored under key {} says it is record {}", seq, rec.seq));
      if (!result->ok()) return false;
    }
    if (rec.prev_hash != state->head) {
      *result = problem(seq, rec.event.lead, "hash_chain",
                        "its prev_hash is not the hash of the record before it: the log was altered");
      if (!result->ok()) return false;
    }
    std::string_view rule;
    Status applied = Apply(*state, rec.event, seq, rec.ts, &rule);
    if (!applied.ok()) {
      *result = problem(seq, rec.event.lead, rule, applied.message());
      if (!result->ok()) return false;
      state->last_seq = seq;
    }
    state->head = raw.hash;
    ++count;
    if (report_progress && options_.progress && (count & 0xffff) == 0) options_.progress(seq, last_in_log);
    return true;
  };

  Status result;
  bool more = true;
  for (uint64_t chunk = 0; more; ++chunk) {
    std::unique_ptr<RawRecords> batch = queues[chunk % readers].Pop();
    for (const RawRecords::Entry& raw : batch->entries) {
      if (!process(*batch, raw, &result)) {
        more = false;
        break;
      }
    }
    if (batch->last) {
      if (result.ok()) result = batch->status;
      more = false;
    }
    const unsigned r = static_cast<unsigned>(chunk % readers);
    if (more && !batch->chunk_end) --chunk;  // more batches of this chunk follow
    std::lock_guard<std::mutex> l(spares[r].mu);
    if (spares[r].batches.size() < 8) spares[r].batches.push_back(std::move(batch));
  }
  for (RawQueue& q : queues) q.Close();
  for (std::thread& t : reader_threads) t.join();
  if (!result.ok()) return result;
  if (records != nullptr) *records = count;
  if (report_progress && options_.progress) options_.progress(last_in_log, last_in_log);
  return Status::OK();
}

Status StoreImpl::LoadState() {
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  bool found = false;
  if (options_.on_damaged_views == Options::DamagedViews::kFail) {
    if (Status s = LoadCheckpoint(&state_, &found, nullptr); !s.ok()) return s;
  }
  if (!found) {
    state_ = State();
    views_from_full_replay_ = true;
  } else {
    // Loaded rows are what the checkpoint holds: not dirty.
    state_.dirty_leads.clear();
    state_.dirty_dnc.clear();
    state_.history_tail.clear();
  }
  uint64_t replayed = 0;
  // Opened for an audit or a repair, a damaged log must not stop the open:
  // its problems are skipped here and reported by Verify; Rebuild refuses.
  std::vector<AuditProblem> tolerated;
  bool tolerant = options_.on_damaged_views == Options::DamagedViews::kReplayLog;
  if (Status s = ReplayInto(&state_, state_.last_seq + 1, UINT64_MAX, INT64_MAX, tolerant ? &tolerated : nullptr,
                            &replayed, true);
      !s.ok()) {
    return s;
  }
  events_since_checkpoint_ = replayed;
  checkpoints_enabled_ = !tolerant;
  return Status::OK();
}

Status StoreImpl::ReloadStateLocked() {
  State fresh;
  bool found = false;
  if (Status s = LoadCheckpoint(&fresh, &found, nullptr); !s.ok()) return s;
  if (found) {
    fresh.dirty_leads.clear();
    fresh.dirty_dnc.clear();
    fresh.history_tail.clear();
  }
  if (Status s = ReplayInto(&fresh, fresh.last_seq + 1, UINT64_MAX, INT64_MAX, nullptr, nullptr, false); !s.ok()) {
    return s;
  }
  state_ = std::move(fresh);
  views_from_full_replay_ = !found;
  history_in_flight_.clear();
  return Status::OK();
}

Status StoreImpl::CatchUp() {
  if (!options_.read_only) return Status::OK();
  rocksdb::Status s = db_->TryCatchUpWithPrimary();
  if (!s.ok()) return FromRocks(s, "cannot catch up with the writer");
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  return ReplayInto(&state_, state_.last_seq + 1, UINT64_MAX, INT64_MAX, nullptr, nullptr, false);
}

// ---------------------------------------------------------------- group commit

Timestamp StoreImpl::ClockNow() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

Status CheckTimeRange(Timestamp now) {
  if (now == kClockNow || (now >= 0 && now <= kMaxTime)) return Status::OK();
  return Status::InvalidArgument(
      fmt::format("time {} is outside 1970-01-01..9999-12-31", now < 0 ? "before 1970" : "after 9999"));
}

}  // namespace

Status Batch::Time(Timestamp now, Timestamp* ts) {
  if (Status s = CheckTimeRange(now); !s.ok()) return s;
  if (now == kClockNow) now = store_->ClockNow();
  if (Status s = CheckTimeRange(now); !s.ok()) return s;
  *ts = std::max(now, store_->state_.last_ts);
  return Status::OK();
}

State& Batch::state() { return store_->state_; }

Status Batch::Append(const Event& event, Timestamp ts, const LeadProfile* profile) {
  State& state = store_->state_;
  SeqNo seq = state.last_seq + 1;
  Hash32 prev = state.head;
  if (Status s = Apply(state, event, seq, ts); !s.ok()) return s;
  std::string_view bytes = store_->encoder_.Encode(seq, ts, prev, event, profile);
  state.head = store_->sha_.Of(bytes);
  wb_->Put(store_->log_cf_, S(keys::Seq(seq)), S(bytes));
  ++events_;
  return Status::OK();
}

Status StoreImpl::CheckWritable() const {
  if (options_.read_only) {
    return Status::ReadOnly(fmt::format("{} is open read-only; this change needs the writer", path_));
  }
  return Status::OK();
}

Status StoreImpl::Commit(const std::function<Status(Batch&)>& op, size_t bytes) {
  if (Status s = CheckWritable(); !s.ok()) return s;
  WriteQueue::Writer w(&op, bytes);
  if (!write_queue_.Join(&w)) return w.status;

  // This thread leads: it takes every writer waiting now, applies their ops in
  // arrival order and commits them in one WriteBatch (one fsync when synced).
  std::vector<WriteQueue::Writer*> group;
  write_queue_.TakeGroup(&group);

  size_t reserve = 0;
  for (const WriteQueue::Writer* member : group) reserve += member->bytes;
  // A batch grown by doubling to an import's size copied it over and over:
  // that was half of an import's serial time.
  rocksdb::WriteBatch wb(reserve);
  size_t events_before = 0;
  size_t taken = 0;
  {
    std::unique_lock<std::shared_mutex> sl(state_mu_);
    Batch batch(this, &wb);
    for (WriteQueue::Writer* member : group) {
      if (taken > 0 && batch.events() >= options_.max_group_events) break;
      ++taken;
      if (!bg_error_.ok()) {
        member->status = bg_error_;
        continue;
      }
      size_t before = batch.events();
      member->status = (*static_cast<const std::function<Status(Batch&)>*>(member->op))(batch);
      // An op that fails must have appended nothing (ops check everything
      // that can fail before their first Append); anything else would leave
      // memory ahead of what the caller was told.
      if (!member->status.ok() && batch.events() != before) {
        bg_error_ = Status::Corruption("internal error: a failed operation appended events; reopen the store");
        ReloadStateLocked();
        break;
      }
    }
    if (!bg_error_.ok()) {
      // Nothing of this group is written: no member may be told otherwise.
      for (size_t i = 0; i < taken; ++i) {
        if (group[i]->status.ok()) group[i]->status = bg_error_;
      }
    }
    if (batch.events() > 0 && bg_error_.ok()) {
      rocksdb::WriteOptions wo;
      wo.sync = options_.durability == Durability::kSynced;
      rocksdb::Status s = db_->Write(wo, &wb);
      if (!s.ok()) {
        // Memory already holds the group's events: refuse everything until a
        // reopen rebuilds the state from what the log really holds.
        bg_error_ = FromRocks(s, "cannot write to the log (the store refuses writes until reopened)");
        for (size_t i = 0; i < taken; ++i) {
          if (group[i]->status.ok()) group[i]->status = bg_error_;
        }
        // Memory holds events the log does not: derive the views from the
        // log again so that readers keep seeing exactly what is committed.
        ReloadStateLocked();
      }
    }
    events_since_checkpoint_ += batch.events();
    events_before = events_since_checkpoint_;
  }
  if (options_.checkpoint_every_events > 0 && events_before >= options_.checkpoint_every_events) {
    {
      std::lock_guard<std::mutex> l(cp_signal_mu_);
      cp_requested_ = true;
    }
    cp_signal_.notify_one();
  }
  Status mine = w.status;  // w is group[0]: FinishGroup does not touch it
  write_queue_.FinishGroup(group, taken);
  return mine;
}

// ---------------------------------------------------------------- checkpoints

void StoreImpl::CheckpointLoop() {
  std::unique_lock<std::mutex> l(cp_signal_mu_);
  while (true) {
    cp_signal_.wait(l, [this] { return cp_requested_ || shutting_down_; });
    if (shutting_down_) return;
    cp_requested_ = false;
    l.unlock();
    // A failed checkpoint loses nothing (the log has every event); the next
    // one, or the next open, makes up for it.
    if (checkpoints_enabled_) WriteCheckpoint(false);
    l.lock();
  }
}

Status StoreImpl::Checkpoint() {
  if (Status s = CheckWritable(); !s.ok()) return s;
  return WriteCheckpoint(false);
}

Status StoreImpl::Rebuild() {
  if (Status s = CheckWritable(); !s.ok()) return s;
  // No background checkpoint may run between deriving the views and writing
  // them: it would consume the rebuilt history that the full write needs.
  std::lock_guard<std::mutex> cp_lock(checkpoint_mu_);
  {
    // Derive every view from the whole log, whatever was loaded at open.
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    if (!bg_error_.ok()) return bg_error_;
    State fresh;
    if (Status s = ReplayInto(&fresh, 1, UINT64_MAX, INT64_MAX, nullptr, nullptr, true); !s.ok()) return s;
    fresh.track_changes = true;
    state_ = std::move(fresh);
    history_in_flight_.clear();
    views_from_full_replay_ = true;
    events_since_checkpoint_ = 0;
  }
  checkpoints_enabled_ = true;
  return WriteCheckpointLocked(true);
}

namespace {

// A checkpoint or a large import frees tens to hundreds of MiB at once (the
// rows it copied, the WriteBatch it built). glibc keeps such freed memory in
// its arenas for reuse rather than giving it back, so a dialer process's
// resident set would stay at its high-water mark; hand it back instead.
void ReleaseFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

Status StoreImpl::WriteCheckpoint(bool full) {
  std::lock_guard<std::mutex> cp_lock(checkpoint_mu_);
  Status s = WriteCheckpointLocked(full);
  ReleaseFreedMemory();
  return s;
}

namespace {

// Groups a checkpoint's (lead, seq) pairs into history index entries: one run
// per lead (keys.h), split at kMaxLeadEventRun records. Sorts `history`.
template <class Fn>
void ForEachLeadEventRun(std::vector<std::pair<LeadId, SeqNo>>* history, Fn&& put) {
  std::sort(history->begin(), history->end());
  history->erase(std::unique(history->begin(), history->end()), history->end());
  std::vector<SeqNo> run;
  for (size_t i = 0; i < history->size();) {
    const LeadId lead = (*history)[i].first;
    run.clear();
    while (i < history->size() && (*history)[i].first == lead && run.size() < keys::kMaxLeadEventRun) {
      run.push_back((*history)[i++].second);
    }
    put(lead, run);
  }
}

}  // namespace

Status StoreImpl::WriteCheckpointLocked(bool full) {
  CheckpointInfo info;
  std::vector<std::pair<LeadId, LeadRow>> rows;
  std::vector<std::string> campaigns;
  std::vector<std::pair<uint64_t, DncMark>> dnc;
  std::vector<std::pair<LeadId, SeqNo>> history;
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    if (!bg_error_.ok()) return bg_error_;
    full = full || views_from_full_replay_;
    if (!full && state_.dirty_leads.empty() && state_.history_tail.empty() && state_.dirty_dnc.empty() &&
        events_since_checkpoint_ == 0) {
      return Status::OK();
    }
    info.seq = state_.last_seq;
    info.hash = state_.head;
    info.ts = state_.last_ts;
    info.next_lead = state_.next_lead();
    info.next_campaign = state_.next_campaign();
    info.leads = state_.leads.size();
    info.dnc_phones = state_.dnc.size();
    info.leads_digest = state_.leads_digest;
    if (full) {
      rows.reserve(state_.leads.size());
      for (LeadId id = 1; id <= state_.leads.size(); ++id) rows.emplace_back(id, state_.leads[id - 1]);
      for (const auto& [phone, mark] : state_.dnc) dnc.emplace_back(phone, mark);
    } else {
      rows.reserve(state_.dirty_leads.size());
      for (LeadId id : state_.dirty_leads) rows.emplace_back(id, state_.leads[id - 1]);
      for (uint64_t phone : state_.dirty_dnc) dnc.emplace_back(phone, state_.dnc.at(phone));
    }
    for (LeadId id : state_.dirty_leads) state_.leads[id - 1].flags &= static_cast<uint8_t>(~LeadRow::kDirty);
    state_.dirty_leads.clear();
    state_.dirty_dnc.clear();
    for (const CampaignState& c : state_.campaigns) campaigns.push_back(EncodeCampaignView(c));
    history.swap(state_.history_tail);
    history_in_flight_.insert(history_in_flight_.end(), history.begin(), history.end());
    views_from_full_replay_ = false;
    events_since_checkpoint_ = 0;
  }

  auto fail = [&](Status s) {
    // Put the work back so the next checkpoint writes it.
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    views_from_full_replay_ = views_from_full_replay_ || full;
    for (auto& [id, row] : rows) state_.MarkDirty(id);
    for (auto& [phone, mark] : dnc) state_.dirty_dnc.push_back(phone);
    state_.history_tail.insert(state_.history_tail.begin(), history.begin(), history.end());
    history_in_flight_.clear();
    return s;
  };

  rocksdb::WriteOptions wo;
  wo.sync = options_.durability == Durability::kSynced;
  std::string reason_bytes;
  auto dnc_value = [&](uint64_t phone, const DncMark& mark, std::string* out) -> Status {
    LoggedEvent ev;
    if (Status s = ReadRecord(mark.seq, &reason_bytes); !s.ok()) return s;
    if (Status s = DecodeLoggedEvent(reason_bytes, &ev); !s.ok()) return s;
    *out = EncodeDncView(PhoneToString(phone), mark, ev.reason);
    return Status::OK();
  };

  if (full) {
    // Without a checkpoint record, an open replays the whole log: removing it
    // first makes every crash point below safe.
    rocksdb::WriteBatch clear;
    clear.Delete(meta_cf_, S(keys::kMetaCheckpoint));
    std::string hi(17, '\xff');  // above every key of these families (at most 16 bytes, or "+digits")
    for (auto* cf : {leads_cf_, campaigns_cf_, dnc_cf_, lead_events_cf_}) clear.DeleteRange(cf, rocksdb::Slice(), S(hi));
    if (rocksdb::Status s = db_->Write(wo, &clear); !s.ok()) return fail(FromRocks(s, "checkpoint"));
    const size_t kChunk = 100000;
    rocksdb::WriteBatch wb;
    auto flush = [&]() -> Status {
      if (wb.Count() == 0) return Status::OK();
      rocksdb::Status s = db_->Write(wo, &wb);
      wb.Clear();
      return FromRocks(s, "checkpoint");
    };
    for (auto& [id, row] : rows) {
      wb.Put(leads_cf_, S(keys::Lead(id)), EncodeLeadView(id, row));
      if (wb.Count() >= kChunk) {
        if (Status s = flush(); !s.ok()) return fail(s);
      }
    }
    Status put_failed;
    ForEachLeadEventRun(&history, [&](LeadId lead, const std::vector<SeqNo>& run) {
      wb.Put(lead_events_cf_, S(keys::LeadEvent(lead, run[0])), keys::EncodeLeadEventRun(run.data(), run.size()));
      if (wb.Count() >= kChunk && put_failed.ok()) put_failed = flush();
    });
    if (!put_failed.ok()) return fail(put_failed);
    for (auto& [phone, mark] : dnc) {
      std::string v;
      if (Status s = dnc_value(phone, mark, &v); !s.ok()) return fail(s);
      wb.Put(dnc_cf_, S(PhoneToString(phone)), v);
    }
    if (Status s = flush(); !s.ok()) return fail(s);
  }
  // Sized up front: a batch of a million lead views grown by doubling holds
  // the old and the new buffer at once, the peak of a checkpoint's memory.
  // A lead view is 80 bytes, its key 8, RocksDB's framing 4; a history run
  // is a 16-byte key and a few bytes of gaps.
  size_t reserve = 64;
  if (!full) reserve += rows.size() * 96 + history.size() * 24 + dnc.size() * 64;
  for (const std::string& c : campaigns) reserve += c.size() + 16;
  rocksdb::WriteBatch wb(reserve);
  if (!full) {
    for (auto& [id, row] : rows) wb.Put(leads_cf_, S(keys::Lead(id)), EncodeLeadView(id, row));
    ForEachLeadEventRun(&history, [&](LeadId lead, const std::vector<SeqNo>& run) {
      wb.Put(lead_events_cf_, S(keys::LeadEvent(lead, run[0])), keys::EncodeLeadEventRun(run.data(), run.size()));
    });
    for (auto& [phone, mark] : dnc) {
      std::string v;
      if (Status s = dnc_value(phone, mark, &v); !s.ok()) return fail(s);
      wb.Put(dnc_cf_, S(PhoneToString(phone)), v);
    }
  }
  for (size_t i = 0; i < campaigns.size(); ++i) {
    wb.Put(campaigns_cf_, S(keys::CampaignKey(static_cast<CampaignId>(i + 1))), campaigns[i]);
  }
  wb.Put(meta_cf_, S(keys::kMetaCheckpoint), EncodeCheckpoint(info));
  if (rocksdb::Status s = db_->Write(wo, &wb); !s.ok()) return fail(FromRocks(s, "checkpoint"));
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  history_in_flight_.clear();
  return Status::OK();
}

// ---------------------------------------------------------------- reads

Status StoreImpl::FetchProfile(SeqNo added_seq, LeadProfile* profile, Timestamp* added) const {
  std::string bytes;
  if (Status s = ReadRecord(added_seq, &bytes); !s.ok()) return s;
  return DecodeProfile(bytes, profile, added);
}

LeadInfo StoreImpl::InfoOf(LeadId id, const LeadRow& row) const {
  LeadInfo info;
  info.id = id;
  info.campaign = row.campaign;
  info.campaign_name = state_.campaigns[row.campaign - 1].info.name;
  info.status = row.status;
  info.attempts = row.attempt;
  info.attempts_used = row.attempts_used();
  const CampaignSettings& settings = state_.campaigns[row.campaign - 1].info.settings;
  if (row.call_open()) {
    info.lease_until = row.when;
  } else if (row.status == LeadStatus::kPending) {
    info.due = row.when;
  } else if (settings.RetryDelay(row.status) != kNever && row.attempts_used() < settings.max_attempts) {
    // A retry the settings in force have since stopped is not due.
    info.due = row.when;
  }
  info.profile.phone = PhoneToString(row.phone);
  return info;
}

Status StoreImpl::FillProfile(LeadInfo* info, SeqNo seq) const {
  LeadProfile profile;
  Timestamp added = 0;
  // A lead whose lead_added record is damaged is not served with a blank
  // profile: that would hide the corruption from the dialer and the operator.
  if (Status s = FetchProfile(seq, &profile, &added); !s.ok()) {
    return Status::Corruption(fmt::format("lead {}: its lead_added record {} is damaged: {}", info->id, seq, s.message()));
  }
  info->profile = std::move(profile);
  info->added = added;
  return Status::OK();
}

Result<Campaign> StoreImpl::GetCampaign(std::string_view name) const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  const CampaignState* c = state_.campaign(name);
  if (c == nullptr) return Status::NotFound(fmt::format("no campaign named '{}'", name));
  return c->info;
}

std::vector<Campaign> StoreImpl::ListCampaigns() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  std::vector<Campaign> out;
  for (const CampaignState& c : state_.campaigns) out.push_back(c.info);
  return out;
}

Result<LeadInfo> StoreImpl::GetLead(LeadId id) const {
  LeadInfo info;
  SeqNo added_seq = 0;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    const LeadRow* row = state_.lead(id);
    if (row == nullptr) return Status::NotFound(fmt::format("no lead with id {}", id));
    info = InfoOf(id, *row);
    added_seq = row->added_seq;
  }
  if (Status p = FillProfile(&info, added_seq); !p.ok()) return p;
  return info;
}

Result<std::vector<LeadInfo>> StoreImpl::FindLeadsByPhone(std::string_view phone, std::string_view region) const {
  Result<std::string> e164 = NormalizePhone(phone, region);
  if (!e164.ok()) return e164.status();
  uint64_t number = 0;
  PhoneToInt(*e164, &number);
  std::vector<LeadInfo> out;
  std::vector<SeqNo> added;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    state_.phones.ForEach(number, state_.leads, [&](LeadId id) {
      out.push_back(InfoOf(id, state_.leads[id - 1]));
      added.push_back(state_.leads[id - 1].added_seq);
    });
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (Status p = FillProfile(&out[i], added[i]); !p.ok()) return p;
  }
  return out;
}

Result<bool> StoreImpl::IsDoNotCall(std::string_view phone, std::string_view region) const {
  Result<std::string> e164 = NormalizePhone(phone, region);
  if (!e164.ok()) return e164.status();
  uint64_t number = 0;
  PhoneToInt(*e164, &number);
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return state_.dnc.count(number) > 0;
}

Result<DncEntry> StoreImpl::GetDoNotCall(std::string_view phone, std::string_view region) const {
  Result<std::string> e164 = NormalizePhone(phone, region);
  if (!e164.ok()) return e164.status();
  uint64_t number = 0;
  PhoneToInt(*e164, &number);
  DncMark mark;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    auto it = state_.dnc.find(number);
    if (it == state_.dnc.end()) return Status::NotFound(fmt::format("{} is not on the do-not-call list", *e164));
    mark = it->second;
  }
  DncEntry entry{*e164, mark.ts, mark.seq, ""};
  std::string bytes;
  LoggedEvent ev;
  if (ReadRecord(mark.seq, &bytes).ok() && DecodeLoggedEvent(bytes, &ev).ok()) entry.reason = ev.reason;
  return entry;
}

Result<StatusCounts> StoreImpl::Counts(std::string_view campaign) const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  const CampaignState* c = state_.campaign(campaign);
  if (c == nullptr) return Status::NotFound(fmt::format("no campaign named '{}'", campaign));
  return c->counts;
}

std::vector<CampaignCounts> StoreImpl::AllCounts() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  std::vector<CampaignCounts> out;
  for (const CampaignState& c : state_.campaigns) out.push_back({c.info, c.counts});
  return out;
}

Digest StoreImpl::Head() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  Digest d;
  d.seq = state_.last_seq;
  d.hash = state_.head;
  return d;
}

SeqNo StoreImpl::LastSeq() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return state_.last_seq;
}

size_t StoreImpl::ApproximateViewMemory() const {
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  return state_.MemoryBytes();
}

Status StoreImpl::ScanLog(const LogFilter& filter, const std::function<bool(const LoggedEvent&)>& fn) const {
  SeqNo last = LastSeq();  // what the views reflect; newer records are not ours yet
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  for (it->Seek(S(keys::Seq(std::max<SeqNo>(filter.from, 1)))); it->Valid(); it->Next()) {
    SeqNo seq = 0;
    if (!keys::DecodeSeq(it->key().ToStringView(), &seq)) return Status::Corruption("a log key is not 8 bytes");
    if (seq > filter.to || seq > last) break;
    LoggedEvent ev;
    if (Status s = DecodeLoggedEvent(it->value().ToStringView(), &ev); !s.ok()) {
      return Status::Corruption(fmt::format("log record {}: {}", seq, s.message()));
    }
    if (filter.campaign != 0 && ev.campaign != filter.campaign) {
      // lead_added carries its campaign; do-not-call of a phone has none.
      continue;
    }
    if (filter.lead != 0 && ev.lead != filter.lead) continue;
    if (!filter.any_type && ev.type != filter.type) continue;
    if (!fn(ev)) break;
  }
  return FromRocks(it->status(), "cannot read the log");
}

Status StoreImpl::History(LeadId lead, std::vector<LoggedEvent>* events) const {
  std::vector<SeqNo> seqs;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    const LeadRow* row = state_.lead(lead);
    if (row == nullptr) return Status::NotFound(fmt::format("no lead with id {}", lead));
    seqs.push_back(row->added_seq);  // not in the index: the row holds it
    for (const auto& [id, seq] : state_.history_tail) {
      if (id == lead) seqs.push_back(seq);
    }
    for (const auto& [id, seq] : history_in_flight_) {
      if (id == lead) seqs.push_back(seq);
    }
    // Read the index under the lock too, so a checkpoint cannot move entries
    // between the two sources while we look.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), lead_events_cf_));
    auto prefix = keys::Lead(lead);
    std::vector<SeqNo> run;
    for (it->Seek(S(prefix)); it->Valid() && it->key().starts_with(S(prefix)); it->Next()) {
      LeadId id = 0;
      SeqNo first = 0;
      run.clear();
      if (!keys::DecodeLeadEvent(it->key().ToStringView(), &id, &first) ||
          !keys::DecodeLeadEventRun(first, it->value().ToStringView(), &run)) {
        return Status::Corruption(fmt::format("the history index entry of lead {} is damaged; run `leadlog rebuild`",
                                              lead));
      }
      for (SeqNo seq : run) {
        if (seq <= state_.last_seq) seqs.push_back(seq);
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the history index");
  }
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  events->clear();
  std::string bytes;
  for (SeqNo seq : seqs) {
    if (Status s = ReadRecord(seq, &bytes); !s.ok()) return s;
    LoggedEvent ev;
    if (Status s = DecodeLoggedEvent(bytes, &ev); !s.ok()) {
      return Status::Corruption(fmt::format("log record {}: {}", seq, s.message()));
    }
    events->push_back(std::move(ev));
  }
  return Status::OK();
}

Result<std::vector<CampaignCounts>> StoreImpl::Replay(const ReplayTarget& target) const {
  State fresh;
  fresh.track_changes = false;
  if (Status s = ReplayInto(&fresh, 1, target.until_seq, target.until_ts, nullptr, nullptr, true); !s.ok()) return s;
  std::vector<CampaignCounts> out;
  for (const CampaignState& c : fresh.campaigns) out.push_back({c.info, c.counts});
  return out;
}

// ---------------------------------------------------------------- writes

Result<Campaign> StoreImpl::CreateCampaign(const std::string& name, const CampaignSettings& settings, Timestamp now) {
  Campaign out;
  Status s = Commit([&](Batch& b) -> Status {
    Timestamp ts;
    if (Status t = b.Time(now, &ts); !t.ok()) return t;
    Event e;
    e.type = EventType::kCampaignCreated;
    e.campaign = b.state().next_campaign();
    e.name = name;
    e.settings = settings;
    if (Status a = b.Append(e, ts); !a.ok()) return a;
    out = b.state().campaigns.back().info;
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

Result<Campaign> StoreImpl::UpdateCampaign(const std::string& name, const CampaignSettings& settings, Timestamp now) {
  Campaign out;
  Status s = Commit([&](Batch& b) -> Status {
    Timestamp ts;
    if (Status t = b.Time(now, &ts); !t.ok()) return t;
    const CampaignState* c = b.state().campaign(name);
    if (c == nullptr) return Status::NotFound(fmt::format("no campaign named '{}'", name));
    Event e;
    e.type = EventType::kCampaignUpdated;
    e.campaign = c->info.id;
    e.settings = settings;
    if (Status a = b.Append(e, ts); !a.ok()) return a;
    out = b.state().campaign(e.campaign)->info;
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

namespace {

// A row checked and normalized outside the lock, in parallel.
struct PreparedLead {
  bool ok = false;
  RejectReason reason = RejectReason::kMalformedRow;
  std::string detail;
  std::string phone;  // E.164
};

void PrepareLead(const LeadInput& in, const AddOptions& options, PreparedLead* out) {
  auto reject = [&](RejectReason r, std::string detail) {
    out->ok = false;
    out->reason = r;
    out->detail = std::move(detail);
  };
  auto trimmed_empty = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
  };
  if (trimmed_empty(in.phone)) return reject(RejectReason::kMissingPhone, "phone is empty");
  for (const std::string* f : {&in.phone, &in.first_name, &in.last_name, &in.email}) {
    if (!IsValidUtf8(*f)) return reject(RejectReason::kInvalidUtf8, "a field is not valid UTF-8");
  }
  if (in.first_name.size() > kMaxNameBytes || in.last_name.size() > kMaxNameBytes) {
    return reject(RejectReason::kFieldTooLong, fmt::format("a name is longer than {} bytes", kMaxNameBytes));
  }
  if (in.email.size() > kMaxEmailBytes) {
    return reject(RejectReason::kFieldTooLong, fmt::format("email is longer than {} bytes", kMaxEmailBytes));
  }
  if (!in.email.empty() && !IsPlausibleEmail(in.email)) {
    return reject(RejectReason::kInvalidEmail, fmt::format("email '{}' is not a valid address", in.email));
  }
  if (in.custom.size() > kMaxCustomFields) {
    return reject(RejectReason::kMalformedRow, fmt::format("more than {} custom fields", kMaxCustomFields));
  }
  for (const CustomField& f : in.custom) {
    if (f.key.empty() || f.key.size() > kMaxCustomKeyBytes || f.value.size() > kMaxCustomValueBytes) {
      return reject(RejectReason::kFieldTooLong, fmt::format("custom field '{}' is empty or too long", f.key.substr(0, 64)));
    }
    if (!IsValidUtf8(f.key) || !IsValidUtf8(f.value)) {
      return reject(RejectReason::kInvalidUtf8, fmt::format("custom field '{}' is not valid UTF-8", f.key.substr(0, 64)));
    }
  }
  Result<std::string> e164 = NormalizePhone(in.phone, options.default_region);
  if (!e164.ok()) return reject(RejectReason::kInvalidPhone, e164.status().message());
  out->ok = true;
  out->phone = std::move(*e164);
}

}  // namespace

Result<AddLeadsResult> StoreImpl::AddLeads(const std::string& campaign, const std::vector<LeadInput>& leads,
                                           const AddOptions& options, Timestamp now) {
  if (Status s = CheckWritable(); !s.ok()) return s;
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    if (state_.campaign(campaign) == nullptr) return Status::NotFound(fmt::format("no campaign named '{}'", campaign));
  }
  if (!options.default_region.empty()) {
    // A bad region is the caller's mistake, not every row's.
    Result<std::string> probe = NormalizePhone("+14155552671", options.default_region);
    if (!probe.ok()) return probe.status();
  }
  // Phone validation dominates an import (~17 us a number): run it on every core.
  std::vector<PreparedLead> prepared(leads.size());
  unsigned threads = options_.import_threads != 0 ? options_.import_threads : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(leads.size() / 256 + 1)));
  {
    std::atomic<size_t> next{0};
    auto work = [&] {
      constexpr size_t kStep = 256;
      for (size_t start; (start = next.fetch_add(kStep)) < leads.size();) {
        size_t end = std::min(start + kStep, leads.size());
        for (size_t i = start; i < end; ++i) PrepareLead(leads[i], options, &prepared[i]);
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }

  // What the lead_added records will take, a little over rather than under:
  // a batch that outgrows its reserve is copied whole into one twice its
  // size, while reserved pages never written are never resident. A record
  // is its strings plus ~190 bytes (WriteBatch framing 13, Record with the
  // prev hash ~80, LeadAdded table ~60, string headers and padding ~32) and
  // ~36 per custom field (its table and two string headers).
  size_t bytes = 0;
  uint64_t valid = 0;
  for (size_t i = 0; i < leads.size(); ++i) {
    if (!prepared[i].ok) continue;
    ++valid;
    const LeadInput& in = leads[i];
    bytes += 200 + prepared[i].phone.size() + in.first_name.size() + in.last_name.size() + in.email.size();
    for (const CustomField& f : in.custom) bytes += 48 + f.key.size() + f.value.size();
  }
  AddLeadsResult result;
  result.ids.assign(leads.size(), 0);
  Status s = Commit([&](Batch& b) -> Status {
    Timestamp ts;
    if (Status t = b.Time(now, &ts); !t.ok()) return t;
    const CampaignState* c = b.state().campaign(campaign);
    if (c == nullptr) return Status::NotFound(fmt::format("no campaign named '{}'", campaign));
    CampaignId cid = c->info.id;
    // Apply refuses a lead_added past LeadRow::kMaxAddedSeq; refused here,
    // before anything is appended, it is not mistaken for a duplicate below.
    if (valid > LeadRow::kMaxAddedSeq - std::min(b.state().last_seq, LeadRow::kMaxAddedSeq)) {
      return Status::NotSupported(fmt::format("the log is at record {}: {} more leads would pass record {}, the last "
                                              "a lead can be added at",
                                              b.state().last_seq, valid, LeadRow::kMaxAddedSeq));
    }
    LeadProfile profile;
    for (size_t i = 0; i < leads.size(); ++i) {
      PreparedLead& p = prepared[i];
      if (!p.ok) {
        result.rejects.push_back({i, p.reason, std::move(p.detail)});
        continue;
      }
      uint64_t number = 0;
      PhoneToInt(p.phone, &number);
      Event e;
      e.type = EventType::kLeadAdded;
      e.lead = b.state().next_lead();
      e.campaign = cid;
      e.phone = p.phone;
      e.status = b.state().dnc.count(number) ? LeadStatus::kDoNotCall : LeadStatus::kPending;
      const LeadInput& in = leads[i];
      profile.first_name = in.first_name;
      profile.last_name = in.last_name;
      profile.email = in.email;
      profile.custom = in.custom;
      Status a = b.Append(e, ts, &profile);
      if (!a.ok()) {
        // Only a duplicate can be refused here: everything else was checked.
        result.rejects.push_back({i, RejectReason::kDuplicate, a.message()});
        continue;
      }
      result.ids[i] = e.lead;
      ++result.imported;
      if (e.status == LeadStatus::kDoNotCall) ++result.do_not_call;
      if (options_.progress && (i & 0xfff) == 0) options_.progress(i, leads.size());
    }
    return Status::OK();
  }, bytes);
  if (!s.ok()) return s;
  if (options_.progress) options_.progress(leads.size(), leads.size());
  prepared = {};
  if (bytes >= (16 << 20)) ReleaseFreedMemory();
  return result;
}

Result<LeadId> StoreImpl::AddLead(const std::string& campaign, const LeadInput& lead, const AddOptions& options,
                                  Timestamp now) {
  Result<AddLeadsResult> r = AddLeads(campaign, {lead}, options, now);
  if (!r.ok()) return r.status();
  if (!r->rejects.empty()) {
    const RowReject& rej = r->rejects.front();
    std::string msg = fmt::format("{}: {}", RejectReasonName(rej.reason), rej.detail);
    if (rej.reason == RejectReason::kDuplicate) return Status::AlreadyExists(msg);
    return Status::InvalidArgument(msg);
  }
  return r->ids.front();
}

Result<std::vector<ClaimedLead>> StoreImpl::Claim(const std::string& campaign, size_t n, const std::string& dialer_id,
                                                  Timestamp now) {
  constexpr size_t kMaxClaim = 100000;
  if (n == 0 || n > kMaxClaim) {
    return Status::InvalidArgument(fmt::format("a claim takes 1 to {} leads, not {}", kMaxClaim, n));
  }
  if (dialer_id.size() > 256 || !IsValidUtf8(dialer_id)) {
    return Status::InvalidArgument("the dialer id must be valid UTF-8 of at most 256 bytes");
  }
  std::vector<ClaimedLead> out;
  std::vector<SeqNo> added;
  Status s = Commit([&](Batch& b) -> Status {
    Timestamp ts;
    if (Status t = b.Time(now, &ts); !t.ok()) return t;
    State& st = b.state();
    const CampaignState* cc = st.campaign(campaign);
    if (cc == nullptr) return Status::NotFound(fmt::format("no campaign named '{}'", campaign));
    CampaignState& c = st.campaigns[cc->info.id - 1];
    while (out.size() < n) {
      // The oldest due head of the two queues (stale heads are dropped first).
      // Apply pops the claimed lead's entry, exactly as it does in a replay.
      DropStaleQueueHeads(st, c);
      bool have_pending = !c.pending.empty() && st.leads[c.pending.front() - 1].when <= ts;
      bool have_scheduled = !c.scheduled.empty() && c.scheduled.top().due <= ts;
      if (!have_pending && !have_scheduled) break;
      bool from_pending =
          have_pending && (!have_scheduled || !(DueEntry{st.leads[c.pending.front() - 1].when, c.pending.front()} >
                                            c.scheduled.top()));
      LeadId pick = from_pending ? c.pending.front() : c.scheduled.top().lead;
      const LeadRow& row = st.leads[pick - 1];
      Event e;
      e.type = EventType::kLeadClaimed;
      e.lead = pick;
      e.campaign = c.info.id;
      e.attempt = row.attempt + 1;
      e.lease_until = ts + c.info.settings.lease;
      e.dialer = dialer_id;
      if (!b.Append(e, ts).ok()) {
        // Not claimable under the settings in force (retry turned off, budget
        // lowered): parked until the next settings update looks again.
        if (from_pending) {
          c.pending.pop_front();
        } else {
          c.parked.push_back(c.scheduled.top());
          c.scheduled.pop();
        }
        continue;
      }
      ClaimedLead cl;
      cl.lead = pick;
      cl.campaign = c.info.id;
      cl.attempt = e.attempt;
      cl.lease_until = e.lease_until;
      cl.profile.phone = PhoneToString(row.phone);
      out.push_back(std::move(cl));
      added.push_back(row.added_seq);
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  for (size_t i = 0; i < out.size(); ++i) {
    Timestamp ignored;
    if (Status p = FetchProfile(added[i], &out[i].profile, &ignored); !p.ok()) return p;
  }
  return out;
}

Result<LeadInfo> StoreImpl::Report(LeadId lead, uint32_t attempt, LeadStatus outcome, const std::string& reason,
                                   Timestamp now) {
  if (!IsOutcome(outcome)) {
    return Status::InvalidArgument(fmt::format(
        "'{}' is not an outcome; use completed, no_answer, voicemail or failed", LeadStatusName(outcome)));
  }
  if (attempt == 0) return Status::InvalidArgument("attempts are numbered from 1");
  if (Status t = CheckTimeRange(now); !t.ok()) return t;  // also on the no-op path below
  if (Status r = CheckReason(reason); !r.ok()) return r;
  LeadInfo info;
  bool moved_past = false;
  auto commit = [&](bool answer_from_log) {
    return Commit([&](Batch& b) -> Status {
      Timestamp ts;
      if (Status t = b.Time(now, &ts); !t.ok()) return t;
      const LeadRow* row = b.state().lead(lead);
      if (row == nullptr) return Status::NotFound(fmt::format("no lead with id {}", lead));
      info = InfoOf(lead, *row);
      if (answer_from_log && attempt < row->attempt) {
        // Answered below from the log, outside the commit.
        moved_past = true;
        return Status::OK();
      }
      // Dialers retry their reports: the same outcome for the same finished
      // attempt is a no-op, not an error and not a second event.
      bool duplicate = row->attempt == attempt && !row->call_open() && row->last_outcome == outcome;
      if (!duplicate) {
        Event e;
        e.type = EventType::kOutcomeReported;
        e.lead = lead;
        e.campaign = row->campaign;
        e.attempt = attempt;
        e.status = outcome;
        e.reason = reason;
        if (Status a = b.Append(e, ts); !a.ok()) return a;
      }
      info = InfoOf(lead, *b.state().lead(lead));
      return Status::OK();
    });
  };
  Status s = commit(true);
  if (s.ok() && moved_past) {
    // A retried report of an attempt the lead has moved past: attempts only
    // end once, so the log holds how it ended; agree or conflict with that.
    std::vector<LoggedEvent> events;
    if (Status h = History(lead, &events); !h.ok()) return h;
    for (const LoggedEvent& ev : events) {
      if (ev.attempt != attempt) continue;
      LeadStatus ended;
      if (ev.type == EventType::kOutcomeReported) {
        ended = ev.status;
      } else if (ev.type == EventType::kLeaseExpired) {
        ended = LeadStatus::kNoAnswer;
      } else {
        continue;
      }
      if (ended == outcome) return info;
      return Status::Conflict(fmt::format("attempt {} of lead {} already ended as {}", attempt, lead,
                                          LeadStatusName(ended)));
    }
    // No record ends that attempt: Apply refuses the report and says why.
    moved_past = false;
    s = commit(false);
  }
  if (!s.ok()) return s;
  return info;
}

Result<std::vector<LeadInfo>> StoreImpl::Expire(Timestamp now) {
  std::vector<LeadInfo> out;
  Status s = Commit([&](Batch& b) -> Status {
    Timestamp ts;
    if (Status t = b.Time(now, &ts); !t.ok()) return t;
    State& st = b.state();
    while (!st.leases.empty() && st.leases.top().until <= ts) {
      LeaseEntry entry = st.leases.top();
      st.leases.pop();
      const LeadRow& row = st.leads[entry.lead - 1];
      if (!row.call_open() || row.attempt != entry.attempt || row.when != entry.until) continue;  // stale
      Event e;
      e.type = EventType::kLeaseExpired;
      e.lead = entry.lead;
      e.campaign = row.campaign;
      e.attempt = entry.attempt;
      if (!b.Append(e, ts).ok()) continue;
      out.push_back(InfoOf(entry.lead, st.leads[entry.lead - 1]));
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

Result<DncResult> StoreImpl::AddDoNotCall(std::string_view phone, const std::string& reason, std::string_view region,
                                          Timestamp now) {
  Result<std::string> e164 = NormalizePhone(phone, region);
  if (!e164.ok()) return e164.status();
  if (Status r = CheckReason(reason); !r.ok()) return r;
  uint64_t number = 0;
  PhoneToInt(*e164, &number);
  DncResult result;
  Status s = Commit([&](Batch& b) -> Status {
    Timestamp ts;
    if (Status t = b.Time(now, &ts); !t.ok()) return t;
    State& st = b.state();
    if (!st.dnc.count(number)) {
      Event e;
      e.type = EventType::kPhoneMarkedDoNotCall;
      e.phone = *e164;
      e.reason = reason;
      if (Status a = b.Append(e, ts); !a.ok()) return a;
      result.newly_added = true;
    }
    // Also catches leads a crash may have left behind (none should exist).
    std::vector<LeadId> ids;
    st.phones.ForEach(number, st.leads, [&](LeadId id) { ids.push_back(id); });
    for (LeadId id : ids) {
      const LeadRow& row = st.leads[id - 1];
      if (row.status == LeadStatus::kDoNotCall) continue;
      Event e;
      e.type = EventType::kLeadMarkedDoNotCall;
      e.lead = id;
      e.campaign = row.campaign;
      e.reason = reason;
      if (b.Append(e, ts).ok()) result.moved.push_back(id);
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  return result;
}

Result<LeadInfo> StoreImpl::MarkLeadDoNotCall(LeadId lead, const std::string& reason, Timestamp now) {
  return CommitLeadEvent(lead, EventType::kLeadMarkedDoNotCall, reason, now);
}

Result<LeadInfo> StoreImpl::Requeue(LeadId lead, const std::string& reason, Timestamp now) {
  return CommitLeadEvent(lead, EventType::kLeadRequeued, reason, now);
}

Result<LeadInfo> StoreImpl::CommitLeadEvent(LeadId lead, EventType type, const std::string& reason, Timestamp now) {
  if (Status r = CheckReason(reason); !r.ok()) return r;
  LeadInfo info;
  SeqNo added_seq = 0;
  Status s = Commit([&](Batch& b) -> Status {
    Timestamp ts;
    if (Status t = b.Time(now, &ts); !t.ok()) return t;
    const LeadRow* row = b.state().lead(lead);
    if (row == nullptr) return Status::NotFound(fmt::format("no lead with id {}", lead));
    // Marking a lead that already is do_not_call is a no-op, not an error.
    if (!(type == EventType::kLeadMarkedDoNotCall && row->status == LeadStatus::kDoNotCall)) {
      Event e;
      e.type = type;
      e.lead = lead;
      e.campaign = row->campaign;
      e.reason = reason;
      if (Status a = b.Append(e, ts); !a.ok()) return a;
    }
    info = InfoOf(lead, *b.state().lead(lead));
    added_seq = b.state().lead(lead)->added_seq;
    return Status::OK();
  });
  if (!s.ok()) return s;
  if (Status p = FillProfile(&info, added_seq); !p.ok()) return p;
  return info;
}

}  // namespace leadlog
