// The `sqlite` peer: what a team would build instead of leadlog with SQLite.
// Tables for the log, the leads (state and profile) and the per-campaign
// counts; WAL mode, synchronous=NORMAL (FULL when synced), prepared
// statements, transactions of 256 events; phone validation by
// leadlog::NormalizePhone on all cores, as leadlog does it.
//
// Invariants:
//  - Every event is one INSERT into `log` in the same transaction as the
//    UPDATEs of `leads` and `counts` it implies, so a committed database is
//    always consistent; Verify replays `log` alone and compares.
//  - One connection, used under the Batcher's mutex (SQLite allows one writer
//    anyway); reads on it see the open transaction's writes.
//  - leads.due > 0 exactly when the lead is claimable from then on; a partial
//    index on (campaign, due, id) is the dial queue.
#include <sqlite3.h>

#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common.h"
#include "leadlog/csv.h"
#include "peer.h"
#include "peer_common.h"

namespace bench {
namespace {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
      Die("sqlite prepare '{}': {}", sql, sqlite3_errmsg(db));
  }
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }

  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // True while a row is available.
  bool Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) Die("sqlite step: {}", sqlite3_errmsg(sqlite3_db_handle(s_)));
    return false;
  }
  void Exec() {
    Step();
    Reset();
  }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  std::string_view Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string_view(p, sqlite3_column_bytes(s_, col)) : std::string_view();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

std::string CustomJson(const std::vector<leadlog::CustomField>& custom) {
  if (custom.empty()) return {};
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : custom) j[f.key] = f.value;
  return j.dump();
}

class SqlitePeer final : public Peer {
 public:
  ~SqlitePeer() override { Close(); }
  const char* name() const override { return "sqlite"; }

  void Open(const std::string& dir, bool synced, CommitMode mode) override {
    std::string path = dir + "/leads.sqlite";
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
      Die("sqlite open {}: {}", path, sqlite3_errmsg(db_));
    Exec("PRAGMA journal_mode=WAL");
    Exec(synced ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    Exec("PRAGMA cache_size=-262144");  // 256 MiB, as in MEASUREMENTS.md Q1-Q3
    Exec("PRAGMA temp_store=MEMORY");
    Exec(R"(CREATE TABLE IF NOT EXISTS campaigns(
             id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, max_attempts INTEGER,
             retry_no_answer INTEGER, retry_voicemail INTEGER, retry_failed INTEGER, lease INTEGER))");
    Exec(R"(CREATE TABLE IF NOT EXISTS leads(
             id INTEGER PRIMARY KEY, campaign INTEGER NOT NULL, phone TEXT NOT NULL, first_name TEXT,
             last_name TEXT, email TEXT, custom TEXT, status INTEGER NOT NULL, attempts INTEGER NOT NULL,
             attempts_used INTEGER NOT NULL, due INTEGER NOT NULL, lease_until INTEGER NOT NULL,
             added INTEGER NOT NULL))");
    Exec("CREATE UNIQUE INDEX IF NOT EXISTS leads_phone ON leads(campaign, phone)");
    Exec("CREATE INDEX IF NOT EXISTS leads_queue ON leads(campaign, due, id) WHERE due > 0");
    Exec(R"(CREATE TABLE IF NOT EXISTS counts(
             campaign INTEGER NOT NULL, status INTEGER NOT NULL, n INTEGER NOT NULL,
             PRIMARY KEY(campaign, status)) WITHOUT ROWID)");
    Exec(R"(CREATE TABLE IF NOT EXISTS log(
             seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type INTEGER NOT NULL, lead INTEGER,
             campaign INTEGER, attempt INTEGER, status INTEGER, lease_until INTEGER, dialer TEXT,
             reason TEXT, phone TEXT, first_name TEXT, last_name TEXT, email TEXT, custom TEXT))");

    insert_log_ = Stmt(db_, R"(INSERT INTO log(seq, ts, type, lead, campaign, attempt, status, lease_until,
                                dialer, reason, phone, first_name, last_name, email, custom)
                                VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15))");
    insert_lead_ = Stmt(db_, R"(INSERT INTO leads(id, campaign, phone, first_name, last_name, email, custom,
                                  status, attempts, attempts_used, due, lease_until, added)
                                  VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, 0, ?8, 0, ?8)
                                  ON CONFLICT(campaign, phone) DO NOTHING)");
    select_due_ = Stmt(db_, R"(SELECT id, status, attempts, phone FROM leads
                                 WHERE campaign = ?1 AND due > 0 AND due <= ?2 ORDER BY due, id LIMIT ?3)");
    select_lead_ = Stmt(db_, "SELECT campaign, status, attempts, attempts_used FROM leads WHERE id = ?1");
    update_claim_ = Stmt(db_, R"(UPDATE leads SET status = 1, attempts = ?2, attempts_used = attempts_used + 1,
                                  due = 0, lease_until = ?3 WHERE id = ?1)");
    update_report_ = Stmt(db_, "UPDATE leads SET status = ?2, due = ?3, lease_until = 0 WHERE id = ?1");
    update_count_ = Stmt(db_, "UPDATE counts SET n = n + ?3 WHERE campaign = ?1 AND status = ?2");
    select_counts_ = Stmt(db_, "SELECT status, n FROM counts WHERE campaign = ?1");

    // What the application needs in memory at start: the campaigns and the
    // next ids. (Reading anything also runs SQLite's WAL recovery.)
    Stmt c(db_, "SELECT id, name, max_attempts, retry_no_answer, retry_voicemail, retry_failed, lease FROM campaigns");
    while (c.Step()) {
      Campaign cc;
      cc.id = static_cast<uint32_t>(c.Int(0));
      cc.settings = {static_cast<uint32_t>(c.Int(2)), c.Int(3), c.Int(4), c.Int(5), c.Int(6)};
      campaigns_by_id_[cc.id] = cc.settings;
      campaigns_[std::string(c.Text(1))] = cc;
    }
    Stmt m(db_, "SELECT (SELECT ifnull(max(seq), 0) FROM log), (SELECT ifnull(max(id), 0) FROM leads)");
    m.Step();
    next_seq_ = static_cast<uint64_t>(m.Int(0)) + 1;
    next_lead_ = static_cast<uint64_t>(m.Int(1)) + 1;
    batcher_.Init(mode, [this] { Exec("COMMIT"); in_txn_ = false; });
  }

  void Close() override {
    if (!db_) return;
    batcher_.Flush();
    for (Stmt* s : {&insert_log_, &insert_lead_, &select_due_, &select_lead_, &update_claim_, &update_report_,
                    &update_count_, &select_counts_})
      *s = Stmt();
    sqlite3_close_v2(db_);
    db_ = nullptr;
    campaigns_.clear();
    campaigns_by_id_.clear();
  }

  void Flush() override { batcher_.Flush(); }

  void CreateCampaign(const std::string& name, const CampaignSettings& s, Timestamp now) override {
    now = Resolve(now);
    batcher_.Run([&] {
      Begin();
      Campaign c{static_cast<uint32_t>(campaigns_.size() + 1), s};
      Stmt ins(db_, "INSERT INTO campaigns VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      ins.Bind(1, c.id).Bind(2, name).Bind(3, s.max_attempts).Bind(4, s.retry_no_answer);
      ins.Bind(5, s.retry_voicemail).Bind(6, s.retry_failed).Bind(7, s.lease).Exec();
      Stmt cnt(db_, "INSERT INTO counts VALUES(?1, ?2, 0)");
      for (int st = 0; st < leadlog::kNumStatuses; ++st) cnt.Bind(1, c.id).Bind(2, st).Exec();
      // Campaign settings go into the log as columns of their own record.
      // The settings ride in the record: `status` holds max_attempts, `reason` the delays.
      LogRow(now, EventType::kCampaignCreated, 0, c.id, 0, static_cast<int>(s.max_attempts), 0, {},
             fmt::format("{},{},{},{}", s.retry_no_answer, s.retry_voicemail, s.retry_failed, s.lease), {}, {}, {},
             {}, {});
      campaigns_[name] = c;
      campaigns_by_id_[c.id] = s;
      return size_t{1};
    });
  }

  PeerImport ImportCsv(const std::string& campaign, std::string_view csv, Timestamp now) override {
    now = Resolve(now);
    std::vector<leadlog::LeadInput> leads;
    std::vector<size_t> lines;
    std::vector<leadlog::CsvReject> rejects;
    uint64_t read = 0;
    auto st = leadlog::ParseLeadsCsv(csv, &leads, &lines, &rejects, &read);
    if (!st.ok()) Die("sqlite peer: csv: {}", st.ToString());
    PeerImport r = AddLeads(campaign, leads, now);
    r.read = read;
    r.rejected += rejects.size();
    return r;
  }

  PeerImport AddLeads(const std::string& campaign, const std::vector<leadlog::LeadInput>& leads,
                      Timestamp now) override {
    now = Resolve(now);
    uint32_t cid = CampaignIdOf(campaign);
    std::vector<std::string> e164;
    NormalizeAll(leads, 0, &e164);
    PeerImport r;
    r.read = leads.size();
    // One Run per 256 rows: transactions of 256 leads, like the transitions.
    for (size_t begin = 0; begin < leads.size(); begin += 256) {
      size_t end = std::min(leads.size(), begin + 256);
      batcher_.Run([&] {
        Begin();
        size_t added = 0;
        for (size_t i = begin; i < end; ++i) {
          const auto& l = leads[i];
          if (e164[i].empty()) {
            ++r.rejected;
            continue;
          }
          std::string custom = CustomJson(l.custom);
          insert_lead_.Bind(1, static_cast<int64_t>(next_lead_)).Bind(2, cid).Bind(3, e164[i]);
          insert_lead_.Bind(4, l.first_name).Bind(5, l.last_name).Bind(6, l.email).Bind(7, custom).Bind(8, now);
          insert_lead_.Exec();
          if (sqlite3_changes(db_) == 0) {  // (campaign, phone) taken: a duplicate
            ++r.rejected;
            continue;
          }
          LogRow(now, EventType::kLeadAdded, next_lead_, cid, 0, S(LeadStatus::kPending), 0, {}, {}, e164[i],
                 l.first_name, l.last_name, l.email, custom);
          CountDelta(cid, LeadStatus::kPending, +1);
          ++next_lead_;
          ++added;
        }
        r.imported += added;
        return added;
      });
    }
    return r;
  }

  void Claim(const std::string& campaign, size_t n, const std::string& dialer, Timestamp now,
             std::vector<PeerClaim>* out) override {
    now = Resolve(now);
    out->clear();
    uint32_t cid = CampaignIdOf(campaign);
    batcher_.Run([&] {
      Begin();
      Timestamp lease_until = now + campaigns_by_id_[cid].lease;
      select_due_.Bind(1, cid).Bind(2, now).Bind(3, static_cast<int64_t>(n));
      struct Row {
        int64_t id;
        LeadStatus status;
        uint32_t attempt;
      };
      std::vector<Row> rows;
      while (select_due_.Step()) {
        rows.push_back({select_due_.Int(0), static_cast<LeadStatus>(select_due_.Int(1)),
                        static_cast<uint32_t>(select_due_.Int(2)) + 1});
        out->push_back({static_cast<uint64_t>(rows.back().id), rows.back().attempt, std::string(select_due_.Text(3))});
      }
      select_due_.Reset();
      for (const Row& row : rows) {
        update_claim_.Bind(1, row.id).Bind(2, row.attempt).Bind(3, lease_until).Exec();
        LogRow(now, EventType::kLeadClaimed, row.id, cid, row.attempt, S(LeadStatus::kCalling), lease_until, dialer,
               {}, {}, {}, {}, {}, {});
        CountDelta(cid, row.status, -1);
        CountDelta(cid, LeadStatus::kCalling, +1);
      }
      return rows.size();
    });
  }

  void Report(uint64_t lead, uint32_t attempt, LeadStatus outcome, Timestamp now) override {
    now = Resolve(now);
    batcher_.Run([&] {
      Begin();
      select_lead_.Bind(1, static_cast<int64_t>(lead));
      if (!select_lead_.Step()) Die("sqlite peer: report for unknown lead {}", lead);
      LeadState l;
      l.campaign = static_cast<uint32_t>(select_lead_.Int(0));
      l.status = static_cast<LeadStatus>(select_lead_.Int(1));
      l.attempts = static_cast<uint32_t>(select_lead_.Int(2));
      l.attempts_used = static_cast<uint32_t>(select_lead_.Int(3));
      select_lead_.Reset();
      if (l.status == outcome && l.attempts == attempt) return size_t{0};  // a retried report: no-op
      if (!ApplyReport(&l, campaigns_by_id_[l.campaign], attempt, outcome, now))
        Die("sqlite peer: illegal report for lead {} attempt {}", lead, attempt);
      update_report_.Bind(1, static_cast<int64_t>(lead)).Bind(2, S(outcome)).Bind(3, l.due).Exec();
      LogRow(now, EventType::kOutcomeReported, lead, l.campaign, attempt, S(outcome), 0, {}, {}, {}, {}, {}, {}, {});
      CountDelta(l.campaign, LeadStatus::kCalling, -1);
      CountDelta(l.campaign, outcome, +1);
      return size_t{1};
    });
  }

  StatusCounts Counts(const std::string& campaign) override {
    uint32_t cid = CampaignIdOf(campaign);
    return batcher_.Read([&] { return ReadCounts(cid); });
  }

  uint64_t Verify() override {
    return batcher_.Read([&] {
      Replayer r;
      Stmt q(db_, "SELECT seq, ts, type, lead, campaign, attempt, status, lease_until, dialer, phone, "
                  "first_name, last_name, email, custom, reason FROM log ORDER BY seq");
      PeerEvent e;
      leadlog::LeadProfile profile;
      std::string dialer;
      while (q.Step()) {
        e.seq = static_cast<uint64_t>(q.Int(0));
        e.ts = q.Int(1);
        e.type = static_cast<EventType>(q.Int(2));
        e.lead = static_cast<uint64_t>(q.Int(3));
        e.campaign = static_cast<uint32_t>(q.Int(4));
        e.attempt = static_cast<uint32_t>(q.Int(5));
        e.status = static_cast<LeadStatus>(q.Int(6));
        e.lease_until = q.Int(7);
        // Decode what an audit has to look at, as leadlog's verify does.
        dialer.assign(q.Text(8));
        if (e.type == EventType::kLeadAdded) {
          profile.phone.assign(q.Text(9));
          profile.first_name.assign(q.Text(10));
          profile.last_name.assign(q.Text(11));
          profile.email.assign(q.Text(12));
          profile.custom.clear();
          std::string_view custom = q.Text(13);
          if (!custom.empty()) {
            auto j = nlohmann::json::parse(custom);
            for (auto& [k, v] : j.items()) profile.custom.push_back({k, v.get<std::string>()});
          }
          if (profile.phone.empty() || profile.phone[0] != '+') Die("verify: record {}: bad phone", e.seq);
        } else if (e.type == EventType::kCampaignCreated) {
          e.settings.max_attempts = static_cast<uint32_t>(q.Int(6));
          std::string_view rs = q.Text(14);
          if (std::sscanf(std::string(rs).c_str(), "%ld,%ld,%ld,%ld", &e.settings.retry_no_answer,
                          &e.settings.retry_voicemail, &e.settings.retry_failed, &e.settings.lease) != 4)
            Die("verify: record {}: bad campaign settings", e.seq);
        }
        r.Apply(e);
      }
      Stmt leads(db_, "SELECT id, status, attempts, attempts_used, due FROM leads");
      while (leads.Step()) {
        LeadState l;
        l.status = static_cast<LeadStatus>(leads.Int(1));
        l.attempts = static_cast<uint32_t>(leads.Int(2));
        l.attempts_used = static_cast<uint32_t>(leads.Int(3));
        l.due = leads.Int(4);
        r.CheckLead(static_cast<uint64_t>(leads.Int(0)), l);
      }
      for (const auto& [cid, c] : campaigns_by_id_) r.CheckCounts(cid, ReadCounts(cid));
      return r.events();
    });
  }

  uint64_t LastSeq() override {
    return batcher_.Read([&] { return next_seq_ - 1; });
  }

 private:
  struct Campaign {
    uint32_t id = 0;
    CampaignSettings settings;
  };

  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) Die("sqlite '{}': {}", sql, err ? err : "?");
  }
  void Begin() {
    if (!in_txn_) {
      Exec("BEGIN");
      in_txn_ = true;
    }
  }
  uint32_t CampaignIdOf(const std::string& name) {
    return batcher_.Read([&] {
      auto it = campaigns_.find(name);
      if (it == campaigns_.end()) Die("sqlite peer: no campaign {}", name);
      return it->second.id;
    });
  }
  void CountDelta(uint32_t cid, LeadStatus s, int64_t d) { update_count_.Bind(1, cid).Bind(2, S(s)).Bind(3, d).Exec(); }
  StatusCounts ReadCounts(uint32_t cid) {
    StatusCounts c;
    select_counts_.Bind(1, cid);
    while (select_counts_.Step()) {
      auto n = static_cast<uint64_t>(select_counts_.Int(1));
      c.by_status[select_counts_.Int(0)] = n;
      c.total += n;
    }
    select_counts_.Reset();
    return c;
  }
  void LogRow(Timestamp ts, EventType type, uint64_t lead, uint32_t cid, uint32_t attempt, int status,
              Timestamp lease_until, std::string_view dialer, std::string_view reason, std::string_view phone,
              std::string_view first, std::string_view last, std::string_view email, std::string_view custom) {
    auto& s = insert_log_;
    s.Bind(1, static_cast<int64_t>(next_seq_++)).Bind(2, ts).Bind(3, static_cast<int>(type));
    s.Bind(4, static_cast<int64_t>(lead)).Bind(5, cid).Bind(6, attempt).Bind(7, status).Bind(8, lease_until);
    s.Bind(9, dialer).Bind(10, reason).Bind(11, phone).Bind(12, first).Bind(13, last).Bind(14, email);
    s.Bind(15, custom).Exec();
  }

  sqlite3* db_ = nullptr;
  bool in_txn_ = false;
  Batcher batcher_;
  uint64_t next_seq_ = 1;
  uint64_t next_lead_ = 1;
  std::unordered_map<std::string, Campaign> campaigns_;
  std::unordered_map<uint32_t, CampaignSettings> campaigns_by_id_;
  Stmt insert_log_, insert_lead_, select_due_, select_lead_, update_claim_, update_report_, update_count_,
      select_counts_;
};

}  // namespace

std::unique_ptr<Peer> MakeSqlitePeer() { return std::make_unique<SqlitePeer>(); }

}  // namespace bench
