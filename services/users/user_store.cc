#include "services/users/user_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "platform/logging/logger.h"
#include "platform/process/thread_name.h"
#include "saga/store/handled_outcome.h"
#include "saga/store/load_state.h"

namespace choreo::users {
namespace {

constexpr char kSeparator = '|';  // usernames and change ids never contain it

store::AggregateRef UserRef(const std::string& username) {
  return store::ServiceAggregate(kService, kUserAggregate, username);
}

std::string Member(const PendingChange& change) {
  return absl::StrCat(change.username, std::string(1, kSeparator), change.change_id);
}

absl::Status ReplyStatus(absl::string_view what, const absl::StatusOr<redis::RedisReply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::UnavailableError(absl::StrCat("redis ", what, ": ", reply->str));
  return absl::OkStatus();
}

// KEYS[1] the attempts counter. ARGV[1] window in ms. One round trip, and the window's expiry
// is set exactly once, by its first attempt.
constexpr char kCountAttemptScript[] = R"lua(
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
)lua";

std::vector<std::string> RemoveCommand(const redis::ShardedSchedule& outbox,
                                       const PendingChange& change) {
  if (change.index_key.empty()) return outbox.RemoveCommand(change.username, Member(change));
  return {"ZREM", change.index_key, Member(change)};
}

}  // namespace

redis::ShardedSchedule OutboxSchedule() {
  return redis::ShardedSchedule(
      {.name = "users:outbox", .shards = 16, .legacy_key = "users:outbox"});
}

UserStore::UserStore(redis::RedisConnection::Options redis, absl::Duration marker_retention,
                     store::MarkerHeaders marker_headers)
    : store_(redis),
      redis_(redis),
      marker_retention_(marker_retention),
      marker_headers_(marker_headers),
      outbox_(OutboxSchedule()),
      holder_(redis::NewLeaseHolder()) {}

absl::StatusOr<std::optional<StoredUser>> UserStore::Get(const std::string& username) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<store::VersionedState<v1::UserRecord>> loaded =
      store::LoadState<v1::UserRecord>(store_, UserRef(username));
  if (!loaded.ok()) return loaded.status();
  if (loaded->version == 0) return std::nullopt;
  return StoredUser{.record = std::move(loaded->state), .version = loaded->version};
}

absl::Status UserStore::Commit(const std::string& username, int64_t expected_version,
                               const v1::UserRecord& record, const std::string& change_id,
                               const std::vector<KafkaRecord>& events, absl::Time now) {
  const PendingChange change{username, change_id};
  absl::MutexLock lock(&mu_);
  // Index first: a crash after the commit leaves an index entry the relay resolves; a crash
  // before it leaves one that points at no marker, which the relay drops.
  if (absl::Status indexed = ReplyStatus(
          "ZADD",
          redis_.Command(outbox_.AddCommand(username, absl::ToUnixMillis(now), Member(change))));
      !indexed.ok()) {
    return indexed;
  }
  absl::StatusOr<store::CommitResult> committed =
      store_.Commit(UserRef(username), change_id, expected_version, record.SerializeAsString(),
                    store::EncodeHandledOutcome(events, marker_headers_), marker_retention_);
  if (!committed.ok()) return committed.status();
  if (committed->outcome == store::CommitOutcome::kVersionConflict) {
    static_cast<void>(redis_.Command(RemoveCommand(outbox_, change)));
    if (expected_version == 0) {
      return absl::AlreadyExistsError(absl::StrCat("username: ", username, " is taken"));
    }
    return absl::AbortedError(absl::StrCat("user ", username, " changed meanwhile"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KafkaRecord>> UserStore::ChangeEvents(const PendingChange& change) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<store::AggregateSnapshot> snapshot =
      store_.Load(UserRef(change.username), change.change_id);
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->handled_outcome) {
    return absl::NotFoundError(absl::StrCat("no change ", change.change_id, " of ", change.username));
  }
  return store::DecodeHandledOutcome(*snapshot->handled_outcome, std::nullopt);  // never elided
}

absl::Status UserStore::MarkPublished(const PendingChange& change) {
  absl::MutexLock lock(&mu_);
  return ReplyStatus("ZREM", redis_.Command(RemoveCommand(outbox_, change)));
}

absl::StatusOr<std::vector<PendingChange>> UserStore::PendingSince(absl::Time cutoff, int limit) {
  absl::StatusOr<std::vector<redis::ShardedSchedule::Entry>> due;
  {
    absl::MutexLock lock(&mu_);
    due = outbox_.Due(redis_, holder_, cutoff, limit);
  }
  if (!due.ok()) return due.status();
  std::vector<PendingChange> changes;
  for (redis::ShardedSchedule::Entry& entry : *due) {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(entry.member, absl::MaxSplits(kSeparator, 1));
    changes.push_back({std::move(parts.first), std::move(parts.second), std::move(entry.key)});
  }
  return changes;
}

absl::Status UserStore::ReleaseRelay() {
  absl::MutexLock lock(&mu_);
  return outbox_.Release(redis_, holder_);
}

absl::StatusOr<int64_t> UserStore::CountAttempt(absl::string_view kind, const std::string& client,
                                                absl::Duration window) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<redis::RedisReply> reply = redis_.Eval(
      kCountAttemptScript, {absl::StrCat("attempts:{users.client:", client, "}:", kind)},
      {absl::StrCat(absl::ToInt64Milliseconds(window))});
  if (absl::Status ok = ReplyStatus("attempt count", reply); !ok.ok()) return ok;
  return reply->integer;
}

Outbox::Outbox(UserStore* store, const publish::Publisher* publisher, Options options)
    : store_(store), publisher_(publisher), options_(options) {}

Outbox::~Outbox() { Stop(); }

absl::Status Outbox::Publish(const PendingChange& change, const std::vector<KafkaRecord>& events) {
  if (absl::Status sent = publisher_->SendAndWait(events); !sent.ok()) return sent;
  return store_->MarkPublished(change);
}

absl::StatusOr<int> Outbox::RelayOnce(absl::Time now) {
  absl::StatusOr<int> published = RelayDue(now);
  // Another instance may publish what this one cannot: let it relay at once.
  if (!published.ok()) static_cast<void>(store_->ReleaseRelay());
  return published;
}

absl::StatusOr<int> Outbox::RelayDue(absl::Time now) {
  absl::StatusOr<std::vector<PendingChange>> pending =
      store_->PendingSince(now - options_.grace, 100);
  if (!pending.ok()) return pending.status();
  int published = 0;
  for (const PendingChange& change : *pending) {
    absl::StatusOr<std::vector<KafkaRecord>> events = store_->ChangeEvents(change);
    if (absl::IsNotFound(events.status())) {  // never committed (a lost race or a crash)
      if (absl::Status dropped = store_->MarkPublished(change); !dropped.ok()) return dropped;
      continue;
    }
    if (!events.ok()) return events.status();
    if (absl::Status sent = Publish(change, *events); !sent.ok()) return sent;
    ++published;
  }
  return published;
}

void Outbox::Start() {
  relay_ = process::NamedThread("outbox-relay", [this] {
    absl::MutexLock lock(&mu_);
    while (!mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.relay_every)) {
      mu_.Unlock();
      absl::StatusOr<int> relayed = RelayOnce(absl::Now());
      if (!relayed.ok()) {
        logging::Warn(absl::StrCat("outbox relay: ", relayed.status().message()));
      } else if (*relayed > 0) {
        logging::Info(absl::StrCat("outbox relay: published ", *relayed, " change(s)"));
      }
      mu_.Lock();
    }
  });
}

void Outbox::Stop() noexcept {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (relay_.joinable()) {
    relay_.join();
    static_cast<void>(store_->ReleaseRelay());  // another instance relays at once
  }
}

}  // namespace choreo::users
