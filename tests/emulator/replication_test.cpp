// Replication across regions through the typed API: spec 3.16, 7, D18, and the replica
// deletion rule of spec 6.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "smemu/emulator/service.h"

namespace {

using Stages = std::map<std::string, std::vector<std::string>>;

constexpr const char* kPrimary = "us-east-1";
constexpr const char* kEu = "eu-west-1";
constexpr const char* kWest = "us-west-2";

std::string token(int n) { return "token-" + std::string(30, '0') + std::to_string(100 + n); }

std::string swap_region(std::string arn, const std::string& from, const std::string& to) {
  const auto at = arn.find(":" + from + ":");
  REQUIRE(at != std::string::npos);
  return arn.replace(at + 1, from.size(), to);
}

struct Fixture {
  smemu::Service service;
  smemu::Client primary = service.client(kPrimary);
  smemu::Client eu = service.client(kEu);
  smemu::Client west = service.client(kWest);

  // Creates "s" in the primary region holding "v1", replicated to `regions`.
  smemu::api::CreateSecretResponse create(std::vector<smemu::api::ReplicaRegion> regions = {{.region = kEu}},
                                          const std::string& name = "s") {
    smemu::api::CreateSecretRequest request{.name = name, .client_request_token = token(1), .secret_string = "v1"};
    if (!regions.empty()) request.add_replica_regions = std::move(regions);
    auto r = primary.create_secret(std::move(request));
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r;
  }
  smemu::api::DescribeSecretResponse describe(smemu::Client& client, const std::string& id = "s") {
    auto r = client.describe_secret({.secret_id = id});
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r;
  }
  std::string value(smemu::Client& client, const std::string& id = "s") {
    auto r = client.get_secret_value({.secret_id = id});
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return r->secret_string.value_or("");
  }
  void put(int n, const std::string& id = "s") {
    auto r = primary.put_secret_value(
        {.secret_id = id, .client_request_token = token(n), .secret_string = "v" + std::to_string(n)});
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }
  smemu::Timestamp now() { return service.clock().now(); }
};

smemu::api::ReplicationStatus in_sync(const std::string& region,
                                      const std::string& kms_key_id = "alias/aws/secretsmanager") {
  return {region, kms_key_id, "InSync", "Replication succeeded", std::nullopt};
}

bool replica_refusal(const smemu::Error& error) {
  return error.name() == "InvalidParameterException" &&
         error.message.starts_with("Operation not permitted on a replica secret.");
}

}  // namespace

TEST_CASE("emulator/replication: CreateSecret with AddReplicaRegions creates InSync replicas") {
  Fixture f;
  f.service.virtual_clock()->advance(smemu::days(3));
  const auto created = f.create({{.region = kEu}, {.region = kWest, .kms_key_id = "alias/west-key"}});
  CHECK(created.replication_status ==
        std::vector<smemu::api::ReplicationStatus>{in_sync(kEu), in_sync(kWest, "alias/west-key")});

  const auto primary = f.describe(f.primary);
  CHECK(primary.primary_region == kPrimary);
  CHECK(primary.replication_status == created.replication_status);

  // Spec 7: same name and suffix; the ARN differs only in its region.
  const auto replica = f.describe(f.eu);
  CHECK(replica.arn == swap_region(*created.arn, kPrimary, kEu));
  CHECK(replica.name == "s");
  CHECK(replica.primary_region == kPrimary);
  CHECK_FALSE(replica.replication_status);
  CHECK_FALSE(replica.kms_key_id);  // the aws/secretsmanager key, omitted as on any secret
  CHECK(replica.created_date == f.now());
  CHECK(replica.version_ids_to_stages == Stages{{token(1), {"AWSCURRENT"}}});
  CHECK(f.describe(f.west).kms_key_id == "alias/west-key");

  auto got = f.eu.get_secret_value({.secret_id = *replica.arn});
  REQUIRE(got.ok());
  CHECK(got->arn == replica.arn);
  CHECK(got->secret_string == "v1");
  CHECK(got->version_id == token(1));
  CHECK(f.value(f.west) == "v1");
  // The replica's ARN names nothing in the primary's region and vice versa (spec 8).
  CHECK(f.primary.describe_secret({.secret_id = *replica.arn}).error().name() == "ResourceNotFoundException");
  CHECK(f.eu.describe_secret({.secret_id = *created.arn}).error().name() == "ResourceNotFoundException");
}

TEST_CASE("emulator/replication: ReplicateSecretToRegions replicates an existing secret later") {
  Fixture f;
  const auto created = f.create({});
  f.put(2);
  CHECK(f.eu.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");

  f.service.virtual_clock()->advance(smemu::days(1));
  auto replicated =
      f.primary.replicate_secret_to_regions({.secret_id = "s", .add_replica_regions = {{{.region = kEu}}}});
  REQUIRE(replicated.ok());
  CHECK(replicated->arn == created.arn);
  CHECK(replicated->replication_status == std::vector<smemu::api::ReplicationStatus>{in_sync(kEu)});
  CHECK(f.value(f.eu) == "v2");
  CHECK(f.describe(f.eu).version_ids_to_stages == f.describe(f.primary).version_ids_to_stages);
  CHECK(f.describe(f.primary).last_changed_date == f.now());

  // A second call adds to the list; the answer lists every replica.
  auto more = f.primary.replicate_secret_to_regions(
      {.secret_id = *created.arn, .add_replica_regions = {{{.region = kWest, .kms_key_id = "k"}}}});
  REQUIRE(more.ok());
  auto read_eu = in_sync(kEu);
  read_eu.last_accessed_date = smemu::day_floor(f.now());  // read above
  CHECK(more->replication_status == std::vector<smemu::api::ReplicationStatus>{read_eu, in_sync(kWest, "k")});
}

TEST_CASE("emulator/replication: writes to the primary reach its replicas") {
  Fixture f;
  f.create({{.region = kEu, .kms_key_id = "alias/eu-key"}});
  const auto replica_created = f.describe(f.eu).created_date;
  f.service.virtual_clock()->advance(smemu::days(1));

  SUBCASE("PutSecretValue") {
    f.put(2);
    CHECK(f.value(f.eu) == "v2");
    auto previous = f.eu.get_secret_value({.secret_id = "s", .version_stage = "AWSPREVIOUS"});
    REQUIRE(previous.ok());
    CHECK(previous->secret_string == "v1");
  }
  SUBCASE("UpdateSecret") {
    auto r = f.primary.update_secret(
        {.secret_id = "s", .client_request_token = token(2), .description = "d", .secret_string = "v2"});
    REQUIRE(r.ok());
    CHECK(f.value(f.eu) == "v2");
    CHECK(f.describe(f.eu).description == "d");
  }
  SUBCASE("UpdateSecretVersionStage") {
    f.put(2);
    auto r = f.primary.update_secret_version_stage(
        {.secret_id = "s", .version_stage = "AWSCURRENT", .remove_from_version_id = token(2),
         .move_to_version_id = token(1)});
    REQUIRE(r.ok());
    CHECK(f.value(f.eu) == "v1");
  }
  SUBCASE("TagResource and UntagResource") {
    REQUIRE(f.primary.tag_resource({.secret_id = "s", .tags = {{{.key = "team", .value = "a"}}}}).ok());
    CHECK(f.describe(f.eu).tags == std::vector<smemu::api::Tag>{{"team", "a"}});
    REQUIRE(f.primary.untag_resource({.secret_id = "s", .tag_keys = {{"team"}}}).ok());
    CHECK(f.describe(f.eu).tags == std::vector<smemu::api::Tag>{});
  }

  const auto primary = f.describe(f.primary);
  const auto replica = f.describe(f.eu);
  CHECK(replica.version_ids_to_stages == primary.version_ids_to_stages);
  CHECK(replica.last_changed_date == primary.last_changed_date);
  CHECK(replica.last_changed_date == f.now());
  // The replica keeps what belongs to its region.
  CHECK(replica.kms_key_id == "alias/eu-key");
  CHECK(replica.created_date == replica_created);
  CHECK(replica.primary_region == kPrimary);
  CHECK_FALSE(replica.replication_status);
}

TEST_CASE("emulator/replication: a replica refuses every write") {
  Fixture f;
  f.create();
  const auto before = f.describe(f.eu);
  auto& eu = f.eu;

  CHECK(replica_refusal(eu.put_secret_value({.secret_id = "s", .client_request_token = token(2),
                                             .secret_string = "x"}).error()));
  CHECK(replica_refusal(eu.update_secret({.secret_id = "s", .client_request_token = token(2),
                                          .description = "x", .secret_string = "x"}).error()));
  CHECK(replica_refusal(eu.update_secret_version_stage({.secret_id = "s", .version_stage = "L",
                                                        .move_to_version_id = token(1)}).error()));
  CHECK(replica_refusal(eu.tag_resource({.secret_id = "s", .tags = {{{.key = "k", .value = "v"}}}}).error()));
  CHECK(replica_refusal(eu.untag_resource({.secret_id = "s", .tag_keys = {{"k"}}}).error()));
  CHECK(replica_refusal(eu.delete_secret({.secret_id = "s"}).error()));
  CHECK(replica_refusal(eu.delete_secret({.secret_id = "s", .force_delete_without_recovery = true}).error()));
  CHECK(replica_refusal(eu.restore_secret({.secret_id = "s"}).error()));
  CHECK(replica_refusal(
      eu.rotate_secret({.secret_id = "s", .rotation_lambda_arn = "arn:aws:lambda:eu-west-1:123456789012:function:f"})
          .error()));
  CHECK(replica_refusal(eu.cancel_rotate_secret({.secret_id = "s"}).error()));
  CHECK(replica_refusal(
      eu.replicate_secret_to_regions({.secret_id = "s", .add_replica_regions = {{{.region = kWest}}}}).error()));
  CHECK(replica_refusal(
      eu.remove_regions_from_replication({.secret_id = "s", .remove_replica_regions = {{kEu}}}).error()));

  CHECK(f.describe(f.eu) == before);
  CHECK(f.value(f.eu) == "v1");
  CHECK(f.west.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
}

TEST_CASE("emulator/replication: a name taken in the target region fails that replica unless overwritten") {
  Fixture f;
  auto theirs = f.eu.create_secret({.name = "s", .client_request_token = token(9), .secret_string = "theirs"});
  REQUIRE(theirs.ok());

  SUBCASE("without ForceOverwriteReplicaSecret the replica is Failed and nothing is written there") {
    const auto created = f.create({{.region = kEu}, {.region = kWest}});
    REQUIRE(created.replication_status);
    REQUIRE(created.replication_status->size() == 2);
    const auto& failed = created.replication_status->at(0);
    CHECK(failed.region == kEu);
    CHECK(failed.status == "Failed");
    CHECK(failed.status_message == "Secret with this name already exists in this region");
    CHECK(created.replication_status->at(1) == in_sync(kWest));

    // The clash is not synced: writes to the primary leave the other secret alone.
    f.put(2);
    const auto other = f.describe(f.eu);
    CHECK(other.arn == theirs->arn);
    CHECK_FALSE(other.primary_region);
    CHECK(f.value(f.eu) == "theirs");
    CHECK(f.value(f.west) == "v2");
    REQUIRE(f.eu.put_secret_value({.secret_id = "s", .client_request_token = token(10), .secret_string = "t2"}).ok());

    // Removing the Failed entry drops only the entry; the other secret stays.
    auto removed = f.primary.remove_regions_from_replication({.secret_id = "s", .remove_replica_regions = {{kEu}}});
    REQUIRE(removed.ok());
    REQUIRE(removed->replication_status);
    REQUIRE(removed->replication_status->size() == 1);
    CHECK(removed->replication_status->at(0).region == kWest);
    CHECK(removed->replication_status->at(0).status == "InSync");
    CHECK(f.value(f.eu) == "t2");
  }
  SUBCASE("with ForceOverwriteReplicaSecret the secret there becomes the replica") {
    auto created = f.primary.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "v1",
                                            .add_replica_regions = {{{.region = kEu}}},
                                            .force_overwrite_replica_secret = true});
    REQUIRE(created.ok());
    CHECK(created->replication_status == std::vector<smemu::api::ReplicationStatus>{in_sync(kEu)});
    const auto replica = f.describe(f.eu);
    CHECK(replica.arn == swap_region(*created->arn, kPrimary, kEu));
    CHECK(replica.arn != theirs->arn);
    CHECK(replica.primary_region == kPrimary);
    CHECK(replica.version_ids_to_stages == Stages{{token(1), {"AWSCURRENT"}}});
    CHECK(f.value(f.eu) == "v1");
    f.put(2);
    CHECK(f.value(f.eu) == "v2");
  }
}

TEST_CASE("emulator/replication: ForceOverwriteReplicaSecret never takes over another secret's replica") {
  Fixture f;
  // "s" in us-west-2 is replicated to eu-west-1.
  REQUIRE(f.west.create_secret({.name = "s", .client_request_token = token(9), .secret_string = "west",
                                .add_replica_regions = {{{.region = kEu}}}})
              .ok());
  auto created = f.primary.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "v1",
                                          .add_replica_regions = {{{.region = kEu}, {.region = kWest}}},
                                          .force_overwrite_replica_secret = true});
  REQUIRE(created.ok());
  REQUIRE(created->replication_status);
  for (const auto& status : *created->replication_status) {
    CHECK(status.status == "Failed");
    REQUIRE(status.status_message);
    CHECK(status.status_message->starts_with("Secret with this name already exists in this region"));
  }
  CHECK(f.describe(f.west).replication_status == std::vector<smemu::api::ReplicationStatus>{in_sync(kEu)});
  CHECK(f.describe(f.eu).primary_region == kWest);
  CHECK(f.value(f.eu) == "west");
}

TEST_CASE("emulator/replication: RemoveRegionsFromReplication deletes replicas at once") {
  Fixture f;
  const auto created = f.create({{.region = kEu}, {.region = kWest}});
  f.service.virtual_clock()->advance(smemu::days(1));

  auto removed = f.primary.remove_regions_from_replication({.secret_id = "s", .remove_replica_regions = {{kEu}}});
  REQUIRE(removed.ok());
  CHECK(removed->arn == created.arn);
  CHECK(removed->replication_status == std::vector<smemu::api::ReplicationStatus>{in_sync(kWest)});
  CHECK(f.describe(f.primary).replication_status == removed->replication_status);
  CHECK(f.describe(f.primary).last_changed_date == f.now());
  // No recovery window: the name is free in that region straight away.
  CHECK(f.eu.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
  REQUIRE(f.eu.create_secret({.name = "s", .client_request_token = token(5), .secret_string = "mine"}).ok());
  f.put(2);
  CHECK(f.value(f.eu) == "mine");
  CHECK(f.value(f.west) == "v2");

  auto last = f.primary.remove_regions_from_replication({.secret_id = "s", .remove_replica_regions = {{kWest}}});
  REQUIRE(last.ok());
  CHECK(last->replication_status == std::vector<smemu::api::ReplicationStatus>{});
  CHECK_FALSE(f.describe(f.primary).replication_status);
}

TEST_CASE("emulator/replication: RemoveRegionsFromReplication of a region that holds no replica changes nothing") {
  Fixture f;
  f.create({{.region = kEu}, {.region = kWest}});
  const auto before = f.describe(f.primary);
  f.service.virtual_clock()->advance(smemu::days(1));

  auto not_replica = f.primary.remove_regions_from_replication(
      {.secret_id = "s", .remove_replica_regions = {{kEu, "ap-south-1"}}});
  REQUIRE_FALSE(not_replica.ok());
  CHECK(not_replica.error().name() == "InvalidParameterException");
  CHECK(not_replica.error().message.find("ap-south-1") != std::string::npos);

  auto twice = f.primary.remove_regions_from_replication({.secret_id = "s", .remove_replica_regions = {{kEu, kEu}}});
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().name() == "InvalidParameterException");

  CHECK(f.describe(f.primary) == before);
  CHECK(f.value(f.eu) == "v1");
  CHECK(f.primary.remove_regions_from_replication({.secret_id = "nope", .remove_replica_regions = {{kEu}}})
            .error()
            .name() == "ResourceNotFoundException");
}

TEST_CASE("emulator/replication: StopReplicationToReplica promotes the replica in its region") {
  Fixture f;
  const auto created = f.create({{.region = kEu}, {.region = kWest}});
  f.service.virtual_clock()->advance(smemu::days(1));

  // Called on the primary it is refused.
  auto on_primary = f.primary.stop_replication_to_replica({.secret_id = "s"});
  REQUIRE_FALSE(on_primary.ok());
  CHECK(on_primary.error().name() == "InvalidParameterException");
  CHECK(f.describe(f.primary).replication_status->size() == 2);

  auto stopped = f.eu.stop_replication_to_replica({.secret_id = "s"});
  REQUIRE(stopped.ok());
  CHECK(stopped->arn == swap_region(*created.arn, kPrimary, kEu));

  // The former primary lists only the other replica and no longer writes to the promoted one.
  CHECK(f.describe(f.primary).replication_status == std::vector<smemu::api::ReplicationStatus>{in_sync(kWest)});
  f.put(2);
  CHECK(f.value(f.eu) == "v1");
  CHECK(f.value(f.west) == "v2");

  // The promoted secret is a primary in its own region: it takes writes and keeps its ARN.
  const auto promoted = f.describe(f.eu);
  CHECK(promoted.arn == stopped->arn);
  CHECK(promoted.primary_region != std::optional<std::string>(kPrimary));
  CHECK(promoted.last_changed_date == f.now());
  REQUIRE(f.eu.put_secret_value({.secret_id = "s", .client_request_token = token(3), .secret_string = "eu"}).ok());
  CHECK(f.value(f.eu) == "eu");
  CHECK(f.value(f.primary) == "v2");
  REQUIRE(f.eu.replicate_secret_to_regions({.secret_id = "s", .add_replica_regions = {{{.region = "ap-south-1"}}}})
              .ok());
  auto south = f.service.client("ap-south-1");
  CHECK(f.value(south) == "eu");
  CHECK(f.describe(south).primary_region == kEu);
  REQUIRE(f.eu.remove_regions_from_replication({.secret_id = "s", .remove_replica_regions = {{"ap-south-1"}}}).ok());
  REQUIRE(f.eu.delete_secret({.secret_id = "s", .force_delete_without_recovery = true}).ok());

  // Promoting the last replica frees the former primary to be deleted.
  REQUIRE(f.west.stop_replication_to_replica({.secret_id = "s"}).ok());
  CHECK_FALSE(f.describe(f.primary).replication_status);
  REQUIRE(f.primary.delete_secret({.secret_id = "s"}).ok());
  CHECK(f.value(f.west) == "v2");
}

TEST_CASE("emulator/replication: a primary with replicas cannot be deleted until they are removed") {
  Fixture f;
  f.create({{.region = kEu}, {.region = kWest}});
  for (bool force : {false, true}) {
    auto refused = f.primary.delete_secret(
        {.secret_id = "s", .force_delete_without_recovery = force ? std::optional(true) : std::nullopt});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().name() == "InvalidParameterException");
    CHECK(refused.error().message.find(kEu) != std::string::npos);
    CHECK(refused.error().message.find(kWest) != std::string::npos);
  }
  CHECK_FALSE(f.describe(f.primary).deleted_date);
  CHECK(f.value(f.eu) == "v1");

  REQUIRE(f.primary.remove_regions_from_replication({.secret_id = "s", .remove_replica_regions = {{kEu, kWest}}}).ok());
  auto deleted = f.primary.delete_secret({.secret_id = "s"});
  REQUIRE(deleted.ok());
  CHECK(f.describe(f.primary).deleted_date == f.now());
  // Marked for deletion: replication is refused like any other write (spec 6).
  auto replicate =
      f.primary.replicate_secret_to_regions({.secret_id = "s", .add_replica_regions = {{{.region = kEu}}}});
  REQUIRE_FALSE(replicate.ok());
  CHECK(replicate.error().name() == "InvalidRequestException");
  CHECK(f.eu.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
}

TEST_CASE("emulator/replication: a refused ReplicateSecretToRegions changes nothing") {
  Fixture f;
  f.create({{.region = kEu}});
  const auto before = f.describe(f.primary);
  f.service.virtual_clock()->advance(smemu::days(1));

  auto replicate = [&](std::vector<smemu::api::ReplicaRegion> regions) {
    auto r = f.primary.replicate_secret_to_regions({.secret_id = "s", .add_replica_regions = std::move(regions)});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "InvalidParameterException");
    return r.error().message;
  };
  // The primary's own region, in any position: the whole request is refused, earlier entries too.
  CHECK(replicate({{.region = kWest}, {.region = kPrimary}}) == "Invalid replica region.");
  // Twice in one request.
  CHECK(replicate({{.region = kWest}, {.region = kWest}}).find(kWest) != std::string::npos);
  // Already a replica.
  CHECK(replicate({{.region = kWest}, {.region = kEu}}).find(kEu) != std::string::npos);
  // An entry without a Region.
  CHECK(replicate({{.region = kWest}, {.kms_key_id = "k"}}).starts_with("Invalid replica region."));

  CHECK(f.describe(f.primary) == before);
  CHECK(f.west.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
  CHECK(f.primary.replicate_secret_to_regions({.secret_id = "nope", .add_replica_regions = {{{.region = kWest}}}})
            .error()
            .name() == "ResourceNotFoundException");
}

TEST_CASE("emulator/replication: CreateSecret with an invalid replica region creates nothing") {
  Fixture f;
  auto r = f.primary.create_secret({.name = "s", .client_request_token = token(1), .secret_string = "v1",
                                    .add_replica_regions = {{{.region = kEu}, {.region = kPrimary}}}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().name() == "InvalidParameterException");
  CHECK(r.error().message == "Invalid replica region.");
  CHECK(f.primary.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
  CHECK(f.eu.describe_secret({.secret_id = "s"}).error().name() == "ResourceNotFoundException");
  // The name is still free.
  f.create();
}

TEST_CASE("emulator/replication: ReplicationStatus shows when each replica was last read in its region") {
  Fixture f;
  f.create({{.region = kEu}, {.region = kWest}});
  f.service.virtual_clock()->advance(smemu::days(2) + std::chrono::hours(5));
  CHECK(f.value(f.eu) == "v1");
  // Reads in a replica's region are that replica's own; the primary was never read.
  CHECK(f.describe(f.eu).last_accessed_date == smemu::day_floor(f.now()));
  CHECK_FALSE(f.describe(f.primary).last_accessed_date);
  f.put(2);
  CHECK(f.describe(f.eu).last_accessed_date == smemu::day_floor(f.now()));

  auto removed = f.primary.remove_regions_from_replication({.secret_id = "s", .remove_replica_regions = {{kWest}}});
  REQUIRE(removed.ok());
  REQUIRE(removed->replication_status);
  REQUIRE(removed->replication_status->size() == 1);
  CHECK(removed->replication_status->at(0).last_accessed_date == smemu::day_floor(f.now()));
  // DescribeSecret reports the same statuses.
  CHECK(f.describe(f.primary).replication_status == removed->replication_status);
}

TEST_CASE("emulator/replication: the replication operations over JSON") {
  Fixture f;
  f.create({});
  auto replicated = f.primary.call("ReplicateSecretToRegions",
                                   {{"SecretId", "s"}, {"AddReplicaRegions", {{{"Region", kEu}}}}});
  REQUIRE(replicated.ok());
  CHECK((*replicated)["ReplicationStatus"] ==
        nlohmann::json::array({{{"Region", kEu},
                                {"KmsKeyId", "alias/aws/secretsmanager"},
                                {"Status", "InSync"},
                                {"StatusMessage", "Replication succeeded"}}}));
  auto stopped = f.eu.call("StopReplicationToReplica", {{"SecretId", "s"}});
  REQUIRE(stopped.ok());
  CHECK(stopped->size() == 1);
  CHECK((*stopped)["ARN"] == *f.describe(f.eu).arn);
}
