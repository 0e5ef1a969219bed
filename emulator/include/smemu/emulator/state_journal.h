// StateJournal: `smemu serve --state FILE`, the service's state kept in a file, every acknowledged
// change durable before it is answered (issue 5, D19).
//
// FILE is a sequence of records, each
//     u32 length | u32 CRC-32 of the 4 length bytes | u32 CRC-32 of the payload | payload
// (little-endian; the length's own checksum tells a damaged length from a file cut short). A
// payload is a CBOR array of entries (state_codec.h): a secret, whole, as it is now; a secret
// erased; the simulated databases; the globals (restart generation, the clock). A file starts
// with a snapshot (a header entry, then everything) and goes on with one record per commit: the
// secrets the commit touched, each whole, so a record is all of one acknowledged change or none
// of it. Loading applies the records in order, the last word on each secret winning.
//
// Every commit (Service::set_change_sink) is one write() and one fdatasync() before the call
// that made it answers. Once the records appended since the last snapshot outgrow
// max(compact_after_bytes, the snapshot), a new snapshot is written to FILE.tmp (mode 0600),
// fsync()ed, renamed over FILE and the directory fsync()ed; appends then go to the new file. A
// write that fails stops the process (abort): carrying on would acknowledge a change that is not
// kept. FILE.lock (0600) is held with flock() while the journal is open, so that two servers
// never write one file.
//
// Loading: a file whose last record is incomplete (a write cut short: fewer bytes than its length
// says, a header cut short, zeros, or a last record failing its checksum) loads up to the last
// whole record, and the report says where the tail began; the file is then rewritten without it.
// A record that fails its checks anywhere else is refused with its byte offset, never skipped.
//
// What else comes back (docs/decisions.md): the clock never reads earlier than the last commit
// did, and serve's offset (SystemClock) carries on; the seeded streams are split afresh for each
// restart (Service::reseed), so ids drawn after a restart do not repeat earlier ones; the
// SimulatedDatabase; rotation runs with their queue (Service::load_secrets). Not kept: the event
// log and registered functions (serve registers them from its command line again).
//
// Thread-safety: commit() runs under the service's write lock; open() before anything else uses
// the service.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "smemu/emulator/change_sink.h"
#include "smemu/emulator/service.h"
#include "smemu/model/result.h"

namespace smemu {

inline constexpr std::size_t kStateRecordHeaderBytes = 12;

struct StateJournalOptions {
  // Compaction starts once the records appended since the last snapshot exceed
  // max(compact_after_bytes, the size of that snapshot).
  std::uint64_t compact_after_bytes = 4u << 20;
};

// What open() found.
struct StateLoadReport {
  bool created = false;          // FILE did not exist, or was empty: a new state begins
  std::size_t records = 0;       // whole records read
  std::size_t secrets = 0;       // secrets loaded, every region (replicas count in theirs)
  std::size_t resumed_runs = 0;  // rotations whose step was running when the state was saved
  // Where an incomplete last record began, and how many bytes from there were left out.
  std::optional<std::uint64_t> torn_tail_at;
  std::uint64_t torn_bytes = 0;
};

class StateJournal final : public ChangeSink {
 public:
  // Loads `path` into `service`, which holds nothing yet and has no call in progress; writes a
  // fresh snapshot; and from then on keeps every change of `service` in the file. Errors
  // (InvalidParameterException): the file cannot be read, created or locked, or it holds a
  // damaged record before its end; the message names the file and the record's byte offset.
  static Result<std::unique_ptr<StateJournal>> open(std::string path, Service& service,
                                                    StateJournalOptions options = {});
  StateJournal(const StateJournal&) = delete;
  StateJournal& operator=(const StateJournal&) = delete;
  // Detaches from the service (waiting for its write lock) and closes the file.
  ~StateJournal() override;

  const StateLoadReport& load_report() const { return report_; }
  // Snapshots written since open(), the one open() writes included (for tests).
  std::uint64_t snapshots() const { return snapshots_; }

  void commit(const ChangeSet& changes) override;

 private:
  StateJournal(std::string path, Service& service, StateJournalOptions options);

  // A new FILE from everything in `store`; false (with errno) when a write fails.
  bool write_snapshot(const model::Store& store);
  // Appends one record and waits for it to be on disk; false (with errno) when that fails.
  bool append(const std::string& record);
  // Stops the process: a change could not be kept and must not be acknowledged.
  [[noreturn]] void fail(const char* doing) const;
  // The globals entry, with the clock as it reads now (remembered as the last one written).
  std::string globals_entry();
  // Whether the clock moved since the last globals entry, other than with real time.
  bool clock_moved() const;

  std::string path_;
  Service& service_;
  StateJournalOptions options_;
  int fd_ = -1;
  int lock_fd_ = -1;
  StateLoadReport report_;
  std::uint64_t generation_ = 0;     // restarts of this state; 0 until the first restart
  std::uint64_t snapshot_bytes_ = 0;
  std::uint64_t appended_bytes_ = 0;  // since the last snapshot
  std::uint64_t snapshots_ = 0;
  const bool system_clock_;          // serve's SystemClock: real time plus an offset
  std::int64_t saved_now_ms_ = 0;     // the clock's reading in the last globals entry
  std::int64_t saved_offset_ms_ = 0;  // and its offset from real time then
  std::string saved_databases_;       // the last databases entry written, as CBOR
  // A hash of each secret's last entry, so that a secret looked up and left as it was is not
  // written again (a failed call, a lookup that found nothing to do).
  std::map<std::pair<std::string, std::string>, std::uint64_t, std::less<>> saved_hashes_;
  bool opening_ = false;              // inside open(): a failed write is an error, not fatal
  std::optional<std::string> open_error_;
};

}  // namespace smemu
