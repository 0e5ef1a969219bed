// Store: every secret of every region (D18), found by name, full ARN or partial ARN (spec 8).
//
// A secret in its recovery window stays in the store, marked (SecretMetadata::deleted); once its
// DeletionDate has passed it is gone: lookups no longer see it, and purge_expired() removes it.
//
// Thread-safety: a plain value; the owner serialises access.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smemu/model/secret.h"

namespace smemu::model {

class Store {
 public:
  Store(std::string partition, std::string account);

  const std::string& partition() const { return partition_; }
  const std::string& account() const { return account_; }

  // arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<suffix>
  static std::string arn(std::string_view partition, std::string_view account, const SecretMetadata& meta);
  std::string arn(const SecretMetadata& meta) const { return arn(partition_, account_, meta); }
  std::string arn(const Secret& secret) const { return arn(secret.meta); }

  // Spec 8: an exact full ARN; else an exact name; else a partial ARN (an ARN without the
  // suffix) — except that an ARN whose last part ends in "-" and six letters or digits is taken
  // for a full ARN and, if none matches, is not found even when the rest names a secret.
  // Secrets past their DeletionDate at `now` are not found. nullptr when nothing matches.
  Secret* find(std::string_view region, std::string_view secret_id, Timestamp now);
  const Secret* find(std::string_view region, std::string_view secret_id, Timestamp now) const;
  // The secret named exactly `name` in `region` (including one in its recovery window and one
  // past its DeletionDate not yet purged).
  Secret* find_by_name(std::string_view region, std::string_view name);

  // A secret's place in the store, for holding on to it between calls (the rotation engine's
  // queue) without its name: it names that secret until the secret is erased, and never a later
  // secret put in the same place.
  struct Handle {
    std::uint32_t index;
    std::uint32_t generation;
  };
  // REQUIRES: `secret` lives in this store.
  Handle handle(const Secret& secret) const;
  // The secret `handle` names (like find_by_name, including one past its DeletionDate not yet
  // purged); nullptr once it was erased.
  Secret* find(Handle handle);

  // Adds a secret. REQUIRES: no secret of that name in that region.
  Secret& insert(Secret secret);
  void erase(std::string_view region, std::string_view name);
  // Removes the secrets whose recovery window ended at or before `now`.
  void purge_expired(Timestamp now);

  // Every secret of `region` that lookups see at `now`, in no particular order.
  void for_each(std::string_view region, Timestamp now, const std::function<void(const Secret&)>& visit) const;
  std::size_t size() const;
  // Every secret held, in every region, including those past their DeletionDate not purged yet
  // (a saved state keeps them as they are); in no particular order.
  void for_each_stored(const std::function<void(const Secret&)>& visit) const;

  // --- change tracking (durable state, issue 5) ------------------------------------------------
  // While on, the store remembers the name of every secret it hands out for writing (find,
  // find_by_name, insert) and of every secret it erases, until take_changes(). A secret handed
  // out and left as it was is reported too: the caller compares if it cares. Off in a new Store.
  void track_changes(bool on);
  bool tracking_changes() const { return tracking_; }
  struct Change {
    std::string region;
    std::string name;
    const Secret* secret;  // as it is now; nullptr when it was erased. Valid until the next write.
  };
  // What was handed out or erased since the last call, each name once, sorted by region and name;
  // forgets it.
  std::vector<Change> take_changes();

 private:
  // Where the secrets live: chunks of 16, 32, 64, ... secrets constructed in place, so that a
  // Secret never moves, costs no allocation of its own (bytes_per_secret) and is named by a 32-bit
  // index. Indexes freed by remove() are reused; each index counts its secrets (its generation:
  // odd while one lives there), so that a Handle tells a later secret from the one it named.
  class Pool {
   public:
    Pool() = default;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    Pool(Pool&& other) noexcept;
    Pool& operator=(Pool&& other) noexcept;
    ~Pool();

    std::uint32_t add(Secret secret);
    void remove(std::uint32_t index);
    bool live(std::uint32_t index) const { return index < generations_.size() && (generations_[index] & 1U) != 0; }
    std::uint32_t generation(std::uint32_t index) const { return generations_[index]; }
    // The index of a secret that lives in the pool.
    std::uint32_t index_of(const Secret& secret) const;
    // REQUIRES: live(index)
    Secret& operator[](std::uint32_t index) { return slot(index); }
    const Secret& operator[](std::uint32_t index) const { return slot(index); }

   private:
    static constexpr std::uint32_t kFirstChunk = 16;
    Secret& slot(std::uint32_t index) const;
    void release();

    std::vector<Secret*> chunks_;  // chunk k: raw room for kFirstChunk << k secrets
    std::vector<std::uint32_t> generations_;  // by index, up to the highest index handed out
    std::vector<std::uint32_t> free_;
  };

  // One region's secrets by name: open addressing with linear probing over 8-byte slots, each
  // 32 bits of the name's hash and the pool index, at most 3/4 full. A lookup reads one slot (a
  // few neighbours at worst, in the same cache line) and then the one secret whose hash matches.
  class NameTable {
   public:
    std::optional<std::uint32_t> find(std::string_view name, const Pool& pool) const;
    // REQUIRES: no secret `name` in the table.
    void insert(std::string_view name, std::uint32_t index);
    // The index `name` had, now removed from the table.
    std::optional<std::uint32_t> erase(std::string_view name, const Pool& pool);
    template <class Visit>
    void for_each(Visit&& visit) const {
      for (const auto slot : slots_) {
        if (slot != kEmpty) visit(index_of(slot));
      }
    }
    std::size_t size() const { return size_; }

   private:
    static constexpr std::uint64_t kEmpty = 0;
    static std::uint32_t hash(std::string_view name);
    static std::uint32_t index_of(std::uint64_t slot) { return static_cast<std::uint32_t>(slot) - 1; }
    static std::uint32_t hash_of(std::uint64_t slot) { return static_cast<std::uint32_t>(slot >> 32); }
    std::size_t position(std::string_view name, const Pool& pool) const;  // slots_.size() when absent
    void grow();

    std::vector<std::uint64_t> slots_;  // kEmpty, or hash << 32 | (index + 1)
    std::size_t size_ = 0;
  };

  const NameTable* table(std::string_view region) const;
  // The pool index of what find() answers.
  std::optional<std::uint32_t> locate(std::string_view region, std::string_view secret_id, Timestamp now) const;
  // Records that the secret at `index` was handed out for writing (see watched_).
  Secret& watch(std::uint32_t index);
  void erase_index(std::uint32_t index);

  std::string partition_;
  std::string account_;
  Pool pool_;
  std::map<std::string, NameTable, std::less<>> regions_;
  // The secrets that may be in their recovery window: every secret handed out for writing (only
  // a writer can mark one for deletion) since the last purge_expired(), and those found marked
  // then. purge_expired() looks at these alone, so that CreateSecret, which calls it, costs O(1)
  // rather than a walk over every secret. watching_ flags the indexes in watched_.
  std::vector<std::uint32_t> watched_;
  std::vector<bool> watching_;
  // Change tracking (see track_changes): the (region, name) of each secret handed out or erased.
  bool tracking_ = false;
  std::set<std::pair<std::string, std::string>, std::less<>> changed_;
};

// True when `now` is past the end of the secret's recovery window.
inline bool deletion_expired(const SecretMetadata& meta, Timestamp now) {
  return meta.deletion_due && *meta.deletion_due <= now;
}

}  // namespace smemu::model
