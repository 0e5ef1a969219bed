#include "smemu/emulator/state_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <vector>

#include <boost/crc.hpp>
#include <fmt/format.h>

#include "state_codec.h"

namespace smemu {
namespace {

using state_codec::Json;

constexpr std::string_view kFormat = "smemu-state";
constexpr std::int64_t kFormatVersion = 1;
// The clock's offset from real time is measured, not read, so it wobbles by a millisecond or two
// between commits; a move larger than this (the admin API's) is written even with nothing else.
constexpr std::int64_t kOffsetSlackMs = 5;
// Snapshots are written in pieces of about this size.
constexpr std::size_t kWriteChunk = 1u << 20;

std::uint32_t crc32_of(const void* data, std::size_t size) {
  boost::crc_32_type crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

std::uint32_t get_u32(const unsigned char* bytes) {
  return static_cast<std::uint32_t>(bytes[0]) | static_cast<std::uint32_t>(bytes[1]) << 8 |
         static_cast<std::uint32_t>(bytes[2]) << 16 | static_cast<std::uint32_t>(bytes[3]) << 24;
}

std::string cbor(const Json& entry) {
  std::string out;
  Json::to_cbor(entry, out);
  return out;
}

// One record whose payload is the CBOR array of `entries` (each already CBOR): the array's head
// (RFC 8949, major type 4) is written by hand so that the entries are not encoded twice.
std::string frame(const std::vector<std::string>& entries) {
  std::string payload;
  const auto count = entries.size();
  if (count < 24) {
    payload.push_back(static_cast<char>(0x80 + count));
  } else {
    payload.push_back(static_cast<char>(0x9A));
    for (int shift = 24; shift >= 0; shift -= 8) payload.push_back(static_cast<char>((count >> shift) & 0xFFu));
  }
  for (const auto& entry : entries) payload += entry;
  std::string record;
  record.reserve(kStateRecordHeaderBytes + payload.size());
  const auto length = static_cast<std::uint32_t>(payload.size());
  put_u32(record, length);
  put_u32(record, crc32_of(record.data(), 4));
  put_u32(record, crc32_of(payload.data(), payload.size()));
  record += payload;
  return record;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool read_at(int fd, std::uint64_t offset, std::size_t size, std::string& out) {
  out.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Whether every byte from `offset` to `size` is zero: a tail some file systems leave after a
// crash that extended the file without its data.
bool zeros_to_end(int fd, std::uint64_t offset, std::uint64_t size) {
  std::string chunk;
  while (offset < size) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, kWriteChunk));
    if (!read_at(fd, offset, n, chunk)) return false;
    if (std::any_of(chunk.begin(), chunk.end(), [](char c) { return c != 0; })) return false;
    offset += n;
  }
  return true;
}

bool sync_directory_of(const std::string& path) {
  auto directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return synced;
}

Error state_error(std::string message) { return make_error(ErrorCode::InvalidParameter, std::move(message)); }

std::int64_t real_now_ms() {
  return epoch_ms(std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()));
}

// What the records of a file add up to.
struct Loaded {
  std::map<std::pair<std::string, std::string>, model::Secret> secrets;
  std::optional<state_codec::Databases> databases;
  std::uint64_t generation = 0;
  std::optional<std::int64_t> now_ms;
  std::optional<std::int64_t> offset_ms;
};

// Applies the entries of the record at `offset` (the `index`th, from 0). Errors name the record.
Status apply(const Json& entries, std::size_t index, std::uint64_t offset, const std::string& path, Loaded& loaded) {
  auto refuse = [&](std::string_view why) {
    return state_error(fmt::format("{}: record {} at byte {} {}; refusing to load the file", path, index + 1, offset,
                                   why));
  };
  if (!entries.is_array()) return refuse("is not a list of entries");
  for (const auto& entry : entries) {
    const auto kind_it = entry.is_object() ? entry.find("t") : entry.end();
    if (!entry.is_object() || kind_it == entry.end() || !kind_it->is_string()) return refuse("holds an entry without a kind");
    const auto kind = kind_it->get<std::string>();
    if (index == 0 && kind != state_codec::kHeader) {
      return state_error(fmt::format("{}: not a smemu state file (it does not start with a smemu-state header)", path));
    }
    try {
      if (kind == state_codec::kHeader) {
        if (index != 0) return refuse("holds a header in the middle of the file");
        if (entry.at("format").get<std::string>() != kFormat) {
          return state_error(fmt::format("{}: not a smemu state file", path));
        }
        if (const auto version = entry.at("version").get<std::int64_t>(); version != kFormatVersion) {
          return state_error(fmt::format("{}: state file format version {} is not one this smemu reads (it reads {})",
                                         path, version, kFormatVersion));
        }
      } else if (kind == state_codec::kGlobals) {
        loaded.generation = entry.at("generation").get<std::uint64_t>();
        loaded.now_ms = entry.at("now").get<std::int64_t>();
        loaded.offset_ms = entry.at("offset").get<std::int64_t>();
      } else if (kind == state_codec::kDatabases) {
        auto databases = state_codec::decode_databases(entry);
        if (!databases) return refuse(databases.error().message);
        loaded.databases = std::move(databases.value());
      } else if (kind == state_codec::kSecret) {
        auto secret = state_codec::decode_secret(entry);
        if (!secret) return refuse(secret.error().message);
        auto key = std::make_pair(secret->meta.region, secret->meta.name);
        loaded.secrets.insert_or_assign(std::move(key), std::move(secret.value()));
      } else if (kind == state_codec::kErase) {
        loaded.secrets.erase(std::make_pair(entry.at("region").get<std::string>(), entry.at("name").get<std::string>()));
      } else {
        return refuse(fmt::format("holds an entry of unknown kind \"{}\"", kind));
      }
    } catch (const std::exception& error) {
      return refuse(fmt::format("is malformed: {}", error.what()));
    }
  }
  return ok_status();
}

// Reads the records of `path` into `loaded`; see state_journal.h for what is a torn tail and what
// is refused.
Status read_file(const std::string& path, Loaded& loaded, StateLoadReport& report) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      report.created = true;
      return ok_status();
    }
    return state_error(fmt::format("{}: cannot open it: {}", path, std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat status {};
  if (::fstat(fd, &status) != 0) return state_error(fmt::format("{}: {}", path, std::strerror(errno)));
  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (size == 0) {
    report.created = true;
    return ok_status();
  }
  auto torn = [&](std::uint64_t at) {
    report.torn_tail_at = at;
    report.torn_bytes = size - at;
  };
  auto damaged = [&](std::uint64_t at, std::string_view why) {
    return state_error(fmt::format("{}: record {} at byte {} is damaged ({}); refusing to load the file, since the "
                                   "records after it would be lost. Move the file away to start afresh, or cut it at "
                                   "byte {} to keep what comes before",
                                   path, report.records + 1, at, why, at));
  };
  std::string header;
  std::string payload;
  std::uint64_t offset = 0;
  while (offset < size) {
    const auto rest = size - offset;
    if (rest < kStateRecordHeaderBytes) {
      torn(offset);
      break;
    }
    if (!read_at(fd, offset, kStateRecordHeaderBytes, header)) {
      return state_error(fmt::format("{}: cannot read it: {}", path, std::strerror(errno)));
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(header.data());
    const auto length = get_u32(bytes);
    if (crc32_of(bytes, 4) != get_u32(bytes + 4)) {
      if (zeros_to_end(fd, offset, size)) {
        torn(offset);
        break;
      }
      return damaged(offset, "its length does not match its checksum");
    }
    if (length > rest - kStateRecordHeaderBytes) {
      torn(offset);
      break;
    }
    if (!read_at(fd, offset + kStateRecordHeaderBytes, length, payload)) {
      return state_error(fmt::format("{}: cannot read it: {}", path, std::strerror(errno)));
    }
    const bool last = offset + kStateRecordHeaderBytes + length == size;
    if (crc32_of(payload.data(), payload.size()) != get_u32(bytes + 8)) {
      // The last record of a file whose write was cut short may have its length but not its data.
      if (last) {
        torn(offset);
        break;
      }
      return damaged(offset, "its contents do not match their checksum");
    }
    const auto entries = Json::from_cbor(payload, /*strict=*/true, /*allow_exceptions=*/false);
    if (entries.is_discarded()) return damaged(offset, "its contents are not CBOR although their checksum matches");
    if (auto applied = apply(entries, report.records, offset, path, loaded); !applied) return applied;
    ++report.records;
    offset += kStateRecordHeaderBytes + length;
  }
  if (report.records == 0 && !report.torn_tail_at) {
    return state_error(fmt::format("{}: not a smemu state file", path));
  }
  return ok_status();
}

}  // namespace

StateJournal::StateJournal(std::string path, Service& service, StateJournalOptions options)
    : path_(std::move(path)),
      service_(service),
      options_(options),
      system_clock_(dynamic_cast<const SystemClock*>(&service.clock()) != nullptr) {}

StateJournal::~StateJournal() {
  service_.set_change_sink(nullptr);
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<StateJournal>> StateJournal::open(std::string path, Service& service,
                                                         StateJournalOptions options) {
  std::unique_ptr<StateJournal> journal(new StateJournal(std::move(path), service, options));
  const auto& file = journal->path_;
  const auto lock_path = file + ".lock";
  journal->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (journal->lock_fd_ < 0) return state_error(fmt::format("{}: {}", lock_path, std::strerror(errno)));
  if (::flock(journal->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return state_error(fmt::format("{}: another smemu holds {} (flock): one state file serves one server", file,
                                   lock_path));
  }

  Loaded loaded;
  auto& report = journal->report_;
  if (auto read = read_file(file, loaded, report); !read) return std::move(read).error();

  // The clock never reads earlier than it did at the last commit; serve's clock keeps its offset
  // from real time (the admin API's moves), so the time that passed while stopped counts too.
  if (auto* clock = dynamic_cast<MovableClock*>(&service.clock()); clock && loaded.now_ms) {
    auto target = *loaded.now_ms;
    if (journal->system_clock_ && loaded.offset_ms) target = std::max(target, real_now_ms() + *loaded.offset_ms);
    if (from_epoch_ms(target) > clock->now()) clock->set(from_epoch_ms(target));
  }
  if (loaded.databases) service.database().restore(std::move(*loaded.databases));
  // A state that was saved before starts a new generation of seeded streams: the same seed would
  // otherwise draw the same ids, ARN suffixes and passwords again.
  if (!report.created) {
    journal->generation_ = loaded.generation + 1;
    service.reseed(fmt::format("restart {}", journal->generation_));
  }
  std::vector<model::Secret> secrets;
  secrets.reserve(loaded.secrets.size());
  for (auto& [key, secret] : loaded.secrets) secrets.push_back(std::move(secret));
  report.secrets = secrets.size();
  report.resumed_runs = service.load_secrets(std::move(secrets));

  // Attaching commits everything: the fresh snapshot, without any torn tail.
  journal->opening_ = true;
  service.set_change_sink(journal.get());
  journal->opening_ = false;
  if (journal->open_error_) return state_error(*journal->open_error_);
  return journal;
}

void StateJournal::fail(const char* doing) const {
  std::fprintf(stderr, "smemu: state file %s: %s failed: %s; stopping, since the change cannot be kept\n",
               path_.c_str(), doing, std::strerror(errno));
  std::abort();
}

std::string StateJournal::globals_entry() {
  saved_now_ms_ = epoch_ms(service_.clock().now());
  saved_offset_ms_ = saved_now_ms_ - real_now_ms();
  return cbor(Json{{"t", state_codec::kGlobals}, {"generation", generation_}, {"now", saved_now_ms_},
                   {"offset", saved_offset_ms_}});
}

bool StateJournal::clock_moved() const {
  const auto now = epoch_ms(service_.clock().now());
  // Serve's clock moves with real time by itself; only a move of its offset is news. Any other
  // clock (a VirtualClock) moves only when told to.
  if (system_clock_) return std::abs(now - real_now_ms() - saved_offset_ms_) > kOffsetSlackMs;
  return now != saved_now_ms_;
}

bool StateJournal::append(const std::string& record) {
  if (!write_all(fd_, record) || ::fdatasync(fd_) != 0) return false;
  appended_bytes_ += record.size();
  return true;
}

bool StateJournal::write_snapshot(const model::Store& store) {
  const auto temporary = path_ + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::fchmod(fd, 0600) == 0;  // O_CREAT's mode does not narrow a file left behind
  std::string buffer;
  std::uint64_t total = 0;
  auto emit = [&](std::string entry) {
    const auto record = frame({std::move(entry)});
    total += record.size();
    buffer += record;
    if (buffer.size() >= kWriteChunk) {
      ok = ok && write_all(fd, buffer);
      buffer.clear();
    }
  };
  emit(cbor(Json{{"t", state_codec::kHeader}, {"format", kFormat}, {"version", kFormatVersion}}));
  emit(globals_entry());
  auto databases = cbor(state_codec::encode_databases(service_.database().snapshot()));
  emit(databases);
  decltype(saved_hashes_) hashes;
  store.for_each_stored([&](const model::Secret& secret) {
    auto entry = cbor(state_codec::encode_secret(secret));
    hashes.insert_or_assign(std::make_pair(secret.meta.region, secret.meta.name), std::hash<std::string>{}(entry));
    emit(std::move(entry));
  });
  ok = ok && write_all(fd, buffer) && ::fsync(fd) == 0 && ::rename(temporary.c_str(), path_.c_str()) == 0 &&
       sync_directory_of(path_);
  if (!ok) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  snapshot_bytes_ = total;
  appended_bytes_ = 0;
  saved_databases_ = std::move(databases);
  saved_hashes_ = std::move(hashes);
  ++snapshots_;
  return true;
}

void StateJournal::commit(const ChangeSet& changes) {
  if (changes.everything) {
    if (!write_snapshot(*changes.store)) {
      if (!opening_) fail("writing a snapshot");
      open_error_ = fmt::format("{}: cannot write {}.tmp and rename it over the file: {}", path_, path_,
                                std::strerror(errno));
    }
    return;
  }
  std::vector<std::string> entries;
  for (const auto& change : changes.secrets) {
    auto key = std::make_pair(change.region, change.name);
    if (!change.secret) {
      if (saved_hashes_.erase(key) > 0) entries.push_back(cbor(state_codec::encode_erase(change.region, change.name)));
      continue;
    }
    auto entry = cbor(state_codec::encode_secret(*change.secret));
    const auto hash = std::hash<std::string>{}(entry);
    const auto [it, added] = saved_hashes_.try_emplace(std::move(key), hash);
    if (!added) {
      if (it->second == hash) continue;  // looked up, left as it was
      it->second = hash;
    }
    entries.push_back(std::move(entry));
  }
  auto databases = cbor(state_codec::encode_databases(service_.database().snapshot()));
  if (databases != saved_databases_) {
    entries.push_back(databases);
    saved_databases_ = std::move(databases);
  }
  if (entries.empty() && !clock_moved()) return;
  entries.push_back(globals_entry());
  if (!append(frame(entries))) fail("appending a record");
  if (appended_bytes_ > std::max(options_.compact_after_bytes, snapshot_bytes_) && !write_snapshot(*changes.store)) {
    fail("writing a snapshot");
  }
}

}  // namespace smemu
