// Listings: ListSecrets, ListSecretVersionIds and BatchGetSecretValue (spec 3.6, 3.8, 3.9, 4.1,
// 6, D14), over one filter implementation and one pagination implementation.
//
// Decided, not confirmed against AWS (docs/decisions.md):
// - Filters (spec 3.9). The values of one filter are ORed, the filters ANDed. A value with a
//   leading '!' excludes: a secret passes a filter when it matches at least one of the filter's
//   plain values (or the filter has none) and none of its '!' values. A secret without the
//   attribute (no description, no tags, ...) matches no value, so '!x' lets it through.
//   `description` is a case-insensitive prefix match, `name`, `tag-key`, `tag-value`,
//   `primary-region` and `owning-service` case-sensitive prefix matches, tested against what the
//   secret's SecretListEntry shows: PrimaryRegion only exists on replicated secrets.
// - `all`: the value and every attribute (name, description, tag keys and values, primary region,
//   owning service) are broken into words: runs of letters and digits, split again where a lower
//   case letter meets an upper case one ("credsDatabase"), where an acronym meets a word
//   ("DBPassword") and where letters meet digits ("db892"); everything else separates words and is
//   ignored. The value matches when ANY of its words is a case-insensitive prefix of some word of
//   some attribute: the user guide's "searching for My_Secret matches secrets with the words my
//   or secret". A value without words matches nothing.
// - Order. ListSecrets sorts by SortBy (default created-date), ascending unless SortOrder is
//   desc, ties broken by name then ARN; desc is exactly the reverse of asc. A secret never read has
//   no LastAccessedDate and sorts before every date. Names compare byte by byte (case-sensitive).
//   ListSecretVersionIds lists newest first (CreatedDate descending, ties by VersionId
//   descending). BatchGetSecretValue with Filters lists as ListSecrets' default order.
// - NextToken (D14): base64 of a CRC-32 and the position of the last entry returned; the next
//   page starts after that position, so writes between pages neither repeat nor skip entries
//   that were not themselves changed. The checksum also covers every request parameter that
//   shapes the listing (operation, region, filters, IncludePlannedDeletion, SortBy, SortOrder;
//   the secret and IncludeDeprecated for versions) but not MaxResults: a token altered, forged or
//   given to a different listing is InvalidNextTokenException. NextToken is returned only when
//   more entries follow the page.
// - BatchGetSecretValue reads each secret exactly as GetSecretValue of its AWSCURRENT version
//   (same errors, LastAccessedDate recorded the same way; AWS logs one GetSecretValue per
//   secret). A SecretIdList gives one result per element, in order, duplicates included; an error
//   names the SecretId as given. With Filters, secrets marked for deletion are not listed (the
//   ListSecrets default) and an error names the secret's ARN. A NextToken without Filters is
//   InvalidNextTokenException: such a call never hands one out.
// - A Filter without Key or Values is InvalidParameterException.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/crc.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "service_internal.h"
#include "support/base64.h"

namespace smemu {
namespace {

constexpr std::int64_t kDefaultPageSize = 100;      // D14: ListSecrets, ListSecretVersionIds
constexpr std::int64_t kDefaultBatchPageSize = 20;  // BatchGetSecretValue: the most MaxResults allows
constexpr std::string_view kDefaultKeyId = "DefaultEncryptionKey";  // KmsKeyIds of aws/secretsmanager (3.8)

// ---- positions and NextToken ----------------------------------------------------------------

// Where an entry stands in a listing ordered by (time, text, tie), ascending or descending.
struct Position {
  std::optional<std::int64_t> time;  // epoch ms; unset sorts first
  std::string text;
  std::string tie;
};

bool ascending_less(const Position& a, const Position& b) {
  return std::tie(a.time, a.text, a.tie) < std::tie(b.time, b.text, b.tie);
}

struct Order {
  bool descending = false;
  bool precedes(const Position& a, const Position& b) const {
    return descending ? ascending_less(b, a) : ascending_less(a, b);
  }
};

Error invalid_next_token() { return make_error(ErrorCode::InvalidNextToken, "The NextToken value is invalid."); }

// Invalid UTF-8 (a VersionId from the typed API may hold any bytes) is replaced rather than thrown.
std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr std::size_t kChecksumLength = 8;

// The checksum binds the position to the listing it came from: `binding` describes the request.
std::string checksum(std::string_view binding, std::string_view position) {
  boost::crc_32_type crc;
  crc.process_bytes(binding.data(), binding.size());
  crc.process_byte('\n');
  crc.process_bytes(position.data(), position.size());
  return fmt::format("{:08x}", crc.checksum());
}

std::string make_token(std::string_view binding, const Position& position) {
  const auto text = dump(nlohmann::json{
      {"t", position.time ? nlohmann::json(*position.time) : nlohmann::json(nullptr)},
      {"x", position.text},
      {"y", position.tie}});
  return base64_encode(checksum(binding, text) + text);
}

// The position a NextToken holds; nullopt without a token (the first page).
Result<std::optional<Position>> read_token(std::string_view binding, const std::optional<std::string>& token) {
  if (!token) return std::optional<Position>{};
  const auto decoded = base64_decode(*token);
  if (!decoded || decoded->size() < kChecksumLength) return invalid_next_token();
  const std::string_view text = std::string_view(*decoded).substr(kChecksumLength);
  if (std::string_view(*decoded).substr(0, kChecksumLength) != checksum(binding, text)) return invalid_next_token();
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return invalid_next_token();
  const auto time = json.find("t");
  const auto position_text = json.find("x");
  const auto tie = json.find("y");
  if (time == json.end() || !(time->is_null() || time->is_number_integer()) || position_text == json.end() ||
      !position_text->is_string() || tie == json.end() || !tie->is_string()) {
    return invalid_next_token();
  }
  Position position{std::nullopt, position_text->get<std::string>(), tie->get<std::string>()};
  if (!time->is_null()) position.time = time->get<std::int64_t>();
  return std::optional{std::move(position)};
}

template <class Entry>
struct Page {
  std::vector<Entry> entries;
  std::optional<std::string> next_token;
};

// The page of `entries` (any order) that follows `after` in `order`, at most `size` long, with a
// NextToken when more entries follow it.
template <class Entry, class PositionOf>
Page<Entry> take_page(std::vector<Entry> entries, Order order, PositionOf position_of,
                      const std::optional<Position>& after, std::int64_t size, std::string_view binding) {
  using Keyed = std::pair<Position, Entry>;
  std::vector<Keyed> keyed;
  keyed.reserve(entries.size());
  for (auto& entry : entries) {
    auto position = position_of(entry);
    keyed.emplace_back(std::move(position), std::move(entry));
  }
  std::sort(keyed.begin(), keyed.end(),
            [&](const Keyed& a, const Keyed& b) { return order.precedes(a.first, b.first); });
  auto first = keyed.begin();
  if (after) {
    first = std::upper_bound(keyed.begin(), keyed.end(), *after,
                             [&](const Position& p, const Keyed& k) { return order.precedes(p, k.first); });
  }
  const auto last = first + std::min<std::ptrdiff_t>(keyed.end() - first, size);
  Page<Entry> page;
  for (auto it = first; it != last; ++it) page.entries.push_back(std::move(it->second));
  if (last != keyed.end()) page.next_token = make_token(binding, std::prev(last)->first);
  return page;
}

// ---- filters (spec 3.9) ----------------------------------------------------------------------

enum class FilterKey { kDescription, kName, kTagKey, kTagValue, kPrimaryRegion, kOwningService, kAll };

std::optional<FilterKey> filter_key(std::string_view key) {
  static constexpr std::pair<std::string_view, FilterKey> kKeys[] = {
      {"description", FilterKey::kDescription},      {"name", FilterKey::kName},
      {"tag-key", FilterKey::kTagKey},               {"tag-value", FilterKey::kTagValue},
      {"primary-region", FilterKey::kPrimaryRegion}, {"owning-service", FilterKey::kOwningService},
      {"all", FilterKey::kAll}};
  for (const auto& [name, value] : kKeys) {
    if (name == key) return value;
  }
  return std::nullopt;
}

struct Filter {
  FilterKey key;
  std::vector<std::string> wanted;    // plain values: one must match, if there are any
  std::vector<std::string> excluded;  // '!' values without the '!': none may match
};

Result<std::vector<Filter>> parse_filters(const std::optional<std::vector<api::Filter>>& filters) {
  std::vector<Filter> out;
  if (!filters) return out;
  for (const auto& filter : *filters) {
    const auto key = filter.key ? filter_key(*filter.key) : std::nullopt;
    if (!key || !filter.values) {
      return make_error(ErrorCode::InvalidParameter, "Every filter must have a Key and Values.");
    }
    Filter parsed{*key, {}, {}};
    for (const auto& value : *filter.values) {
      if (value.starts_with('!')) {
        parsed.excluded.push_back(value.substr(1));
      } else {
        parsed.wanted.push_back(value);
      }
    }
    out.push_back(std::move(parsed));
  }
  return out;
}

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }
bool is_lower(char c) { return std::islower(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) { return lower(a) == lower(b); });
}

// The words of `text` for the `all` filter, lower-cased (see the decisions at the top).
std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!is_alnum(c)) {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
      continue;
    }
    if (!word.empty()) {
      const char previous = text[i - 1];
      const bool next_lower = i + 1 < text.size() && is_lower(text[i + 1]);
      const bool boundary = (is_lower(previous) && is_upper(c)) || (is_upper(previous) && is_upper(c) && next_lower) ||
                            (is_digit(previous) != is_digit(c));
      if (boundary) out.push_back(std::exchange(word, std::string()));
    }
    word.push_back(lower(c));
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

// The attributes a filter key looks at, as the secret's SecretListEntry shows them.
std::vector<std::string_view> attributes(const api::SecretListEntry& entry, FilterKey key) {
  std::vector<std::string_view> out;
  const auto add = [&](const std::optional<std::string>& value) {
    if (value) out.push_back(*value);
  };
  const bool all = key == FilterKey::kAll;
  if (all || key == FilterKey::kName) add(entry.name);
  if (all || key == FilterKey::kDescription) add(entry.description);
  if (entry.tags) {
    for (const auto& tag : *entry.tags) {
      if (all || key == FilterKey::kTagKey) add(tag.key);
      if (all || key == FilterKey::kTagValue) add(tag.value);
    }
  }
  if (all || key == FilterKey::kPrimaryRegion) add(entry.primary_region);
  if (all || key == FilterKey::kOwningService) add(entry.owning_service);
  return out;
}

bool value_matches(FilterKey key, std::string_view value, const std::vector<std::string_view>& attributes) {
  switch (key) {
    case FilterKey::kAll: {
      const auto wanted = words(value);
      return std::any_of(attributes.begin(), attributes.end(), [&](std::string_view attribute) {
        const auto have = words(attribute);
        return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
          return std::any_of(have.begin(), have.end(), [&](const std::string& h) { return h.starts_with(w); });
        });
      });
    }
    case FilterKey::kDescription:
      return std::any_of(attributes.begin(), attributes.end(),
                         [&](std::string_view attribute) { return starts_with_ignoring_case(attribute, value); });
    default:
      return std::any_of(attributes.begin(), attributes.end(),
                         [&](std::string_view attribute) { return attribute.starts_with(value); });
  }
}

bool passes(const api::SecretListEntry& entry, const std::vector<Filter>& filters) {
  return std::all_of(filters.begin(), filters.end(), [&](const Filter& filter) {
    const auto values = attributes(entry, filter.key);
    const auto matches = [&](const std::string& value) { return value_matches(filter.key, value, values); };
    return (filter.wanted.empty() || std::any_of(filter.wanted.begin(), filter.wanted.end(), matches)) &&
           std::none_of(filter.excluded.begin(), filter.excluded.end(), matches);
  });
}

// ---- secret listings (ListSecrets, BatchGetSecretValue with Filters) --------------------------

enum class SortBy { kCreatedDate, kLastAccessedDate, kLastChangedDate, kName };

SortBy parse_sort_by(const std::optional<std::string>& value) {
  if (value == "last-accessed-date") return SortBy::kLastAccessedDate;
  if (value == "last-changed-date") return SortBy::kLastChangedDate;
  if (value == "name") return SortBy::kName;
  return SortBy::kCreatedDate;
}

std::optional<std::int64_t> ms(const std::optional<Timestamp>& time) {
  if (!time) return std::nullopt;
  return epoch_ms(*time);
}

struct SecretQuery {
  std::string_view operation;
  std::vector<Filter> filters;
  bool include_planned_deletion = false;
  std::optional<std::string> sort_by;  // as requested: part of the token binding
  bool descending = false;
};

// The token binding: everything that shapes a secret listing but the page size.
std::string binding(const SecretQuery& query, const CallContext& context,
                    const std::optional<std::vector<api::Filter>>& filters) {
  nlohmann::json given = nlohmann::json::array();
  if (filters) {
    for (const auto& filter : *filters) {
      given.push_back(
          nlohmann::json::array({filter.key.value_or(""), filter.values.value_or(std::vector<std::string>{})}));
    }
  }
  return dump(nlohmann::json{{"operation", query.operation},
                             {"region", context.region},
                             {"filters", given},
                             {"planned", query.include_planned_deletion},
                             {"by", query.sort_by.value_or("created-date")},
                             {"desc", query.descending}});
}

// One page of the secrets of the caller's region that `query` selects. REQUIRES: mutex_ held.
Result<Page<api::SecretListEntry>> list_secret_page(const model::Store& store, const CallContext& context,
                                                    Timestamp now, const SecretQuery& query,
                                                    const std::string& token_binding,
                                                    const std::optional<std::string>& next_token,
                                                    std::int64_t page_size) {
  auto after = read_token(token_binding, next_token);
  if (!after) return std::move(after).error();
  std::vector<api::SecretListEntry> entries;
  store.for_each(context.region, now, [&](const model::Secret& secret) {
    if (secret.meta.marked_for_deletion() && !query.include_planned_deletion) return;
    auto entry = detail::list_entry(store, secret);
    if (passes(entry, query.filters)) entries.push_back(std::move(entry));
  });
  const auto by = parse_sort_by(query.sort_by);
  const auto position_of = [by](const api::SecretListEntry& entry) {
    Position position{std::nullopt, *entry.name, *entry.arn};
    if (by == SortBy::kCreatedDate) position.time = ms(entry.created_date);
    if (by == SortBy::kLastAccessedDate) position.time = ms(entry.last_accessed_date);
    if (by == SortBy::kLastChangedDate) position.time = ms(entry.last_changed_date);
    return position;
  };
  return take_page(std::move(entries), Order{query.descending}, position_of, after.value(), page_size, token_binding);
}

}  // namespace

Result<api::ListSecretsResponse> Service::list_secrets(const CallContext& context,
                                                       const api::ListSecretsRequest& request) {
  auto filters = parse_filters(request.filters);
  if (!filters) return std::move(filters).error();
  SecretQuery query{"ListSecrets", std::move(filters.value()), request.include_planned_deletion.value_or(false),
                    request.sort_by, request.sort_order == "desc"};
  const auto token_binding = binding(query, context, request.filters);
  const auto now = this->now();
  std::shared_lock lock(mutex_);
  auto page = list_secret_page(store_, context, now, query, token_binding, request.next_token,
                               request.max_results.value_or(kDefaultPageSize));
  if (!page) return std::move(page).error();
  return api::ListSecretsResponse{std::move(page->entries), std::move(page->next_token)};
}

Result<api::ListSecretVersionIdsResponse> Service::list_secret_version_ids(
    const CallContext& context, const api::ListSecretVersionIdsRequest& request) {
  const bool include_deprecated = request.include_deprecated.value_or(false);
  const auto now = this->now();
  std::shared_lock lock(mutex_);
  // Spec 3.8 / 6: a secret marked for deletion can still be listed.
  auto found = detail::find_secret(std::as_const(store_), context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  const auto& secret = *found.value();
  auto arn = store_.arn(secret);
  const auto token_binding =
      dump(nlohmann::json{{"operation", "ListSecretVersionIds"}, {"secret", arn}, {"deprecated", include_deprecated}});
  auto after = read_token(token_binding, request.next_token);
  if (!after) return std::move(after).error();

  const std::vector<std::string> kms_key_ids{secret.meta.kms_key_id.value_or(std::string(kDefaultKeyId))};
  std::vector<api::SecretVersionsListEntry> entries;
  for (const auto& version : secret.versions()) {
    auto stages = secret.labels_of(version.id);
    // Spec 4.1: an unlabelled version is deprecated; listed only on request, without VersionStages.
    if (stages.empty() && !include_deprecated) continue;
    api::SecretVersionsListEntry entry;
    entry.version_id = version.id;
    if (!stages.empty()) entry.version_stages = std::move(stages);
    entry.last_accessed_date = version.last_accessed;
    entry.created_date = version.created;
    entry.kms_key_ids = kms_key_ids;
    entries.push_back(std::move(entry));
  }
  const auto position_of = [](const api::SecretVersionsListEntry& entry) {
    return Position{ms(entry.created_date), *entry.version_id, ""};
  };
  auto page = take_page(std::move(entries), Order{true}, position_of, after.value(),
                        request.max_results.value_or(kDefaultPageSize), token_binding);
  return api::ListSecretVersionIdsResponse{std::move(page.entries), std::move(page.next_token), std::move(arn),
                                           secret.meta.name};
}

Result<api::BatchGetSecretValueResponse> Service::batch_get_secret_value(
    const CallContext& context, const api::BatchGetSecretValueRequest& request) {
  if (request.secret_id_list.has_value() == request.filters.has_value()) {
    return make_error(ErrorCode::InvalidParameter,
                      "Either 'SecretIdList' or 'Filters' must be provided, but not both.");
  }
  if (request.max_results && !request.filters) {
    return make_error(ErrorCode::InvalidParameter,
                      "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.");
  }
  // The secrets to read, each as the SecretId to report it under.
  std::vector<std::string> secret_ids;
  api::BatchGetSecretValueResponse response;
  if (request.secret_id_list) {
    if (request.next_token) return invalid_next_token();
    secret_ids = *request.secret_id_list;
  } else {
    auto filters = parse_filters(request.filters);
    if (!filters) return std::move(filters).error();
    const SecretQuery query{"BatchGetSecretValue", std::move(filters.value()), false, std::nullopt, false};
    const auto token_binding = binding(query, context, request.filters);
    const auto now = this->now();
    std::shared_lock lock(mutex_);
    auto page = list_secret_page(store_, context, now, query, token_binding, request.next_token,
                                 request.max_results.value_or(kDefaultBatchPageSize));
    if (!page) return std::move(page).error();
    for (auto& entry : page->entries) secret_ids.push_back(std::move(*entry.arn));
    response.next_token = std::move(page->next_token);
  }
  // Spec 3.6: each secret is a GetSecretValue of AWSCURRENT; its failure is reported, not raised.
  response.secret_values.emplace();
  response.errors.emplace();
  for (auto& secret_id : secret_ids) {
    auto value = get_secret_value(context, api::GetSecretValueRequest{.secret_id = secret_id});
    if (!value) {
      const auto& error = value.error();
      response.errors->push_back(api::APIError{std::move(secret_id), std::string(error.name()), error.message});
      continue;
    }
    auto& v = value.value();
    response.secret_values->push_back(api::SecretValueEntry{.arn = std::move(v.arn),
                                                            .name = std::move(v.name),
                                                            .version_id = std::move(v.version_id),
                                                            .secret_binary = std::move(v.secret_binary),
                                                            .secret_string = std::move(v.secret_string),
                                                            .version_stages = std::move(v.version_stages),
                                                            .created_date = v.created_date});
  }
  return response;
}

}  // namespace smemu
