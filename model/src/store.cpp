#include "smemu/model/store.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <bit>
#include <new>
#include <utility>

#include "text_hash.h"

namespace smemu::model {
namespace {

constexpr std::size_t kSuffixLength = 6;

struct ParsedArn {
  std::string_view partition, region, account, rest;
};

// arn:<partition>:secretsmanager:<region>:<account>:secret:<rest>
std::optional<ParsedArn> parse_arn(std::string_view id) {
  std::string_view parts[6];
  std::string_view remaining = id;
  for (auto& part : parts) {
    const auto colon = remaining.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    part = remaining.substr(0, colon);
    remaining.remove_prefix(colon + 1);
  }
  if (parts[0] != "arn" || parts[2] != "secretsmanager" || parts[5] != "secret") return std::nullopt;
  return ParsedArn{parts[1], parts[3], parts[4], remaining};
}

bool ends_with_suffix(std::string_view rest) {
  if (rest.size() <= kSuffixLength + 1 || rest[rest.size() - kSuffixLength - 1] != '-') return false;
  // ASCII letters and digits, whatever the C locale says (std::isalnum reads it on every call).
  return std::all_of(rest.end() - kSuffixLength, rest.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

}  // namespace

// --- Pool ----------------------------------------------------------------------------------

Store::Pool::Pool(Pool&& other) noexcept
    : chunks_(std::exchange(other.chunks_, {})),
      generations_(std::exchange(other.generations_, {})),
      free_(std::exchange(other.free_, {})) {}

Store::Pool& Store::Pool::operator=(Pool&& other) noexcept {
  if (this != &other) {
    release();
    chunks_ = std::exchange(other.chunks_, {});
    generations_ = std::exchange(other.generations_, {});
    free_ = std::exchange(other.free_, {});
  }
  return *this;
}

Store::Pool::~Pool() { release(); }

void Store::Pool::release() {
  for (std::uint32_t i = 0; i < generations_.size(); ++i) {
    if (live(i)) slot(i).~Secret();
  }
  for (auto* chunk : chunks_) ::operator delete(chunk);
  chunks_.clear();
  generations_.clear();
  free_.clear();
}

// Index i lives in chunk k at offset o where i + kFirstChunk = (kFirstChunk << k) + o.
Secret& Store::Pool::slot(std::uint32_t index) const {
  const std::uint64_t shifted = std::uint64_t{index} + kFirstChunk;
  const auto chunk = static_cast<std::size_t>(std::bit_width(shifted) - std::bit_width(std::uint64_t{kFirstChunk}));
  return chunks_[chunk][shifted - (std::uint64_t{kFirstChunk} << chunk)];
}

std::uint32_t Store::Pool::add(Secret secret) {
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(generations_.size());
    const auto capacity = (std::uint64_t{kFirstChunk} << chunks_.size()) - kFirstChunk;
    if (index == capacity) {
      const auto room = std::size_t{kFirstChunk} << chunks_.size();
      chunks_.push_back(static_cast<Secret*>(::operator new(room * sizeof(Secret))));
    }
    generations_.push_back(0);
  }
  new (&slot(index)) Secret(std::move(secret));
  ++generations_[index];
  return index;
}

void Store::Pool::remove(std::uint32_t index) {
  slot(index).~Secret();
  ++generations_[index];
  free_.push_back(index);
}

std::uint32_t Store::Pool::index_of(const Secret& secret) const {
  for (std::size_t chunk = 0; chunk < chunks_.size(); ++chunk) {
    const auto room = std::size_t{kFirstChunk} << chunk;
    if (&secret >= chunks_[chunk] && &secret < chunks_[chunk] + room) {
      return static_cast<std::uint32_t>(room - kFirstChunk + static_cast<std::size_t>(&secret - chunks_[chunk]));
    }
  }
  assert(false && "index_of: the secret does not live in this pool");
  return 0;
}

// --- NameTable -----------------------------------------------------------------------------

std::uint32_t Store::NameTable::hash(std::string_view name) { return text_hash(name); }

std::size_t Store::NameTable::position(std::string_view name, const Pool& pool) const {
  if (slots_.empty()) return 0;
  const auto h = hash(name);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    const auto slot = slots_[i];
    if (slot == kEmpty) return slots_.size();
    if (hash_of(slot) != h) continue;
    const auto& secret = pool[index_of(slot)];
    secret.prefetch_current();
    if (secret.meta.name == name) return i;
  }
}

std::optional<std::uint32_t> Store::NameTable::find(std::string_view name, const Pool& pool) const {
  const auto at = position(name, pool);
  if (at == slots_.size()) return std::nullopt;
  return index_of(slots_[at]);
}

void Store::NameTable::insert(std::string_view name, std::uint32_t index) {
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  const auto h = hash(name);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = h & mask;
  while (slots_[i] != kEmpty) i = (i + 1) & mask;
  slots_[i] = (std::uint64_t{h} << 32) | (std::uint64_t{index} + 1);
  ++size_;
}

std::optional<std::uint32_t> Store::NameTable::erase(std::string_view name, const Pool& pool) {
  auto hole = position(name, pool);
  if (hole == slots_.size()) return std::nullopt;
  const auto index = index_of(slots_[hole]);
  // Backward-shift deletion: pull later entries of the probe run into the hole, so that no
  // tombstones are left to lengthen later lookups.
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = (hole + 1) & mask; slots_[i] != kEmpty; i = (i + 1) & mask) {
    const std::size_t home = hash_of(slots_[i]) & mask;
    // The entry at i may move to the hole unless its home lies cyclically in (hole, i].
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = kEmpty;
  --size_;
  return index;
}

void Store::NameTable::grow() {
  std::vector<std::uint64_t> old(std::max<std::size_t>(16, slots_.size() * 2), kEmpty);
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const auto slot : old) {
    if (slot == kEmpty) continue;
    std::size_t i = hash_of(slot) & mask;
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

// --- Store ---------------------------------------------------------------------------------

Store::Store(std::string partition, std::string account)
    : partition_(std::move(partition)), account_(std::move(account)) {}

std::string Store::arn(std::string_view partition, std::string_view account, const SecretMetadata& meta) {
  // Copied into place rather than formatted or appended: every read and write answers with it.
  const std::array<std::string_view, 10> parts{"arn:",   partition,  ":secretsmanager:", meta.region, ":",
                                               account,  ":secret:", meta.name,          "-",         meta.suffix};
  std::size_t size = 0;
  for (const auto part : parts) size += part.size();
  std::string out(size, '\0');
  char* at = out.data();
  for (const auto part : parts) at = std::copy(part.begin(), part.end(), at);
  return out;
}

const Store::NameTable* Store::table(std::string_view region) const {
  const auto it = regions_.find(region);
  return it == regions_.end() ? nullptr : &it->second;
}

std::optional<std::uint32_t> Store::locate(std::string_view region, std::string_view secret_id, Timestamp now) const {
  const auto* secrets = table(region);
  if (!secrets) return std::nullopt;
  auto by_name = [&](std::string_view name) -> std::optional<std::uint32_t> {
    const auto index = secrets->find(name, pool_);
    if (!index || deletion_expired(pool_[*index].meta, now)) return std::nullopt;
    return index;
  };
  // Every ARN starts so; a name that does not is looked up as it is, without parsing.
  if (!secret_id.starts_with("arn:")) return by_name(secret_id);
  const auto arn = parse_arn(secret_id);
  if (!arn) return by_name(secret_id);
  if (arn->partition != partition_ || arn->region != region || arn->account != account_) return std::nullopt;
  if (ends_with_suffix(arn->rest)) {
    // A full ARN: the name and the suffix must both match. The pitfall of spec 8: a partial
    // ARN of a name that itself ends in "-xxxxxx" looks like this and is not found.
    const auto name = arn->rest.substr(0, arn->rest.size() - kSuffixLength - 1);
    const auto index = by_name(name);
    if (index && pool_[*index].meta.suffix == arn->rest.substr(arn->rest.size() - kSuffixLength)) return index;
    return std::nullopt;
  }
  return by_name(arn->rest);
}

const Secret* Store::find(std::string_view region, std::string_view secret_id, Timestamp now) const {
  const auto index = locate(region, secret_id, now);
  return index ? &pool_[*index] : nullptr;
}

Secret* Store::find(std::string_view region, std::string_view secret_id, Timestamp now) {
  const auto index = locate(region, secret_id, now);
  return index ? &watch(*index) : nullptr;
}

Secret* Store::find_by_name(std::string_view region, std::string_view name) {
  const auto* secrets = table(region);
  if (!secrets) return nullptr;
  const auto index = secrets->find(name, pool_);
  return index ? &watch(*index) : nullptr;
}

Store::Handle Store::handle(const Secret& secret) const {
  const auto index = pool_.index_of(secret);
  return Handle{index, pool_.generation(index)};
}

Secret* Store::find(Handle handle) {
  if (!pool_.live(handle.index) || pool_.generation(handle.index) != handle.generation) return nullptr;
  return &watch(handle.index);
}

Secret& Store::watch(std::uint32_t index) {
  if (tracking_) changed_.emplace(pool_[index].meta.region, pool_[index].meta.name);
  if (index >= watching_.size()) watching_.resize(index + 1, false);
  if (!watching_[index]) {
    watching_[index] = true;
    watched_.push_back(index);
  }
  return pool_[index];
}

Secret& Store::insert(Secret secret) {
  auto region_it = regions_.find(secret.meta.region);
  if (region_it == regions_.end()) region_it = regions_.emplace(secret.meta.region, NameTable{}).first;
  const auto index = pool_.add(std::move(secret));
  region_it->second.insert(pool_[index].meta.name, index);
  return watch(index);
}

void Store::erase(std::string_view region, std::string_view name) {
  const auto region_it = regions_.find(region);
  if (region_it == regions_.end()) return;
  if (const auto index = region_it->second.erase(name, pool_)) {
    if (tracking_) changed_.emplace(region, name);
    pool_.remove(*index);
    // A later secret at this index is watched afresh; watched_ may still hold the index once.
    if (*index < watching_.size()) watching_[*index] = false;
  }
}

void Store::erase_index(std::uint32_t index) {
  const auto& meta = pool_[index].meta;
  const std::string region = meta.region;
  const std::string name = meta.name;
  erase(region, name);
}

void Store::purge_expired(Timestamp now) {
  std::vector<std::uint32_t> marked;
  for (const auto index : std::exchange(watched_, {})) {
    if (index >= watching_.size() || !watching_[index]) continue;  // erased since, or seen already
    watching_[index] = false;
    const auto& meta = pool_[index].meta;
    if (deletion_expired(meta, now)) {
      erase_index(index);
    } else if (meta.marked_for_deletion()) {
      marked.push_back(index);
    }
  }
  for (const auto index : marked) watching_[index] = true;
  watched_ = std::move(marked);
}

void Store::for_each(std::string_view region, Timestamp now, const std::function<void(const Secret&)>& visit) const {
  const auto* secrets = table(region);
  if (!secrets) return;
  secrets->for_each([&](std::uint32_t index) {
    const auto& secret = pool_[index];
    if (!deletion_expired(secret.meta, now)) visit(secret);
  });
}

void Store::for_each_stored(const std::function<void(const Secret&)>& visit) const {
  for (const auto& [region, secrets] : regions_) {
    secrets.for_each([&](std::uint32_t index) { visit(pool_[index]); });
  }
}

void Store::track_changes(bool on) {
  tracking_ = on;
  changed_.clear();
}

std::vector<Store::Change> Store::take_changes() {
  std::vector<Change> out;
  out.reserve(changed_.size());
  for (auto& [region, name] : changed_) {
    const auto* secrets = table(region);
    const auto index = secrets ? secrets->find(name, pool_) : std::nullopt;
    const Secret* secret = index ? &pool_[*index] : nullptr;
    out.push_back(Change{region, name, secret});
  }
  changed_.clear();
  return out;
}

std::size_t Store::size() const {
  std::size_t total = 0;
  for (const auto& [region, secrets] : regions_) total += secrets.size();
  return total;
}

}  // namespace smemu::model
