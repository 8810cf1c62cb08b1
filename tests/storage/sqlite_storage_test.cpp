// SqliteStorage (courier/sqlite_storage.h): records survive closing and reopening the file, in
// order, from many threads; a second opener, a foreign, damaged or newer file get clear errors;
// and a hub recovered from the file has its queues and messages back, handles included.
#include "courier/sqlite_storage.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/scheduler.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/topic.h"
#include "recording_hub.h"

namespace courier {
namespace {

namespace fs = std::filesystem;

// A fresh directory for one test's files, removed afterwards.
struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "courier-storage-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string File(std::string_view name) const { return (path / name).string(); }
  fs::path path;
};

std::vector<std::string> Read(Storage& s, std::string_view log) {
  std::vector<std::string> out;
  REQUIRE(s.Replay(log, [&](std::string_view r) { out.emplace_back(r); }).ok());
  return out;
}

absl::Status Put(Storage& s, std::string_view log, std::vector<std::string> records) {
  return s.Append(log, records);
}

TEST_CASE("Records survive closing and reopening, each log in its order", "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  const std::string binary("a\0b\xff", 4);
  {
    auto s = SqliteStorage::Open(file).value();
    CHECK(s->durable());
    CHECK(Put(*s, "sqs", {"one", "two"}).ok());
    CHECK(Put(*s, "states", {"x"}).ok());
    CHECK(Put(*s, "sqs", {binary}).ok());
    CHECK(Read(*s, "sqs") == std::vector<std::string>{"one", "two", binary});
  }
  auto s = SqliteStorage::Open(file).value();
  CHECK(Read(*s, "sqs") == std::vector<std::string>{"one", "two", binary});
  CHECK(Read(*s, "states") == std::vector<std::string>{"x"});
  CHECK(Read(*s, "none").empty());
  CHECK(Put(*s, "sqs", {"three"}).ok());
  CHECK(Read(*s, "sqs").back() == "three");
}

TEST_CASE("Appends from many threads are all kept, each thread's in its order", "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  constexpr int kThreads = 8, kEach = 200;
  {
    auto s = SqliteStorage::Open(file).value();
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          if (!Put(*s, "log", {std::to_string(t) + ":" + std::to_string(i)}).ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
  }
  auto s = SqliteStorage::Open(file).value();
  std::vector<int> next(kThreads, 0);
  size_t n = 0;
  for (const std::string& r : Read(*s, "log")) {
    const int t = std::stoi(r.substr(0, r.find(':')));
    const int i = std::stoi(r.substr(r.find(':') + 1));
    CHECK(i == next[t]);
    next[t] = i + 1;
    ++n;
  }
  CHECK(n == kThreads * kEach);
}

// Runs `sql` on a closed file, `row` for each row it returns.
template <typename Row>
void Query(const std::string& file, const char* sql, Row row) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) row(stmt);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// The rows of the records table, as (log, count, body), in order.
struct Row {
  std::string log;
  int64_t count;
  std::string body;
  bool operator==(const Row&) const = default;
};
std::vector<Row> Rows(const std::string& file) {
  std::vector<Row> rows;
  Query(file, "SELECT log, count, body FROM records ORDER BY seq", [&](sqlite3_stmt* select) {
    const auto* body = static_cast<const char*>(sqlite3_column_blob(select, 2));
    rows.push_back({reinterpret_cast<const char*>(sqlite3_column_text(select, 0)),
                    sqlite3_column_int64(select, 1),
                    std::string(body != nullptr ? body : "", sqlite3_column_bytes(select, 2))});
  });
  return rows;
}

TEST_CASE("The records of one commit are one row per log, and read back in their order",
          "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  const std::string binary("a\0b\xff", 4), big(300, 'z');
  {
    // Nothing is committed before Flush, so that all of it is one commit.
    auto s = SqliteStorage::Open(file, {.commit_interval = absl::Hours(1)}).value();
    CHECK(Put(*s, "sqs", {"one", ""}).ok());
    CHECK(Put(*s, "states", {"x"}).ok());
    CHECK(Put(*s, "sqs", {binary, big}).ok());
    CHECK(Put(*s, "states", {"y"}).ok());
    CHECK(Put(*s, "sqs", {"last"}).ok());
    REQUIRE(s->Flush().ok());
    CHECK(Put(*s, "sqs", {"alone"}).ok());
    REQUIRE(s->Flush().ok());
    CHECK(Put(*s, "sqs", {big}).ok());  // alone too, its length two bytes long
    REQUIRE(s->Flush().ok());
    CHECK(Put(*s, "sqs", {""}).ok());
  }
  const std::vector<Row> rows = Rows(file);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].log == "sqs");
  CHECK(rows[0].count == 5);
  CHECK(rows[1].log == "states");
  CHECK(rows[1].count == 2);
  CHECK(rows[2] == Row{"sqs", 1, "alone"});  // a row of one record is that record's bytes
  CHECK(rows[3] == Row{"sqs", 1, big});
  CHECK(rows[4] == Row{"sqs", 1, ""});
  auto s = SqliteStorage::Open(file).value();
  CHECK(Read(*s, "sqs") ==
        std::vector<std::string>{"one", "", binary, big, "last", "alone", big, ""});
  CHECK(Read(*s, "states") == std::vector<std::string>{"x", "y"});
}

TEST_CASE("A row of records cut short or miscounted is refused when read, never half read",
          "[storage]") {
  TempDir dir;
  int files = 0;
  for (const char* damage :
       {"UPDATE records SET body = substr(body, 1, 150)", "UPDATE records SET count = 3",
        "UPDATE records SET count = 0", "UPDATE records SET body = x'ffffffffffffffffffffff01'"}) {
    INFO(damage);
    const std::string file = dir.File(std::to_string(++files) + ".db");
    {
      auto s = SqliteStorage::Open(file, {.commit_interval = absl::Hours(1)}).value();
      CHECK(Put(*s, "sqs", {std::string(200, 'a'), std::string(200, 'b')}).ok());
    }
    REQUIRE(Rows(file).size() == 1);
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, damage, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto s = SqliteStorage::Open(file).value();
    std::vector<std::string> got;
    const absl::Status read = s->Replay("sqs", [&](std::string_view r) { got.emplace_back(r); });
    CHECK(ErrorName(read) == "StorageCorrupt");
    CHECK(got.empty());
  }
}

TEST_CASE("The relaxed mode returns before the commit, and Flush and closing commit", "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  {
    auto s = SqliteStorage::Open(file, {.commit_interval = absl::Seconds(30)}).value();
    for (int i = 0; i < 100; ++i) CHECK(Put(*s, "log", {std::to_string(i)}).ok());
    CHECK(s->Flush().ok());  // does not wait out the 30 s
    CHECK(Read(*s, "log").size() == 100);
    CHECK(Put(*s, "log", {"last"}).ok());
  }  // closing commits "last"
  auto s = SqliteStorage::Open(file).value();
  CHECK(Read(*s, "log").size() == 101);
}

TEST_CASE("In the relaxed mode, a Flush that comes during another's commit gets the next one",
          "[storage]") {
  // No window ends during the test: every commit is a Flush's. One that arrives while another
  // Flush commits needs the commit after it, which nobody else would lead for an hour.
  TempDir dir;
  auto s = SqliteStorage::Open(dir.File("hub.db"), {.commit_interval = absl::Hours(1)}).value();
  constexpr int kRounds = 300;
  constexpr int kPutsPerRound = 100;
  std::atomic<bool> writing{true};
  std::atomic<int> rounds_begun{0};
  std::atomic<int> failed_puts{0}, failed_flushes{0};  // Catch's checks are for one thread
  // The writer keeps within kPutsPerRound of the rounds begun: on a slow disk an unpaced one
  // wrote until reading the log back ran out of memory.
  int puts = 0;
  std::thread writer([&] {
    while (writing) {
      if (puts >= (rounds_begun + 1) * kPutsPerRound) {
        std::this_thread::yield();
        continue;
      }
      failed_puts += !Put(*s, "log", {std::to_string(puts++)}).ok();
    }
  });
  // Two Flushes start together each round, so that one often comes during the other's commit;
  // neither goes on to a next round that would commit for the other.
  std::barrier round(2);
  std::vector<std::thread> flushers;
  for (int t = 0; t < 2; ++t) {
    flushers.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        round.arrive_and_wait();
        if (t == 0) ++rounds_begun;
        failed_flushes += !s->Flush().ok();
        round.arrive_and_wait();
      }
    });
  }
  for (auto& f : flushers) f.join();
  writing = false;
  writer.join();
  CHECK(failed_puts == 0);
  CHECK(failed_flushes == 0);
  CHECK(s->Flush().ok());
  const std::vector<std::string> log = Read(*s, "log");
  CHECK_FALSE(log.empty());
  CHECK(log.size() == static_cast<size_t>(puts));
}

TEST_CASE("A file open in one storage is locked to every other opener", "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  auto first = SqliteStorage::Open(file).value();
  CHECK(Put(*first, "log", {"a"}).ok());
  absl::StatusOr<std::shared_ptr<SqliteStorage>> second = SqliteStorage::Open(file);
  REQUIRE_FALSE(second.ok());
  CHECK(ErrorName(second.status()) == "StorageLocked");
  CHECK(Read(*first, "log") == std::vector<std::string>{"a"});  // the first goes on
  first.reset();
  CHECK(SqliteStorage::Open(file).ok());  // free once it is closed
}

TEST_CASE("Foreign, damaged and newer files are refused with a clear error", "[storage]") {
  TempDir dir;
  SECTION("not an SQLite file") {
    const std::string file = dir.File("text.db");
    std::ofstream(file) << std::string(8192, 'x');
    auto s = SqliteStorage::Open(file);
    REQUIRE_FALSE(s.ok());
    CHECK(ErrorName(s.status()) == "StorageCorrupt");
    CHECK(fs::file_size(file) == 8192);  // left as it was
  }
  SECTION("another program's SQLite file") {
    const std::string file = dir.File("other.db");
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1)", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto s = SqliteStorage::Open(file);
    REQUIRE_FALSE(s.ok());
    CHECK(ErrorName(s.status()) == "StorageCorrupt");
    CHECK_THAT(std::string(s.status().message()), Catch::Contains("not one of courier's"));
  }
  SECTION("a newer format") {
    const std::string file = dir.File("newer.db");
    SqliteStorage::Open(file).value().reset();
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto s = SqliteStorage::Open(file);
    REQUIRE_FALSE(s.ok());
    CHECK(ErrorName(s.status()) == "StorageVersion");
    CHECK_THAT(std::string(s.status().message()), Catch::Contains("format 99"));
  }
  SECTION("a file cut short") {
    const std::string file = dir.File("cut.db");
    {
      auto s = SqliteStorage::Open(file).value();
      for (int i = 0; i < 200; ++i) REQUIRE(Put(*s, "log", {std::string(1000, 'm')}).ok());
    }
    fs::resize_file(file, fs::file_size(file) / 2);
    auto s = SqliteStorage::Open(file);
    if (s.ok()) {
      // SQLite may open a cut file; reading what is gone must then fail, never crash.
      std::vector<std::string> got;
      CHECK_FALSE((*s)->Replay("log", [&](std::string_view r) { got.emplace_back(r); }).ok());
    } else {
      CHECK(ErrorName(s.status()) == "StorageCorrupt");
    }
  }
}

TEST_CASE("A hub recovered from the file has its queues and messages, handles included",
          "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  const absl::Time start = ManualClock::DefaultStart();
  ReceiptHandle in_flight_handle;
  {
    testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
    auto q = Sqs(side.hub).CreateQueue("orders").value();
    for (const char* body : {"a", "b", "c"}) REQUIRE(q->SendMessage({.body = body}).ok());
    auto got =
        q->ReceiveMessage({.max_number_of_messages = 2, .visibility_timeout = absl::Hours(1)})
            .value();
    REQUIRE(got.size() == 2);
    REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
    in_flight_handle = got[1].receipt_handle;
  }
  testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
  REQUIRE(side.hub.Recover().ok());
  auto q = Sqs(side.hub).GetQueue("orders").value();
  auto visible = q->ReceiveMessage({.max_number_of_messages = 10}).value();
  REQUIRE(visible.size() == 1);                    // one deleted, one still in flight
  CHECK(q->DeleteMessage(in_flight_handle).ok());  // the handle kept its meaning
  CHECK(q->DeleteMessage(visible[0].receipt_handle).ok());
}

// The PRAGMA user_version of a closed file (-1 if it gives none).
int64_t FormatOf(const std::string& file) {
  int64_t version = -1;
  Query(file, "PRAGMA user_version",
        [&](sqlite3_stmt* stmt) { version = sqlite3_column_int64(stmt, 0); });
  return version;
}

TEST_CASE("A file of format 1, its records all JSON, recovers and becomes current once written",
          "[storage]") {
  TempDir dir;
  const std::string file = dir.File("old.db");
  // The file as the previous version left it: its schema, its marks, its records (as it wrote
  // them: two messages stored, the second received for an hour).
  const std::string arn = "arn:aws:sqs:us-east-1:000000000000:stored";
  const std::vector<std::string> records = {
      R"({"op":"CreateQueue","arn":")" + arn +
          R"(","name":"stored","fifo":false,"attributes":{"DelaySeconds":"0",)"
          R"("MaximumMessageSize":"1048576","MessageRetentionPeriod":"345600",)"
          R"("ReceiveMessageWaitTimeSeconds":"0","SqsManagedSseEnabled":"true",)"
          R"("VisibilityTimeout":"30"},"created":1796594269347783925})",
      R"({"op":"Store","arn":")" + arn +
          R"(","shard":0,"slot":0,"stamp":0,"id":"0b03b4f1-c00f-41fc-8931-585157092a92",)"
          R"("body":"first","md5":true,"sent":1796594269350003432,)"
          R"("enqueued":1796594269350003432,"visible_at":1796594269350003432,"receives":0,)"
          R"("first_receive":0})",
      R"({"op":"Store","arn":")" + arn +
          R"(","shard":0,"slot":1,"stamp":0,"id":"1b03b4f1-c00f-41fc-8931-585157092a92",)"
          R"("body":"second","md5":true,"sent":1796594269350003433,)"
          R"("enqueued":1796594269350003433,"visible_at":1796594269350003433,"receives":0,)"
          R"("first_receive":0})",
      R"({"op":"Receive","arn":")" + arn +
          R"(","shard":0,"slot":1,"stamp":0,"receives":1,"first_receive":1796594270000000000,)"
          R"("received":1796594270000000000,"until":1796597870000000000})",
  };
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "CREATE TABLE records(seq INTEGER PRIMARY KEY, log TEXT NOT NULL, body "
                         "BLOB NOT NULL); CREATE INDEX records_by_log ON records(log, seq); "
                         "PRAGMA application_id=1668248946; PRAGMA user_version=1",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_stmt* insert = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "INSERT INTO records(log, body) VALUES('sqs', ?1)", -1, &insert,
                               nullptr) == SQLITE_OK);
    for (const std::string& r : records) {
      sqlite3_bind_blob(insert, 1, r.data(), static_cast<int>(r.size()), SQLITE_STATIC);
      REQUIRE(sqlite3_step(insert) == SQLITE_DONE);
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    sqlite3_close(db);
  }
  REQUIRE(FormatOf(file) == 1);
  const absl::Time start = absl::FromUnixSeconds(1796594271);
  {
    // Recovering alone writes nothing, and leaves the file for the previous version.
    testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
    REQUIRE(side.hub.Recover().ok());
    CHECK(Sqs(side.hub).GetQueue("stored").ok());
  }
  CHECK(FormatOf(file) == 1);
  {
    testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
    REQUIRE(side.hub.Recover().ok());
    auto q = Sqs(side.hub).GetQueue("stored").value();
    auto visible = q->ReceiveMessage({.max_number_of_messages = 10}).value();
    REQUIRE(visible.size() == 1);  // the other is in flight
    CHECK(visible[0].body == "first");
    CHECK(std::string(visible[0].message_id.view()) == "0b03b4f1-c00f-41fc-8931-585157092a92");
    CHECK(std::string(visible[0].md5_of_body.view()) == "8b04d5e3775d298e78455efc5ca404d5");
    REQUIRE(q->SendMessage({.body = "third"}).ok());  // a binary record after the JSON ones
  }
  CHECK(FormatOf(file) == SqliteStorage::kFormatVersion);
  const std::vector<Row> rows = Rows(file);  // the older rows count one record each
  CHECK(std::all_of(rows.begin(), rows.end(), [](const Row& r) { return r.count == 1; }));
  testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
  REQUIRE(side.hub.Recover().ok());
  auto q = Sqs(side.hub).GetQueue("stored").value();
  auto visible = q->ReceiveMessage({.max_number_of_messages = 10}).value();
  CHECK(visible.size() == 1);  // "third"; "first" is in flight since the receive above
}

TEST_CASE("Queue operations from many threads wait for their records together", "[storage]") {
  // Each send and delete returns once its record is on disk; the threads' waits overlap, so
  // their records share commits. After a reopen exactly the acknowledged state is there.
  TempDir dir;
  const std::string file = dir.File("hub.db");
  const absl::Time start = ManualClock::DefaultStart();
  constexpr int kThreads = 8, kEach = 50;
  std::atomic<int> failures{0};
  {
    testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
    auto q = Sqs(side.hub).CreateQueue("work").value();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const std::string body = std::to_string(t) + ":" + std::to_string(i);
          if (!q->SendMessage({.body = body}).ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    // Delete the even-numbered sends of every thread.
    for (;;) {
      auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();
      if (got.empty()) break;
      for (const Message& m : got) {
        const int i = std::stoi(m.body.substr(m.body.find(':') + 1));
        if (i % 2 == 0 && !q->DeleteMessage(m.receipt_handle).ok()) ++failures;
      }
    }
  }
  REQUIRE(failures == 0);
  testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
  REQUIRE(side.hub.Recover().ok());
  auto q = Sqs(side.hub).GetQueue("work").value();
  side.sim.clock().Advance(absl::Minutes(1));  // past the visibility timeout of the receives above
  std::set<std::string> left;
  for (;;) {
    auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();
    if (got.empty()) break;
    for (const Message& m : got) CHECK(left.insert(m.body).second);
  }
  CHECK(left.size() == kThreads * kEach / 2);
  for (const std::string& body : left) {
    CHECK(std::stoi(body.substr(body.find(':') + 1)) % 2 == 1);
  }
}

TEST_CASE("A full file fails the calls it cannot keep, and keeps what was acknowledged",
          "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  const absl::Time start = ManualClock::DefaultStart();
  const std::string body(2000, 'x');
  int acknowledged = 0;
  {
    testing_support::RecordingSide side(
        SqliteStorage::Open(file, {.max_file_bytes = 256 * 1024}).value(), start);
    auto q = Sqs(side.hub).CreateQueue("full").value();
    absl::Status last;
    for (int i = 0; i < 1000; ++i) {
      absl::StatusOr<SendMessageResult> r = q->SendMessage({.body = body});
      if (!r.ok()) {
        last = r.status();
        break;
      }
      ++acknowledged;
    }
    CHECK(ErrorName(last) == "StorageFull");
    CHECK(last.code() == absl::StatusCode::kResourceExhausted);
    CHECK(acknowledged > 10);
    // Still full: the next change fails the same way, and reading is unaffected.
    CHECK(ErrorName(q->SendMessage({.body = body}).status()) == "StorageFull");
    CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessages"}).ok());
  }
  testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
  REQUIRE(side.hub.Recover().ok());
  auto q = Sqs(side.hub).GetQueue("full").value();
  int kept = 0;
  for (;;) {
    auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();
    if (got.empty()) break;
    kept += static_cast<int>(got.size());
  }
  CHECK(kept == acknowledged);  // every acknowledged send, and none of the failed ones
}

TEST_CASE("A file that cannot be written fails the calls that change it, and loses nothing",
          "[storage]") {
  // Made read-only with the immutable attribute, which holds for root too (a test run as root
  // ignores file modes). Where the file system has no such attribute the case has nothing to
  // check.
  TempDir dir;
  const std::string file = dir.File("hub.db");
  const absl::Time start = ManualClock::DefaultStart();
  {
    testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
    REQUIRE(Sqs(side.hub).CreateQueue("kept").value()->SendMessage({.body = "before"}).ok());
  }
  if (std::system(("chattr +i '" + file + "' 2>/dev/null").c_str()) != 0) {
    WARN("chattr +i is not available here");
    return;
  }
  struct Writable {  // again, whatever happens below, so that the directory can be removed
    ~Writable() { (void)std::system(("chattr -i '" + file + "'").c_str()); }
    std::string file;
  } writable{file};
  {
    absl::StatusOr<std::shared_ptr<SqliteStorage>> opened = SqliteStorage::Open(file);
    if (!opened.ok()) {
      CHECK((ErrorName(opened.status()) == "StorageReadOnly" ||
             ErrorName(opened.status()) == "StorageUnavailable"));
    } else {
      testing_support::RecordingSide side(*opened, start);
      REQUIRE(side.hub.Recover().ok());
      auto q = Sqs(side.hub).GetQueue("kept").value();
      absl::StatusOr<SendMessageResult> sent = q->SendMessage({.body = "refused"});
      CHECK(ErrorName(sent.status()) == "StorageReadOnly");
      CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessages"}).ok());  // reads go on
    }
  }
  REQUIRE(std::system(("chattr -i '" + file + "'").c_str()) == 0);
  testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
  REQUIRE(side.hub.Recover().ok());
  auto got = Sqs(side.hub).GetQueue("kept").value()->ReceiveMessage({.max_number_of_messages = 10});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK(got->front().body == "before");
}

TEST_CASE("Topics and their subscriptions survive reopening the file", "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  const absl::Time start = ManualClock::DefaultStart();
  std::string subscription;
  {
    testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
    auto inbox = Sqs(side.hub).CreateQueue("inbox").value();
    auto topic = Sns(side.hub).CreateTopic("news", {}, {}).value();
    subscription = Sns(side.hub)
                       .Subscribe(topic->arn(), "sqs", inbox->arn(),
                                  {{"FilterPolicy", R"({"kind":["kept"]})"}})
                       .value();
  }
  testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
  REQUIRE(side.hub.Recover().ok());
  auto topic = Sns(side.hub).GetTopic("news").value();
  CHECK(Sns(side.hub).GetSubscriptionAttributes(subscription).ok());
  for (const char* kind : {"dropped", "kept"}) {
    REQUIRE(
        topic->Publish({.message = kind, .attributes = {{"kind", MessageAttribute::String(kind)}}})
            .ok());
  }
  auto got =
      Sqs(side.hub).GetQueue("inbox").value()->ReceiveMessage({.max_number_of_messages = 10});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK(got->front().body.find("kept") != std::string::npos);
}

TEST_CASE("Buses, rules, archives and schedules survive reopening the file", "[storage]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  const absl::Time start = ManualClock::DefaultStart();
  {
    testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
    auto inbox = Sqs(side.hub).CreateQueue("inbox").value();
    auto bus = Events(side.hub).CreateEventBus("shop").value();
    REQUIRE(bus->PutRule("kept", {.event_pattern = R"({"detail":{"kind":["kept"]}})"}).ok());
    REQUIRE(
        bus->PutTargets("kept", {{.id = "q", .arn = inbox->arn(), .input_path = "$.detail"}}).ok());
    REQUIRE(Events(side.hub).CreateArchive("all", {.event_source_arn = bus->arn()}).ok());
    REQUIRE(bus->PutEvents({{.source = "shop", .detail_type = "x", .detail = R"({"n":1})"}})
                .value()
                .failed_entry_count == 0);
    REQUIRE(Scheduler(side.hub)
                .CreateSchedule("tick", {.expression = "rate(1 hour)",
                                         .target = {.arn = inbox->arn(), .input = R"("tick")"}})
                .ok());
  }
  testing_support::RecordingSide side(SqliteStorage::Open(file).value(), start);
  REQUIRE(side.hub.Recover().ok());
  auto bus = Events(side.hub).GetEventBus("shop").value();
  CHECK(Events(side.hub).DescribeArchive("all").value().event_count == 1);
  CHECK(Scheduler(side.hub).GetSchedule("tick").ok());
  REQUIRE(bus->PutEvents({{.source = "shop", .detail_type = "x", .detail = R"({"kind":"kept"})"},
                          {.source = "shop", .detail_type = "x", .detail = R"({"kind":"no"})"}})
              .ok());
  auto got = Sqs(side.hub).GetQueue("inbox").value()->ReceiveMessage(
      {.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK(got->front().body == R"({"kind":"kept"})");
  CHECK(Events(side.hub).DescribeArchive("all").value().event_count == 3);
}

}  // namespace
}  // namespace courier
