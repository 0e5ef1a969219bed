#include "smemu/model/secret.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include <fmt/format.h>

#include "smemu/model/labels.h"
#include "text_hash.h"

namespace smemu::model {
namespace {

bool contains(std::span<const std::string> list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The labels with fixed places in a Secret, in the order of Secret::known_labels_.
constexpr std::array<std::string_view, 3> kKnownLabels{labels::kCurrent, labels::kPending, labels::kPrevious};

const std::vector<std::string> kDefaultStages{std::string(labels::kCurrent)};

Error version_not_found(std::string_view id) {
  return make_error(ErrorCode::InvalidParameter, fmt::format("Not a valid version: {}", id));
}

Error remove_from_mismatch(std::string_view label) {
  return make_error(ErrorCode::InvalidParameter,
                    fmt::format("When you move staging label {0}, if you specify RemoveFromVersionId, it must be set "
                                "to the version that currently has the staging label {0}.",
                                label));
}

}  // namespace

Secret::Secret(const Secret& other)
    : versions_(other.versions_.begin() + other.head_, other.versions_.end()),
      known_labels_(other.known_labels_),
      custom_labels_(other.custom_labels_ ? std::make_unique<std::vector<LabelEntry>>(*other.custom_labels_) : nullptr),
      meta(other.meta),
      run_(other.run_) {
  // The copy keeps no purged slots: its indexes start at 0.
  for_each_label_version([&](VersionIndex& version) { version = static_cast<VersionIndex>(version - other.head_); });
}

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) *this = Secret(other);
  return *this;
}

Secret::Secret(Secret&& other) noexcept
    : versions_(std::move(other.versions_)),
      head_(std::exchange(other.head_, 0)),
      known_labels_(std::exchange(other.known_labels_, {kNoVersion, kNoVersion, kNoVersion})),
      custom_labels_(std::move(other.custom_labels_)),
      meta(std::move(other.meta)),
      run_(std::exchange(other.run_, std::nullopt)) {
  other.versions_.clear();
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    versions_ = std::move(other.versions_);
    other.versions_.clear();
    head_ = std::exchange(other.head_, 0);
    known_labels_ = std::exchange(other.known_labels_, {kNoVersion, kNoVersion, kNoVersion});
    custom_labels_ = std::move(other.custom_labels_);
    meta = std::move(other.meta);
    run_ = std::exchange(other.run_, std::nullopt);
  }
  return *this;
}

SecretVersion::SecretVersion(std::string version_id, SecretValue version_value, Timestamp created_at)
    : id(std::move(version_id)), value(std::move(version_value)), created(created_at), id_hash_(text_hash(id)) {}

std::optional<Secret::VersionIndex> Secret::index_of(std::string_view id) const {
  const auto hash = text_hash(id);
  for (std::size_t i = head_; i < versions_.size(); ++i) {
    if (versions_[i].id_hash_ == hash && versions_[i].id == id) return static_cast<VersionIndex>(i);
  }
  return std::nullopt;
}

const Secret::VersionIndex* Secret::label_slot(std::string_view label) const {
  for (std::size_t i = 0; i < kKnownLabels.size(); ++i) {
    if (label == kKnownLabels[i]) return &known_labels_[i];
  }
  if (custom_labels_) {
    for (const auto& e : *custom_labels_) {
      if (e.label == label) return &e.version;
    }
  }
  return nullptr;
}

Secret::VersionIndex* Secret::label_slot(std::string_view label) {
  return const_cast<VersionIndex*>(std::as_const(*this).label_slot(label));
}

std::optional<Secret::VersionIndex> Secret::attached(std::string_view label) const {
  const auto* slot = label_slot(label);
  if (!slot || *slot == kNoVersion) return std::nullopt;
  return *slot;
}

std::size_t Secret::attached_count() const {
  const auto known = std::count_if(known_labels_.begin(), known_labels_.end(),
                                   [](VersionIndex version) { return version != kNoVersion; });
  return static_cast<std::size_t>(known) + (custom_labels_ ? custom_labels_->size() : 0);
}

bool Secret::is_labelled(VersionIndex version) const {
  if (std::find(known_labels_.begin(), known_labels_.end(), version) != known_labels_.end()) return true;
  return custom_labels_ && std::any_of(custom_labels_->begin(), custom_labels_->end(),
                                       [&](const LabelEntry& e) { return e.version == version; });
}

template <class Visit>
void Secret::for_each_label_version(Visit&& visit) {
  for (auto& version : known_labels_) {
    if (version != kNoVersion) visit(version);
  }
  if (custom_labels_) {
    for (auto& e : *custom_labels_) visit(e.version);
  }
}

std::vector<std::string> Secret::labels_at(VersionIndex version) const {
  std::vector<std::string> out;
  // Sized first: a version with AWSCURRENT and AWSPENDING would otherwise allocate twice.
  std::size_t count = static_cast<std::size_t>(std::count(known_labels_.begin(), known_labels_.end(), version));
  if (custom_labels_) {
    count += static_cast<std::size_t>(std::count_if(custom_labels_->begin(), custom_labels_->end(),
                                                    [&](const LabelEntry& e) { return e.version == version; }));
  }
  if (count == 0) return out;
  out.reserve(count);
  for (std::size_t i = 0; i < kKnownLabels.size(); ++i) {
    if (known_labels_[i] == version) out.emplace_back(kKnownLabels[i]);
  }
  if (custom_labels_) {
    const auto known = out.size();
    for (const auto& e : *custom_labels_) {
      if (e.version == version) out.push_back(e.label);
    }
    if (out.size() > known) std::sort(out.begin(), out.end());
  }
  return out;
}

const SecretVersion* Secret::find_version(std::string_view id) const {
  const auto index = index_of(id);
  return index ? &versions_[*index] : nullptr;
}

const SecretVersion* Secret::holder(std::string_view label) const {
  const auto version = attached(label);
  return version ? &versions_[*version] : nullptr;
}

std::vector<std::string> Secret::labels_of(std::string_view id) const {
  const auto index = index_of(id);
  return index ? labels_at(*index) : std::vector<std::string>{};
}

std::vector<std::string> Secret::labels_of(const SecretVersion& version) const {
  return labels_at(static_cast<VersionIndex>(&version - versions_.data()));
}

bool Secret::has_labels(std::string_view id) const {
  const auto index = index_of(id);
  return index && is_labelled(*index);
}

std::size_t Secret::labelled_version_count() const {
  std::vector<VersionIndex> seen;
  auto see = [&](VersionIndex version) {
    if (version != kNoVersion && std::find(seen.begin(), seen.end(), version) == seen.end()) seen.push_back(version);
  };
  for (const auto version : known_labels_) see(version);
  if (custom_labels_) {
    for (const auto& e : *custom_labels_) see(e.version);
  }
  return seen.size();
}

void Secret::attach(std::string_view label, VersionIndex version, std::vector<LabelMove>& moves) {
  if (auto* slot = label_slot(label)) {
    if (*slot == version) return;
    *slot = version;
  } else {
    if (!custom_labels_) custom_labels_ = std::make_unique<std::vector<LabelEntry>>();
    custom_labels_->push_back(LabelEntry{std::string(label), version});
  }
  moves.push_back(LabelMove{std::string(label), versions_[version].id});
}

void Secret::detach(std::string_view label) {
  for (std::size_t i = 0; i < kKnownLabels.size(); ++i) {
    if (label == kKnownLabels[i]) {
      known_labels_[i] = kNoVersion;
      return;
    }
  }
  if (!custom_labels_) return;
  std::erase_if(*custom_labels_, [&](const LabelEntry& e) { return e.label == label; });
  if (custom_labels_->empty()) custom_labels_.reset();
}

std::vector<Secret::VersionIndex> Secret::purge_candidates(Timestamp now, std::size_t needed) const {
  std::vector<VersionIndex> out;
  for (std::size_t i = head_; i < versions_.size() && out.size() < needed; ++i) {
    const auto index = static_cast<VersionIndex>(i);
    if (!is_labelled(index) && versions_[i].created + kPurgeMinAge <= now) out.push_back(index);
  }
  return out;
}

void Secret::erase_versions(std::vector<VersionIndex> indexes) {
  std::sort(indexes.begin(), indexes.end());
  // The oldest versions go by moving head_ past them; push_version reclaims their slots later.
  auto first_inside = indexes.begin();
  for (; first_inside != indexes.end() && *first_inside == head_; ++first_inside) {
    versions_[head_] = SecretVersion{};
    ++head_;
  }
  for (auto it = indexes.rbegin(); it.base() != first_inside; ++it) {
    versions_.erase(versions_.begin() + *it);
  }
  if (first_inside != indexes.end()) {
    for_each_label_version([&](VersionIndex& version) {
      const auto below = std::lower_bound(first_inside, indexes.end(), version) - first_inside;
      version = static_cast<VersionIndex>(version - below);
    });
  }
  if (head_ == versions_.size()) {
    versions_.clear();
    head_ = 0;
  }
}

Secret::VersionIndex Secret::push_version(SecretVersion version) {
  if (versions_.size() == versions_.capacity() && head_ > 0) {
    versions_.erase(versions_.begin(), versions_.begin() + head_);
    for_each_label_version([&](VersionIndex& index) { index = static_cast<VersionIndex>(index - head_); });
    head_ = 0;
    // Keep room for half as many again, so that reclaiming stays rare when every write purges.
    if (versions_.capacity() - versions_.size() < versions_.size() / 2) versions_.reserve(versions_.size() * 2);
  }
  assert(versions_.size() < kNoVersion);
  versions_.push_back(std::move(version));
  return static_cast<VersionIndex>(versions_.size() - 1);
}

Result<WriteOutcome> Secret::write_version(VersionWrite write, Timestamp now, std::string_view arn) {
  const auto existing = index_of(write.token);
  if (existing && !versions_[*existing].value.empty()) {
    // Spec 4.2: the same token with the same value succeeds and does nothing; with another
    // value it would modify an immutable version.
    if (versions_[*existing].value == write.value) {
      WriteOutcome replay;
      replay.kind = WriteOutcome::Kind::kReplayed;
      replay.stages = labels_at(*existing);
      return replay;
    }
    return make_error(ErrorCode::ResourceExists,
                      fmt::format("You can't use ClientRequestToken {} because that value is already in use for a "
                                  "version of secret {}.",
                                  write.token, arn));
  }

  const bool default_write = !write.stages.has_value();
  std::vector<std::string> listed;
  if (!default_write) {
    for (auto& label : *write.stages) {
      if (!contains(listed, label)) listed.push_back(std::move(label));
    }
    // D3: the first version of a secret without AWSCURRENT gets it even when not listed.
    if (!existing && !attached(labels::kCurrent) && !contains(listed, labels::kCurrent)) {
      listed.emplace_back(labels::kCurrent);
    }
  }
  // What the written version gets: AWSCURRENT for a default write (spec 4.3 rule 1).
  const std::span<const std::string> attach_list = default_write ? std::span(kDefaultStages) : std::span(listed);

  const auto current = attached(labels::kCurrent);
  const bool moves_current = contains(attach_list, labels::kCurrent) && current && *current != existing;
  const bool gives_previous = moves_current && !contains(attach_list, labels::kPrevious);
  const bool drops_pending = default_write && attached(labels::kPending) && !contains(attach_list, labels::kPending);

  // Label quota (spec 4.1): count what will be attached once this write is done.
  std::size_t after = attached_count();
  for (const auto& label : attach_list) after += attached(label) ? 0 : 1;
  if (gives_previous && !attached(labels::kPrevious)) ++after;
  if (drops_pending) --after;
  if (after > kMaxLabels) {
    return make_error(ErrorCode::LimitExceeded,
                      fmt::format("You can't attach more than {} staging labels to the versions of secret {}.",
                                  kMaxLabels, arn));
  }

  // Version quota (D8): make room by purging deprecated versions older than a day, oldest first.
  std::vector<VersionIndex> purge;
  if (!existing) {
    auto room = room_for_one_more(now, arn);
    if (!room) return std::move(room).error();
    purge = std::move(room.value());
  }

  // Every check passed: apply. The purged versions' ids move into the outcome.
  WriteOutcome outcome;
  for (const auto index : purge) outcome.purged_versions.push_back(std::move(versions_[index].id));
  erase_versions(std::move(purge));

  VersionIndex target;
  if (existing) {
    target = *index_of(write.token);
    versions_[target].value = std::move(write.value);
    outcome.kind = WriteOutcome::Kind::kFilledPlaceholder;
  } else {
    target = push_version(SecretVersion(std::move(write.token), std::move(write.value), now));
  }

  if (default_write) {
    if (const auto pending = attached(labels::kPending)) {
      // Spec 4.3 rule 2: a manual write abandons an outstanding rotation. When AWSPENDING sat on
      // the current version, the rotation had already finished and nothing is abandoned.
      const auto holds_current = attached(labels::kCurrent);
      if (!holds_current || *holds_current != *pending) outcome.abandoned_pending = versions_[*pending].id;
      detach(labels::kPending);
    }
  }
  outcome.moves.reserve(attach_list.size() + 1);
  if (const auto c = attached(labels::kCurrent); c && contains(attach_list, labels::kCurrent) && *c != target &&
                                                 !contains(attach_list, labels::kPrevious)) {
    attach(labels::kPrevious, *c, outcome.moves);
  }
  for (const auto& label : attach_list) attach(label, target, outcome.moves);
  outcome.stages = labels_at(target);
  outcome.ended_run = reconcile_run();
  return outcome;
}

Result<std::vector<Secret::VersionIndex>> Secret::room_for_one_more(Timestamp now, std::string_view arn) const {
  const auto count = versions().size();
  if (count + 1 <= kMaxVersions) return std::vector<VersionIndex>{};
  const std::size_t needed = count + 1 - kMaxVersions;
  auto purge = purge_candidates(now, needed);
  if (purge.size() < needed) {
    return make_error(ErrorCode::LimitExceeded,
                      fmt::format("You can't create more than {} versions of secret {}: no deprecated version is "
                                  "older than 24 hours, so none can be removed to make room.",
                                  kMaxVersions, arn));
  }
  return purge;
}

Result<StageOutcome> Secret::update_stage(std::string_view label, const std::optional<std::string>& remove_from,
                                          const std::optional<std::string>& move_to) {
  if (!remove_from && !move_to) {
    return make_error(ErrorCode::InvalidParameter,
                      "You must specify MoveToVersionId, RemoveFromVersionId, or both.");
  }
  std::optional<VersionIndex> to;
  std::optional<VersionIndex> from;
  if (move_to) {
    to = index_of(*move_to);
    if (!to) return version_not_found(*move_to);  // D7
  }
  if (remove_from) {
    from = index_of(*remove_from);
    if (!from) return version_not_found(*remove_from);  // D7
  }
  const auto held = attached(label);
  StageOutcome outcome;

  if (!to) {
    if (!held || *held != *from) {
      return make_error(ErrorCode::InvalidParameter,
                        fmt::format("Staging label {} isn't attached to version {}.", label, *remove_from));
    }
    if (label == labels::kCurrent) {  // D6
      return make_error(ErrorCode::InvalidParameter,
                        fmt::format("You can't remove the staging label AWSCURRENT from version {} without moving it: "
                                    "a secret must keep an AWSCURRENT version. Specify MoveToVersionId.",
                                    *remove_from));
    }
    detach(label);
    outcome.ended_run = reconcile_run();
    return outcome;
  }

  if (held && *held != *to) {
    if (!from) {
      return make_error(ErrorCode::InvalidParameter,
                        fmt::format("The parameter RemoveFromVersionId can't be empty. Staging label {} is currently "
                                    "attached to version {}, so you must explicitly reference that version in "
                                    "RemoveFromVersionId.",
                                    label, versions_[*held].id));
    }
    if (*from != *held) return remove_from_mismatch(label);
  } else if (from && (!held || *from != *held)) {
    return remove_from_mismatch(label);
  }

  const bool moves_current = label == labels::kCurrent && held && *held != *to;
  const std::size_t after = attached_count() + (held ? 0 : 1) + (moves_current && !attached(labels::kPrevious) ? 1 : 0);
  if (after > kMaxLabels) {
    return make_error(ErrorCode::LimitExceeded,
                      fmt::format("You can't attach more than {} staging labels to the versions of a secret.",
                                  kMaxLabels));
  }
  if (moves_current) {
    // Spec 4.4: AWSPREVIOUS follows onto the version AWSCURRENT left.
    attach(labels::kPrevious, *held, outcome.moves);
  }
  attach(label, *to, outcome.moves);
  outcome.ended_run = reconcile_run();
  return outcome;
}

void Secret::add_placeholder(const std::string& token, Timestamp now) {
  const auto index = push_version(SecretVersion(token, SecretValue{}, now));
  std::vector<LabelMove> moves;
  attach(labels::kPending, index, moves);
}

void Secret::drop_version(std::string_view id) {
  const auto index = index_of(id);
  if (!index) return;
  for (auto& version : known_labels_) {
    if (version == *index) version = kNoVersion;
  }
  if (custom_labels_) {
    std::erase_if(*custom_labels_, [&](const LabelEntry& e) { return e.version == *index; });
    if (custom_labels_->empty()) custom_labels_.reset();
  }
  erase_versions({*index});
}

Result<Secret> Secret::restore(SecretMetadata meta, std::vector<SecretVersion> versions,
                               const std::vector<LabelMove>& attached_labels, std::optional<RotationRun> run) {
  auto refuse = [](std::string why) { return make_error(ErrorCode::InvalidParameter, std::move(why)); };
  if (versions.size() > kMaxVersions) {
    return refuse(fmt::format("secret {} holds {} versions; at most {} fit", meta.name, versions.size(), kMaxVersions));
  }
  Secret secret(std::move(meta));
  secret.versions_.reserve(versions.size());
  for (auto& version : versions) {
    if (secret.index_of(version.id)) {
      return refuse(fmt::format("secret {} lists version {} twice", secret.meta.name, version.id));
    }
    // Built afresh so that the id's hash matches the id.
    SecretVersion copy(std::move(version.id), std::move(version.value), version.created);
    copy.last_accessed = version.last_accessed;
    secret.versions_.push_back(std::move(copy));
  }
  std::vector<LabelMove> ignored;
  for (const auto& [label, version_id] : attached_labels) {
    if (secret.attached(label)) {
      return refuse(fmt::format("secret {} lists staging label {} twice", secret.meta.name, label));
    }
    const auto index = secret.index_of(version_id);
    if (!index) {
      return refuse(fmt::format("secret {} attaches staging label {} to version {}, which it does not hold",
                                secret.meta.name, label, version_id));
    }
    secret.attach(label, *index, ignored);
  }
  if (secret.attached_count() > kMaxLabels) {
    return refuse(fmt::format("secret {} has {} staging labels; at most {} fit", secret.meta.name,
                              secret.attached_count(), kMaxLabels));
  }
  if (run) {
    const bool pending = secret.has_label(run->token, labels::kPending);
    const bool finishing = run->phase == RotationRun::Phase::kRunning && run->step == Step::kFinishSecret &&
                           secret.has_label(run->token, labels::kCurrent);
    if (!pending && !finishing) {
      return refuse(fmt::format("the rotation of secret {} names version {}, which holds neither AWSPENDING nor "
                                "(during finishSecret) AWSCURRENT",
                                secret.meta.name, run->token));
    }
    secret.run_ = std::move(*run);
  }
  return secret;
}

bool Secret::touch(std::string_view id, Timestamp now) {
  const auto day = day_floor(now);
  bool changed = false;
  if (const auto index = index_of(id); index && versions_[*index].last_accessed != day) {
    versions_[*index].last_accessed = day;
    changed = true;
  }
  if (meta.last_accessed != day) {
    meta.last_accessed = day;
    changed = true;
  }
  return changed;
}

}  // namespace smemu::model
