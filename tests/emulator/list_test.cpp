// Listings: ListSecrets (spec 3.9), ListSecretVersionIds (spec 3.8), BatchGetSecretValue
// (spec 3.6), their filters, order and position-based NextToken (D14).
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "smemu/emulator/service.h"

namespace {

using Names = std::vector<std::string>;
using smemu::api::Filter;

// Timestamps on the wire: epoch seconds with millisecond fractions.
double seconds(smemu::Timestamp t) { return static_cast<double>(smemu::epoch_ms(t)) / 1000.0; }

std::string token(int n) { return "token-" + std::string(30, '0') + std::to_string(100 + n); }

struct Fixture {
  smemu::Service service;
  smemu::Client client = service.client("us-east-1");

  void advance(std::int64_t ms) { service.virtual_clock()->advance(smemu::Duration{ms}); }

  std::string create(smemu::api::CreateSecretRequest request) {
    if (!request.secret_string && !request.secret_binary) request.secret_string = "value-of-" + *request.name;
    auto r = client.create_secret(std::move(request));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r->arn;
  }
  std::string add(const std::string& name) { return create(smemu::api::CreateSecretRequest{.name = name}); }

  // Every page of a listing, checking that only the last page lacks a NextToken.
  Names list_all(smemu::api::ListSecretsRequest request) {
    Names names;
    for (int pages = 0; pages < 100; ++pages) {
      auto r = client.list_secrets(request);
      REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
      REQUIRE(r->secret_list);
      for (const auto& entry : *r->secret_list) names.push_back(*entry.name);
      if (!r->next_token) return names;
      REQUIRE_FALSE(r->secret_list->empty());
      request.next_token = r->next_token;
    }
    FAIL("the listing did not end");
    return names;
  }
  Names filtered(std::vector<Filter> filters) { return list_all({.filters = std::move(filters), .sort_by = "name"}); }

  smemu::Error list_error(smemu::api::ListSecretsRequest request) {
    auto r = client.list_secrets(std::move(request));
    REQUIRE_FALSE(r.ok());
    return r.error();
  }
};

Filter filter(const std::string& key, std::vector<std::string> values) {
  return {.key = key, .values = std::move(values)};
}

}  // namespace

// ---- ListSecrets: shape, region, deletion ---------------------------------------------------------

TEST_CASE("emulator/list: ListSecrets answers SecretList entries in the AWS shape (JSON path)") {
  Fixture f;
  auto empty = f.client.call("ListSecrets", nlohmann::json::object());
  REQUIRE(empty.ok());
  CHECK(*empty == nlohmann::json{{"SecretList", nlohmann::json::array()}});

  const auto arn = f.create({.name = "db", .client_request_token = token(1), .description = "the db",
                             .tags = std::vector<smemu::api::Tag>{{.key = "env", .value = "prod"}}});
  auto r = f.client.call("ListSecrets", nlohmann::json::object());
  REQUIRE(r.ok());
  REQUIRE(r->at("SecretList").size() == 1);
  CHECK_FALSE(r->contains("NextToken"));
  const auto& entry = r->at("SecretList")[0];
  CHECK(entry.at("ARN") == arn);
  CHECK(entry.at("Name") == "db");
  CHECK(entry.at("Description") == "the db");
  CHECK(entry.at("Tags") == nlohmann::json::array({{{"Key", "env"}, {"Value", "prod"}}}));
  CHECK(entry.at("SecretVersionsToStages") == nlohmann::json{{token(1), {"AWSCURRENT"}}});
  CHECK(entry.contains("CreatedDate"));
  CHECK(entry.contains("LastChangedDate"));
  CHECK_FALSE(entry.contains("VersionIdsToStages"));
  CHECK_FALSE(entry.contains("ReplicationStatus"));
  CHECK_FALSE(entry.contains("DeletedDate"));
}

TEST_CASE("emulator/list: ListSecrets lists the caller's region only") {
  Fixture f;
  f.add("here");
  auto eu = f.service.client("eu-west-1");
  REQUIRE(eu.create_secret({.name = "there", .secret_string = "v"}).ok());
  CHECK(f.list_all({}) == Names{"here"});
  auto r = eu.list_secrets({});
  REQUIRE(r.ok());
  REQUIRE(r->secret_list->size() == 1);
  CHECK(r->secret_list->at(0).name == "there");
}

TEST_CASE("emulator/list: secrets marked for deletion are hidden unless IncludePlannedDeletion") {
  Fixture f;
  f.add("kept");
  f.add("deleted");
  REQUIRE(f.client.delete_secret({.secret_id = "deleted", .recovery_window_in_days = 7}).ok());
  CHECK(f.list_all({.sort_by = "name"}) == Names{"kept"});
  CHECK(f.list_all({.include_planned_deletion = false, .sort_by = "name"}) == Names{"kept"});
  auto r = f.client.list_secrets({.include_planned_deletion = true, .sort_by = "name"});
  REQUIRE(r.ok());
  REQUIRE(r->secret_list->size() == 2);
  CHECK(r->secret_list->at(0).name == "deleted");
  CHECK(r->secret_list->at(0).deleted_date == smemu::kVirtualEpoch);
  CHECK_FALSE(r->secret_list->at(1).deleted_date);
  // Past its DeletionDate the secret is gone, even from IncludePlannedDeletion.
  f.service.virtual_clock()->advance(smemu::days(7));
  CHECK(f.list_all({.include_planned_deletion = true}) == Names{"kept"});
}

// ---- ListSecrets: filters ------------------------------------------------------------------------

TEST_CASE("emulator/list: the name filter is a case-sensitive prefix match") {
  Fixture f;
  for (const auto* name : {"DatabaseSecret", "databaseSecret", "MyData", "Data"}) f.add(name);
  CHECK(f.filtered({filter("name", {"Data"})}) == Names{"Data", "DatabaseSecret"});
  CHECK(f.filtered({filter("name", {"data"})}) == Names{"databaseSecret"});
  CHECK(f.filtered({filter("name", {"ata"})}).empty());
  CHECK(f.filtered({filter("name", {""})}) == Names{"Data", "DatabaseSecret", "MyData", "databaseSecret"});
}

TEST_CASE("emulator/list: the description filter is a case-insensitive prefix match") {
  Fixture f;
  f.create({.name = "a", .description = "Conducts a rotation"});
  f.create({.name = "b", .description = "conducts nothing"});
  f.create({.name = "c", .description = "It conducts"});
  f.create({.name = "d"});
  CHECK(f.filtered({filter("description", {"CONDUCTS"})}) == Names{"a", "b"});
  CHECK(f.filtered({filter("description", {"conducts a"})}) == Names{"a"});
  // A secret without a description has nothing to match, so a negated value lets it through.
  CHECK(f.filtered({filter("description", {"!conducts"})}) == Names{"c", "d"});
}

TEST_CASE("emulator/list: tag-key and tag-value filters are case-sensitive prefix matches over every tag") {
  Fixture f;
  using Tags = std::vector<smemu::api::Tag>;
  f.create({.name = "a", .tags = Tags{{.key = "Production", .value = "x"}, {.key = "team", .value = "Prod1"}}});
  f.create({.name = "b", .tags = Tags{{.key = "prod", .value = "prod"}}});
  f.create({.name = "c", .tags = Tags{{.key = "1 Prod", .value = "1 Prod"}}});
  f.create({.name = "d"});
  CHECK(f.filtered({filter("tag-key", {"Prod"})}) == Names{"a"});
  CHECK(f.filtered({filter("tag-key", {"prod"})}) == Names{"b"});
  CHECK(f.filtered({filter("tag-value", {"Prod"})}) == Names{"a"});
  CHECK(f.filtered({filter("tag-value", {"prod", "1"})}) == Names{"b", "c"});
  // A key is not a value and a value is not a key.
  CHECK(f.filtered({filter("tag-value", {"team"})}).empty());
  CHECK(f.filtered({filter("tag-key", {"x"})}).empty());
  // Negated: a secret with any tag key starting "Prod" is excluded; untagged secrets stay.
  CHECK(f.filtered({filter("tag-key", {"!Prod"})}) == Names{"b", "c", "d"});
}

TEST_CASE("emulator/list: primary-region matches the PrimaryRegion of replicated secrets") {
  Fixture f;
  f.create({.name = "replicated",
            .add_replica_regions = std::vector<smemu::api::ReplicaRegion>{{.region = "eu-west-1"}}});
  f.add("plain");
  CHECK(f.filtered({filter("primary-region", {"us-east"})}) == Names{"replicated"});
  CHECK(f.filtered({filter("primary-region", {"US-EAST"})}).empty());
  CHECK(f.filtered({filter("primary-region", {"eu-"})}).empty());
  CHECK(f.filtered({filter("primary-region", {"!us-east-1"})}) == Names{"plain"});
}

TEST_CASE("emulator/list: owning-service matches only secrets a service owns") {
  Fixture f;
  f.add("a");
  f.add("b");
  // Secrets created through the API have no OwningService.
  CHECK(f.filtered({filter("owning-service", {""})}).empty());
  CHECK(f.filtered({filter("owning-service", {"rds"})}).empty());
  CHECK(f.filtered({filter("owning-service", {"!rds"})}) == Names{"a", "b"});
}

TEST_CASE("emulator/list: 'all' breaks values and attributes into words; any word matching as a prefix, any case") {
  Fixture f;
  using Tags = std::vector<smemu::api::Tag>;
  f.add("credsDatabase892");
  f.create({.name = "described", .description = "My basic description"});
  f.create({.name = "tagged", .tags = Tags{{.key = "Environment", .value = "production"}}});
  f.add("DBPassword");
  f.add("plain");
  const auto all = [&](const std::string& value) { return f.filtered({filter("all", {value})}); };
  // Words split at lower->upper, acronym->word and letter<->digit changes and at punctuation.
  CHECK(all("database") == Names{"credsDatabase892"});
  CHECK(all("892") == Names{"credsDatabase892"});
  CHECK(all("CREDS") == Names{"credsDatabase892"});
  CHECK(all("password") == Names{"DBPassword"});
  CHECK(all("db") == Names{"DBPassword"});
  // A word of the value matches the beginning of a word of an attribute, not its middle.
  CHECK(all("base").empty());
  CHECK(all("ription").empty());
  // Descriptions, tag keys and tag values are searched too.
  CHECK(all("DESCRIP") == Names{"described"});
  CHECK(all("env") == Names{"tagged"});
  CHECK(all("prod") == Names{"tagged"});
  // Any word of the value is enough ("My_Secret" finds secrets with the word my or secret).
  CHECK(all("My_Secret") == Names{"described"});
  CHECK(all("nothing plain") == Names{"plain"});
  CHECK(all("credsPlain") == Names{"credsDatabase892", "plain"});
  // A value without words matches nothing; negated, it excludes nothing.
  CHECK(all("_/").empty());
  CHECK(all("!_/").size() == 5);
  CHECK(all("!database") == Names{"DBPassword", "described", "plain", "tagged"});
}

TEST_CASE("emulator/list: values of one filter are ORed, filters ANDed, '!' values exclude") {
  Fixture f;
  for (const auto* name : {"prod/db", "prod/api", "dev/db", "dev/api", "test/db"}) f.add(name);
  CHECK(f.filtered({filter("name", {"prod/", "dev/"})}) == Names{"dev/api", "dev/db", "prod/api", "prod/db"});
  CHECK(f.filtered({filter("name", {"prod/", "dev/"}), filter("all", {"db"})}) == Names{"dev/db", "prod/db"});
  CHECK(f.filtered({filter("name", {"!prod/"})}) == Names{"dev/api", "dev/db", "test/db"});
  CHECK(f.filtered({filter("name", {"!prod/", "!dev/"})}) == Names{"test/db"});
  // Plain and negated values together: one plain value must match and no negated one may.
  CHECK(f.filtered({filter("name", {"prod/", "dev/", "!dev/a"})}) == Names{"dev/db", "prod/api", "prod/db"});
  CHECK(f.filtered({filter("name", {"prod/"}), filter("name", {"!prod/db"})}) == Names{"prod/api"});
  // Only a leading '!' negates.
  CHECK(f.filtered({filter("name", {"prod!"})}).empty());
  CHECK(f.filtered({}) == Names{"dev/api", "dev/db", "prod/api", "prod/db", "test/db"});
}

TEST_CASE("emulator/list: a filter without Key or Values is InvalidParameterException") {
  Fixture f;
  f.add("a");
  auto no_values = f.list_error({.filters = std::vector<Filter>{{.key = "name"}}});
  CHECK(no_values.name() == "InvalidParameterException");
  CHECK(no_values.message == "Every filter must have a Key and Values.");
  CHECK(f.list_error({.filters = std::vector<Filter>{{.values = std::vector<std::string>{"a"}}}}).name() ==
        "InvalidParameterException");
  auto json = f.client.call("ListSecrets", {{"Filters", {{{"Key", "name"}}}}});
  REQUIRE_FALSE(json.ok());
  CHECK(json.error().name() == "InvalidParameterException");
}

// ---- ListSecrets: order ---------------------------------------------------------------------------

TEST_CASE("emulator/list: secrets are listed by CreatedDate ascending by default, ties by name") {
  Fixture f;
  f.add("b");
  f.advance(1);
  f.add("c");
  f.add("a");  // same millisecond as "c": the name breaks the tie
  f.advance(1);
  f.add("0");
  CHECK(f.list_all({}) == Names{"b", "a", "c", "0"});
  CHECK(f.list_all({.sort_order = "asc"}) == Names{"b", "a", "c", "0"});
  CHECK(f.list_all({.sort_by = "created-date"}) == Names{"b", "a", "c", "0"});
  // desc is the exact reverse, tie-breaks included.
  CHECK(f.list_all({.sort_order = "desc"}) == Names{"0", "c", "a", "b"});
}

TEST_CASE("emulator/list: SortBy name, last-changed-date and last-accessed-date") {
  Fixture f;
  f.add("b");
  f.add("a");
  f.add("C");
  CHECK(f.list_all({.sort_order = "asc", .sort_by = "name"}) == Names{"C", "a", "b"});
  CHECK(f.list_all({.sort_order = "desc", .sort_by = "name"}) == Names{"b", "a", "C"});

  f.advance(1000);
  REQUIRE(f.client.update_secret({.secret_id = "a", .description = "changed"}).ok());
  CHECK(f.list_all({.sort_by = "last-changed-date"}) == Names{"C", "b", "a"});
  CHECK(f.list_all({.sort_order = "desc", .sort_by = "last-changed-date"}) == Names{"a", "b", "C"});

  // Never-read secrets have no LastAccessedDate and come before every read one.
  f.service.virtual_clock()->advance(smemu::days(1));
  REQUIRE(f.client.get_secret_value({.secret_id = "b"}).ok());
  f.service.virtual_clock()->advance(smemu::days(1));
  REQUIRE(f.client.get_secret_value({.secret_id = "C"}).ok());
  CHECK(f.list_all({.sort_by = "last-accessed-date"}) == Names{"a", "b", "C"});
  CHECK(f.list_all({.sort_order = "desc", .sort_by = "last-accessed-date"}) == Names{"C", "b", "a"});
}

// ---- ListSecrets: pagination ------------------------------------------------------------------------

TEST_CASE("emulator/list: pages of every size list each secret once, NextToken only while more follow") {
  Fixture f;
  Names expected;
  for (int i = 0; i < 7; ++i) {
    expected.push_back("s" + std::to_string(i));
    f.add(expected.back());
    f.advance(1);
  }
  Names reversed(expected.rbegin(), expected.rend());
  for (std::int64_t size = 1; size <= 8; ++size) {
    CAPTURE(size);
    CHECK(f.list_all({.max_results = size}) == expected);
    CHECK(f.list_all({.max_results = size, .sort_order = "desc"}) == reversed);
    auto first = f.client.list_secrets({.max_results = size});
    REQUIRE(first.ok());
    CHECK(first->secret_list->size() == static_cast<std::size_t>(std::min<std::int64_t>(size, 7)));
    CHECK(first->next_token.has_value() == (size < 7));
  }
  // MaxResults may change from page to page.
  auto first = f.client.list_secrets({.max_results = 2});
  REQUIRE(first.ok());
  auto rest = f.client.list_secrets({.max_results = 10, .next_token = first->next_token});
  REQUIRE(rest.ok());
  CHECK(rest->secret_list->size() == 5);
  CHECK(rest->secret_list->front().name == "s2");
  CHECK_FALSE(rest->next_token);
}

TEST_CASE("emulator/list: the default page is 100 secrets (D14)") {
  Fixture f;
  for (int i = 0; i < 101; ++i) f.add("s" + std::to_string(1000 + i));
  auto first = f.client.list_secrets({});
  REQUIRE(first.ok());
  CHECK(first->secret_list->size() == 100);
  REQUIRE(first->next_token);
  auto second = f.client.list_secrets({.next_token = first->next_token});
  REQUIRE(second.ok());
  REQUIRE(second->secret_list->size() == 1);
  CHECK(second->secret_list->front().name == "s1100");
  CHECK_FALSE(second->next_token);
}

TEST_CASE("emulator/list: NextToken is a position: writes between pages neither repeat nor skip entries") {
  Fixture f;
  for (const auto* name : {"b", "c", "d", "e", "f"}) f.add(name);
  auto page1 = f.client.list_secrets({.max_results = 2, .sort_by = "name"});
  REQUIRE(page1.ok());
  REQUIRE(page1->secret_list->size() == 2);
  CHECK(page1->secret_list->at(1).name == "c");
  // Before the position (would shift an offset), after it, and a removal after it.
  f.add("a");
  f.add("ca");
  REQUIRE(f.client.delete_secret({.secret_id = "e", .force_delete_without_recovery = true}).ok());
  auto page2 = f.client.list_secrets({.max_results = 2, .next_token = page1->next_token, .sort_by = "name"});
  REQUIRE(page2.ok());
  REQUIRE(page2->secret_list->size() == 2);
  CHECK(page2->secret_list->at(0).name == "ca");
  CHECK(page2->secret_list->at(1).name == "d");
  // The secret the token points at may itself be gone: the position still holds.
  REQUIRE(f.client.delete_secret({.secret_id = "d", .force_delete_without_recovery = true}).ok());
  auto page3 = f.client.list_secrets({.max_results = 2, .next_token = page2->next_token, .sort_by = "name"});
  REQUIRE(page3.ok());
  REQUIRE(page3->secret_list->size() == 1);
  CHECK(page3->secret_list->at(0).name == "f");
  CHECK_FALSE(page3->next_token);

  SUBCASE("by CreatedDate, a secret created between pages comes last") {
    auto first = f.client.list_secrets({.max_results = 2});
    REQUIRE(first.ok());
    f.advance(1);
    f.add("newest");
    auto rest = f.client.list_secrets({.next_token = first->next_token});
    REQUIRE(rest.ok());
    REQUIRE_FALSE(rest->secret_list->empty());
    CHECK(rest->secret_list->back().name == "newest");
    CHECK(rest->secret_list->size() + 2 == f.list_all({}).size());
  }
}

TEST_CASE("emulator/list: a forged, altered or foreign NextToken is InvalidNextTokenException") {
  Fixture f;
  for (const auto* name : {"a", "b", "c"}) f.add(name);
  auto first = f.client.list_secrets({.max_results = 1, .sort_by = "name"});
  REQUIRE(first.ok());
  REQUIRE(first->next_token);
  const auto& good = *first->next_token;
  const auto invalid = [&](smemu::api::ListSecretsRequest request) {
    auto error = f.list_error(std::move(request));
    CHECK(error.name() == "InvalidNextTokenException");
    CHECK(error.message == "The NextToken value is invalid.");
  };
  invalid({.next_token = "not-a-token", .sort_by = "name"});
  invalid({.next_token = "AAAAAAAAAAAA", .sort_by = "name"});
  std::string altered = good;
  altered[12] = altered[12] == 'A' ? 'B' : 'A';
  invalid({.next_token = altered, .sort_by = "name"});
  // Bound to the listing that issued it: sort parameters, filters, deletion visibility, region.
  invalid({.next_token = good});
  invalid({.next_token = good, .sort_order = "desc", .sort_by = "name"});
  invalid({.next_token = good, .filters = std::vector<Filter>{filter("name", {""})}, .sort_by = "name"});
  invalid({.include_planned_deletion = true, .next_token = good, .sort_by = "name"});
  auto eu = f.service.client("eu-west-1");
  auto foreign = eu.list_secrets({.next_token = good, .sort_by = "name"});
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().name() == "InvalidNextTokenException");
  // The same parameters spelled out as their defaults are the same listing.
  CHECK(f.client.list_secrets({.next_token = good, .sort_order = "asc", .sort_by = "name"}).ok());
  // JSON path.
  auto json = f.client.call("ListSecrets", {{"NextToken", altered}, {"SortBy", "name"}});
  REQUIRE_FALSE(json.ok());
  CHECK(json.error().name() == "InvalidNextTokenException");
}

// ---- ListSecretVersionIds -------------------------------------------------------------------------

TEST_CASE("emulator/list: ListSecretVersionIds hides deprecated versions unless IncludeDeprecated (JSON path)") {
  Fixture f;
  const auto arn = f.create({.name = "s", .client_request_token = token(1)});
  f.advance(1000);
  REQUIRE(f.client.put_secret_value({.secret_id = "s", .client_request_token = token(2), .secret_string = "v2"}).ok());
  f.advance(1000);
  REQUIRE(f.client.put_secret_value({.secret_id = "s", .client_request_token = token(3), .secret_string = "v3"}).ok());

  auto r = f.client.call("ListSecretVersionIds", {{"SecretId", "s"}});
  REQUIRE(r.ok());
  CHECK(r->at("ARN") == arn);
  CHECK(r->at("Name") == "s");
  CHECK_FALSE(r->contains("NextToken"));
  const auto& versions = r->at("Versions");
  REQUIRE(versions.size() == 2);
  CHECK(versions[0].at("VersionId") == token(3));  // newest first
  CHECK(versions[0].at("VersionStages") == nlohmann::json{"AWSCURRENT"});
  CHECK(versions[0].at("KmsKeyIds") == nlohmann::json{"DefaultEncryptionKey"});
  CHECK(versions[0].at("CreatedDate") == seconds(smemu::kVirtualEpoch + smemu::Duration{2000}));
  CHECK_FALSE(versions[0].contains("LastAccessedDate"));
  CHECK(versions[1].at("VersionId") == token(2));
  CHECK(versions[1].at("VersionStages") == nlohmann::json{"AWSPREVIOUS"});

  auto all = f.client.call("ListSecretVersionIds", {{"SecretId", "s"}, {"IncludeDeprecated", true}});
  REQUIRE(all.ok());
  const auto& every = all->at("Versions");
  REQUIRE(every.size() == 3);
  CHECK(every[0].at("VersionId") == token(3));
  CHECK(every[1].at("VersionId") == token(2));
  CHECK(every[2].at("VersionId") == token(1));
  CHECK_FALSE(every[2].contains("VersionStages"));
  CHECK(every[2].at("KmsKeyIds") == nlohmann::json{"DefaultEncryptionKey"});
  CHECK(every[2].at("CreatedDate") == seconds(smemu::kVirtualEpoch));

  auto explicit_false = f.client.list_secret_version_ids({.secret_id = "s", .include_deprecated = false});
  REQUIRE(explicit_false.ok());
  CHECK(explicit_false->versions->size() == 2);
}

TEST_CASE("emulator/list: ListSecretVersionIds reports the secret's own KMS key and LastAccessedDate") {
  Fixture f;
  f.create({.name = "s", .kms_key_id = "alias/custom"});
  f.advance(5 * 3600 * 1000);
  REQUIRE(f.client.get_secret_value({.secret_id = "s"}).ok());
  auto r = f.client.list_secret_version_ids({.secret_id = "s"});
  REQUIRE(r.ok());
  REQUIRE(r->versions->size() == 1);
  const auto& version = r->versions->front();
  CHECK(version.kms_key_ids == std::vector<std::string>{"alias/custom"});
  // Date resolution: midnight UTC of the read (spec 4.6).
  CHECK(version.last_accessed_date == smemu::kVirtualEpoch);
}

TEST_CASE("emulator/list: ListSecretVersionIds works on a secret marked for deletion, not on an unknown one") {
  Fixture f;
  f.create({.name = "s", .client_request_token = token(1)});
  REQUIRE(f.client.delete_secret({.secret_id = "s"}).ok());
  auto r = f.client.list_secret_version_ids({.secret_id = "s"});
  REQUIRE(r.ok());
  REQUIRE(r->versions->size() == 1);
  CHECK(r->versions->front().version_id == token(1));
  auto missing = f.client.list_secret_version_ids({.secret_id = "nope"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().name() == "ResourceNotFoundException");
  CHECK(missing.error().message == "Secrets Manager can't find the specified secret.");
}

TEST_CASE("emulator/list: ListSecretVersionIds pages newest first; its token is bound to the secret") {
  Fixture f;
  f.create({.name = "s", .client_request_token = token(1)});
  f.create({.name = "other", .client_request_token = token(1)});
  for (int n = 2; n <= 5; ++n) {
    f.advance(1);
    // Custom labels keep every version labelled.
    REQUIRE(f.client.put_secret_value({.secret_id = "s", .client_request_token = token(n), .secret_string = "v",
                                       .version_stages = std::vector<std::string>{"L" + std::to_string(n)}})
                .ok());
  }
  std::vector<std::string> seen;
  std::optional<std::string> next;
  std::string first_token;
  do {
    auto r = f.client.list_secret_version_ids({.secret_id = "s", .max_results = 2, .next_token = next});
    REQUIRE(r.ok());
    for (const auto& v : *r->versions) seen.push_back(*v.version_id);
    next = r->next_token;
    if (next && first_token.empty()) first_token = *next;
  } while (next);
  CHECK(seen == std::vector<std::string>{token(5), token(4), token(3), token(2), token(1)});

  const auto invalid = [&](smemu::api::ListSecretVersionIdsRequest request) {
    auto r = f.client.list_secret_version_ids(std::move(request));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "InvalidNextTokenException");
  };
  invalid({.secret_id = "other", .next_token = first_token});
  invalid({.secret_id = "s", .next_token = first_token, .include_deprecated = true});
  invalid({.secret_id = "s", .next_token = "garbage"});
  // A ListSecrets token is not a ListSecretVersionIds token, and the other way round.
  auto listed = f.client.list_secrets({.max_results = 1});
  REQUIRE(listed.ok());
  REQUIRE(listed->next_token);
  invalid({.secret_id = "s", .next_token = listed->next_token});
  auto crossed = f.client.list_secrets({.next_token = first_token});
  REQUIRE_FALSE(crossed.ok());
  CHECK(crossed.error().name() == "InvalidNextTokenException");
}

// ---- BatchGetSecretValue --------------------------------------------------------------------------

TEST_CASE("emulator/list: BatchGetSecretValue by SecretIdList returns AWSCURRENT and reports failures in Errors") {
  Fixture f;
  const auto a = f.create({.name = "a", .client_request_token = token(1), .secret_string = "va"});
  REQUIRE(f.client.put_secret_value({.secret_id = "a", .client_request_token = token(2), .secret_string = "va2",
                                     .version_stages = std::vector<std::string>{"CUSTOM"}})
              .ok());
  const auto b = f.create({.name = "b", .client_request_token = token(3), .secret_binary = std::string("\x01\x02", 2)});
  f.create({.name = "gone"});
  REQUIRE(f.client.delete_secret({.secret_id = "gone"}).ok());
  REQUIRE(f.client.create_secret({.name = "empty"}).ok());

  auto r = f.client.batch_get_secret_value(
      {.secret_id_list = std::vector<std::string>{"a", "missing", b, "gone", "empty"}});
  REQUIRE(r.ok());
  CHECK_FALSE(r->next_token);
  REQUIRE(r->secret_values->size() == 2);
  const auto& va = r->secret_values->at(0);
  CHECK(va.arn == a);
  CHECK(va.name == "a");
  CHECK(va.version_id == token(1));
  CHECK(va.secret_string == "va");
  CHECK(va.version_stages == std::vector<std::string>{"AWSCURRENT"});
  CHECK(va.created_date == smemu::kVirtualEpoch);
  const auto& vb = r->secret_values->at(1);
  CHECK(vb.name == "b");
  CHECK(vb.secret_binary == std::string("\x01\x02", 2));
  CHECK_FALSE(vb.secret_string);

  using smemu::api::APIError;
  CHECK(*r->errors ==
        std::vector<APIError>{
            {.secret_id = "missing", .error_code = "ResourceNotFoundException",
             .message = "Secrets Manager can't find the specified secret."},
            {.secret_id = "gone", .error_code = "InvalidRequestException",
             .message = "You can't perform this operation on the secret because it was marked for deletion."},
            {.secret_id = "empty", .error_code = "ResourceNotFoundException",
             .message = "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"}});
}

TEST_CASE("emulator/list: BatchGetSecretValue answers in the AWS shape (JSON path)") {
  Fixture f;
  const auto arn = f.create({.name = "a", .client_request_token = token(1), .secret_string = "va"});
  auto r = f.client.call("BatchGetSecretValue", {{"SecretIdList", {"a", "nope"}}});
  REQUIRE(r.ok());
  CHECK(*r == nlohmann::json{
                  {"SecretValues",
                   {{{"ARN", arn},
                     {"Name", "a"},
                     {"VersionId", token(1)},
                     {"SecretString", "va"},
                     {"VersionStages", {"AWSCURRENT"}},
                     {"CreatedDate", seconds(smemu::kVirtualEpoch)}}}},
                  {"Errors",
                   {{{"SecretId", "nope"},
                     {"ErrorCode", "ResourceNotFoundException"},
                     {"Message", "Secrets Manager can't find the specified secret."}}}}});
  auto none_failed = f.client.call("BatchGetSecretValue", {{"SecretIdList", {"a"}}});
  REQUIRE(none_failed.ok());
  CHECK(none_failed->at("Errors") == nlohmann::json::array());
}

TEST_CASE("emulator/list: BatchGetSecretValue parameter errors") {
  Fixture f;
  f.add("a");
  const auto error = [&](smemu::api::BatchGetSecretValueRequest request) {
    auto r = f.client.batch_get_secret_value(std::move(request));
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  const std::string either = "Either 'SecretIdList' or 'Filters' must be provided, but not both.";
  auto both = error(
      {.secret_id_list = std::vector<std::string>{"a"}, .filters = std::vector<Filter>{filter("name", {"a"})}});
  CHECK(both.name() == "InvalidParameterException");
  CHECK(both.message == either);
  auto neither = error({});
  CHECK(neither.name() == "InvalidParameterException");
  CHECK(neither.message == either);
  auto max_alone = error({.secret_id_list = std::vector<std::string>{"a"}, .max_results = 5});
  CHECK(max_alone.name() == "InvalidParameterException");
  CHECK(max_alone.message ==
        "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.");
  auto token_with_ids = error({.secret_id_list = std::vector<std::string>{"a"}, .next_token = "abc"});
  CHECK(token_with_ids.name() == "InvalidNextTokenException");
  auto bad_filter = error({.filters = std::vector<Filter>{{.key = "name"}}});
  CHECK(bad_filter.name() == "InvalidParameterException");
  // The model's limits: 1-20 ids, MaxResults 1-20.
  CHECK(error({.secret_id_list = std::vector<std::string>(21, "a")}).name() == "ValidationException");
  CHECK(error({.filters = std::vector<Filter>{}, .max_results = 21}).name() == "ValidationException");
  auto json = f.client.call("BatchGetSecretValue", {{"MaxResults", 3}, {"SecretIdList", {"a"}}});
  REQUIRE_FALSE(json.ok());
  CHECK(json.error().name() == "InvalidParameterException");
}

TEST_CASE("emulator/list: BatchGetSecretValue with Filters filters and pages as ListSecrets does") {
  Fixture f;
  for (int i = 0; i < 25; ++i) {
    f.add("app/s" + std::to_string(100 + i));
    f.advance(1);
  }
  f.add("other");
  f.add("app/deleted");
  REQUIRE(f.client.delete_secret({.secret_id = "app/deleted"}).ok());
  REQUIRE(f.client.create_secret({.name = "app/empty"}).ok());

  const auto filters = std::vector<Filter>{filter("name", {"app/"})};
  // Default page: 20 secrets, in CreatedDate order.
  auto first = f.client.batch_get_secret_value({.filters = filters});
  REQUIRE(first.ok());
  REQUIRE(first->secret_values->size() == 20);
  CHECK(first->errors->empty());
  CHECK(first->secret_values->front().name == "app/s100");
  CHECK(first->secret_values->front().secret_string == "value-of-app/s100");
  REQUIRE(first->next_token);
  auto second = f.client.batch_get_secret_value({.filters = filters, .next_token = first->next_token});
  REQUIRE(second.ok());
  CHECK(second->secret_values->size() == 5);
  CHECK(second->secret_values->back().name == "app/s124");
  CHECK_FALSE(second->next_token);
  // The secret with no value is listed and fails alone; the deleted one is not listed.
  REQUIRE(second->errors->size() == 1);
  CHECK(second->errors->front().error_code == "ResourceNotFoundException");
  CHECK(second->errors->front().secret_id->find(":secret:app/empty-") != std::string::npos);

  // MaxResults 1..n walks the same secrets.
  for (std::int64_t size : {1, 7, 20}) {
    CAPTURE(size);
    std::vector<std::string> names;
    std::optional<std::string> next;
    do {
      auto r = f.client.batch_get_secret_value({.filters = filters, .max_results = size, .next_token = next});
      REQUIRE(r.ok());
      CHECK(r->secret_values->size() + r->errors->size() <= static_cast<std::size_t>(size));
      for (const auto& v : *r->secret_values) names.push_back(*v.name);
      next = r->next_token;
    } while (next);
    CHECK(names.size() == 25);
  }
  // Filters that match nothing: an empty answer.
  auto none = f.client.batch_get_secret_value({.filters = std::vector<Filter>{filter("name", {"zzz"})}});
  REQUIRE(none.ok());
  CHECK(none->secret_values->empty());
  CHECK(none->errors->empty());
  CHECK_FALSE(none->next_token);
  // Tokens are bound to their listing.
  auto listed = f.client.list_secrets({.max_results = 1, .filters = filters});
  REQUIRE(listed.ok());
  auto foreign = f.client.batch_get_secret_value({.filters = filters, .next_token = listed->next_token});
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().name() == "InvalidNextTokenException");
  auto other_filters = f.client.batch_get_secret_value(
      {.filters = std::vector<Filter>{filter("name", {"app/s"})}, .next_token = first->next_token});
  REQUIRE_FALSE(other_filters.ok());
  CHECK(other_filters.error().name() == "InvalidNextTokenException");
}

TEST_CASE("emulator/list: BatchGetSecretValue records LastAccessedDate as GetSecretValue does") {
  Fixture f;
  f.create({.name = "a", .client_request_token = token(1)});
  f.create({.name = "b", .client_request_token = token(2)});
  f.service.virtual_clock()->advance(smemu::days(3) + smemu::Duration{3600 * 1000});
  const auto day = smemu::kVirtualEpoch + smemu::days(3);
  REQUIRE(f.client.batch_get_secret_value({.secret_id_list = std::vector<std::string>{"a"}}).ok());
  REQUIRE(f.client.batch_get_secret_value({.filters = std::vector<Filter>{filter("name", {"b"})}}).ok());
  for (const auto* name : {"a", "b"}) {
    auto described = f.client.describe_secret({.secret_id = name});
    REQUIRE(described.ok());
    CHECK(described->last_accessed_date == day);
    auto versions = f.client.list_secret_version_ids({.secret_id = name});
    REQUIRE(versions.ok());
    CHECK(versions->versions->front().last_accessed_date == day);
  }
}
