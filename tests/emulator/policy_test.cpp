// Resource policies (spec 3.13, 9.2): Put/Get/Delete round trips, the syntax and structure checks,
// broad access with and without BlockPublicPolicy, ValidateResourcePolicy, and the rules for
// deleted secrets and replicas.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "smemu/emulator/service.h"

namespace {

const std::string kAccountPolicy = R"({
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/MyRole"},
    "Action": "secretsmanager:GetSecretValue",
    "Resource": "*"
  }]
})";

const std::string kWildcardPolicy =
    R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:*","Resource":"*"}})";

struct Fixture {
  smemu::Service service;
  smemu::Client client = service.client("us-east-1");
  std::string arn;

  Fixture() {
    auto created = client.create_secret({.name = "db", .secret_string = "v"});
    REQUIRE(created.ok());
    arn = *created->arn;
  }

  std::optional<std::string> policy() {
    auto r = client.get_resource_policy({.secret_id = "db"});
    REQUIRE(r.ok());
    return r->resource_policy;
  }

  std::optional<smemu::Timestamp> last_changed() {
    auto r = client.describe_secret({.secret_id = "db"});
    REQUIRE(r.ok());
    return r->last_changed_date;
  }
};

}  // namespace

TEST_CASE("emulator/policy: put, get and delete round trip") {
  Fixture f;
  auto empty = f.client.get_resource_policy({.secret_id = "db"});
  REQUIRE(empty.ok());
  CHECK(empty->arn == f.arn);
  CHECK(empty->name == "db");
  CHECK_FALSE(empty->resource_policy);

  auto put = f.client.put_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy});
  REQUIRE(put.ok());
  CHECK(put->arn == f.arn);
  CHECK(put->name == "db");

  auto got = f.client.get_resource_policy({.secret_id = f.arn});
  REQUIRE(got.ok());
  CHECK(got->arn == f.arn);
  CHECK(got->name == "db");
  CHECK(got->resource_policy == kAccountPolicy);  // verbatim, whitespace included

  auto deleted = f.client.delete_resource_policy({.secret_id = "db"});
  REQUIRE(deleted.ok());
  CHECK(deleted->arn == f.arn);
  CHECK(deleted->name == "db");
  CHECK_FALSE(f.policy());
}

TEST_CASE("emulator/policy: put replaces the existing policy") {
  Fixture f;
  REQUIRE(f.client.put_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy}).ok());
  REQUIRE(f.client.put_resource_policy({.secret_id = "db", .resource_policy = kWildcardPolicy}).ok());
  CHECK(f.policy() == kWildcardPolicy);
}

TEST_CASE("emulator/policy: put and delete change LastChangedDate; get and an empty delete do not") {
  Fixture f;
  const auto created = f.last_changed();
  f.service.virtual_clock()->advance(smemu::days(1));
  REQUIRE(f.client.delete_resource_policy({.secret_id = "db"}).ok());
  REQUIRE(f.client.get_resource_policy({.secret_id = "db"}).ok());
  CHECK(f.last_changed() == created);

  REQUIRE(f.client.put_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy}).ok());
  const auto put_at = f.last_changed();
  REQUIRE(put_at);
  CHECK(*put_at == *created + smemu::days(1));

  f.service.virtual_clock()->advance(smemu::days(1));
  REQUIRE(f.client.delete_resource_policy({.secret_id = "db"}).ok());
  CHECK(f.last_changed() == *put_at + smemu::days(1));
}

TEST_CASE("emulator/policy: a wildcard principal is stored when BlockPublicPolicy is not set") {
  Fixture f;
  auto put = f.client.put_resource_policy({.secret_id = "db", .resource_policy = kWildcardPolicy});
  REQUIRE(put.ok());
  CHECK(f.policy() == kWildcardPolicy);
  REQUIRE(f.client
              .put_resource_policy(
                  {.secret_id = "db", .resource_policy = kWildcardPolicy, .block_public_policy = false})
              .ok());
}

TEST_CASE("emulator/policy: BlockPublicPolicy refuses broad access and keeps the old policy") {
  const std::string wildcards[] = {
      kWildcardPolicy,
      R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"secretsmanager:GetSecretValue"}]})",
      R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root","*"]},"Action":["secretsmanager:GetSecretValue"]}]})",
      R"({"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"*"}]})",
      R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"*"},{"Effect":"Allow","Principal":"*","Action":"*","Condition":{}}]})",
  };
  for (const auto& policy : wildcards) {
    CAPTURE(policy);
    Fixture f;
    REQUIRE(f.client.put_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy}).ok());
    const auto before = f.last_changed();
    f.service.virtual_clock()->advance(smemu::days(1));
    auto r = f.client.put_resource_policy({.secret_id = "db", .resource_policy = policy, .block_public_policy = true});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "PublicPolicyException");
    CHECK(r.error().message.starts_with("This resource policy grants public access to the secret"));
    CHECK(f.policy() == kAccountPolicy);
    CHECK(f.last_changed() == before);
  }
}

TEST_CASE("emulator/policy: BlockPublicPolicy accepts restricted and denying policies") {
  const std::string accepted[] = {
      kAccountPolicy,
      R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}}]})",
      R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteSecret"}]})",
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"*"}]})",
  };
  for (const auto& policy : accepted) {
    CAPTURE(policy);
    Fixture f;
    auto r = f.client.put_resource_policy({.secret_id = "db", .resource_policy = policy, .block_public_policy = true});
    REQUIRE(r.ok());
    CHECK(f.policy() == policy);
  }
}

TEST_CASE("emulator/policy: a syntax error is MalformedPolicyDocumentException and changes nothing") {
  Fixture f;
  REQUIRE(f.client.put_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy}).ok());
  for (const std::string bad : {"{", "not json", R"({"Statement": [}])", "{\"Version\": \"2012-10-17\",}"}) {
    CAPTURE(bad);
    auto r = f.client.put_resource_policy({.secret_id = "db", .resource_policy = bad});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "MalformedPolicyDocumentException");
    CHECK(r.error().message.starts_with("This resource policy contains a syntax error"));
    auto v = f.client.validate_resource_policy({.resource_policy = bad});
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().name() == "MalformedPolicyDocumentException");
  }
  CHECK(f.policy() == kAccountPolicy);
}

TEST_CASE("emulator/policy: structure errors name what is wrong") {
  struct Case {
    std::string policy;
    std::string says;
  };
  const Case cases[] = {
      {R"([1, 2])", "must be a JSON object"},
      {R"("text")", "must be a JSON object"},
      {R"({"Version":"2012-10-17"})", "has no Statement"},
      {R"({"Statement":[]})", "Statement must not be empty"},
      {R"({"Statement":"x"})", "Statement must be an object or a list of objects"},
      {R"({"Statement":[1]})", "Statement 1 must be an object"},
      {R"({"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"*"}})", "Version must be"},
      {R"({"Version":20121017,"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}})", "Version must be"},
      {R"({"Id":1,"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}})", "Id must be a string"},
      {R"({"Extra":1,"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}})", "unknown member Extra"},
      {R"({"Statement":{"Principal":"*","Action":"*"}})", "Statement 1 has no Effect"},
      {R"({"Statement":{"Effect":"allow","Principal":"*","Action":"*"}})", "Effect must be \"Allow\" or \"Deny\""},
      {R"({"Statement":{"Effect":true,"Principal":"*","Action":"*"}})", "Effect must be"},
      {R"({"Statement":{"Effect":"Allow","Action":"*"}})", "neither Principal nor NotPrincipal"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*"}})",
       "both Principal and NotPrincipal"},
      {R"({"Statement":{"Effect":"Allow","Principal":"arn:aws:iam::123456789012:root","Action":"*"}})",
       "must be \"*\""},
      {R"({"Statement":{"Effect":"Allow","Principal":{},"Action":"*"}})", "Principal must be"},
      {R"({"Statement":{"Effect":"Allow","Principal":{"Users":"x"},"Action":"*"}})", "unknown principal type Users"},
      {R"({"Statement":{"Effect":"Allow","Principal":{"AWS":[]},"Action":"*"}})", "Principal.AWS must be"},
      {R"({"Statement":{"Effect":"Allow","Principal":{"AWS":[1]},"Action":"*"}})", "Principal.AWS must be"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*"}})", "neither Action nor NotAction"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","NotAction":"*"}})",
       "both Action and NotAction"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","Action":[]}})", "Action must be a string"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","NotAction":5}})", "NotAction must be a string"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","NotResource":"*"}})",
       "both Resource and NotResource"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":{}}})", "Resource must be a string"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":"x"}})",
       "Condition must be an object"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringEquals":"x"}}})",
       "Condition operator StringEquals"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Sid":7}})", "Sid must be a string"},
      {R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Sid":"A","Extra":1}})",
       "Statement 1 (Sid A) has the unknown member Extra"},
      {R"({"Statement":[{"Sid":"A","Effect":"Deny","Principal":"*","Action":"*"},{"Sid":"A","Effect":"Deny","Principal":"*","Action":"*"}]})",
       "Statement 2: the Sid A is used by an earlier statement"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.policy);
    Fixture f;
    auto r = f.client.put_resource_policy({.secret_id = "db", .resource_policy = c.policy});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().name() == "MalformedPolicyDocumentException");
    CHECK(r.error().message.starts_with("This resource policy is malformed: "));
    CHECK_MESSAGE(r.error().message.find(c.says) != std::string::npos, r.error().message);
    CHECK_FALSE(f.policy());
    auto v = f.client.validate_resource_policy({.resource_policy = c.policy});
    REQUIRE_FALSE(v.ok());
    CHECK(v.error() == r.error());
  }
}

TEST_CASE("emulator/policy: a policy without Version and with a single statement object is valid") {
  Fixture f;
  const std::string policy =
      R"({"Id":"p","Statement":{"Sid":"","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::123456789012:root"]},"NotAction":["secretsmanager:GetSecretValue"],"NotResource":"*"}})";
  REQUIRE(f.client.put_resource_policy({.secret_id = "db", .resource_policy = policy}).ok());
  CHECK(f.policy() == policy);
}

TEST_CASE("emulator/policy: ValidateResourcePolicy passes a narrow policy with an empty error list") {
  Fixture f;
  auto r = f.client.validate_resource_policy({.resource_policy = kAccountPolicy});
  REQUIRE(r.ok());
  CHECK(r->policy_validation_passed == true);
  REQUIRE(r->validation_errors);
  CHECK(r->validation_errors->empty());

  auto with_secret = f.client.validate_resource_policy({.secret_id = f.arn, .resource_policy = kAccountPolicy});
  REQUIRE(with_secret.ok());
  CHECK(with_secret->policy_validation_passed == true);

  auto json = f.client.call("ValidateResourcePolicy", {{"ResourcePolicy", kAccountPolicy}});
  REQUIRE(json.ok());
  CHECK(*json == nlohmann::json{{"PolicyValidationPassed", true}, {"ValidationErrors", nlohmann::json::array()}});
}

TEST_CASE("emulator/policy: ValidateResourcePolicy reports each broad statement") {
  Fixture f;
  const std::string policy = R"({"Statement":[
    {"Sid":"Open","Effect":"Allow","Principal":"*","Action":"*"},
    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"*"},
    {"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"*"}]})";
  auto r = f.client.validate_resource_policy({.secret_id = "db", .resource_policy = policy});
  REQUIRE(r.ok());
  CHECK(r->policy_validation_passed == false);
  REQUIRE(r->validation_errors);
  REQUIRE(r->validation_errors->size() == 2);
  const auto& open = (*r->validation_errors)[0];
  CHECK(open.check_name == "BROAD_ACCESS");
  CHECK(open.error_message == "Statement 1 (Sid Open) allows every principal (\"*\") without a Condition.");
  const auto& negated = (*r->validation_errors)[1];
  CHECK(negated.check_name == "BROAD_ACCESS");
  CHECK(negated.error_message ==
        "Statement 3 allows every principal except those in NotPrincipal, without a Condition.");
  // Validation stores nothing.
  CHECK_FALSE(f.policy());
}

TEST_CASE("emulator/policy: ValidateResourcePolicy with an unknown SecretId is ResourceNotFoundException") {
  Fixture f;
  auto r = f.client.validate_resource_policy({.secret_id = "missing", .resource_policy = kAccountPolicy});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().name() == "ResourceNotFoundException");
  CHECK(r.error().message == "Secrets Manager can't find the specified secret.");
}

TEST_CASE("emulator/policy: unknown secrets are ResourceNotFoundException") {
  Fixture f;
  auto put = f.client.put_resource_policy({.secret_id = "missing", .resource_policy = kAccountPolicy});
  REQUIRE_FALSE(put.ok());
  CHECK(put.error().name() == "ResourceNotFoundException");
  auto get = f.client.get_resource_policy({.secret_id = "missing"});
  REQUIRE_FALSE(get.ok());
  CHECK(get.error().name() == "ResourceNotFoundException");
  auto del = f.client.delete_resource_policy({.secret_id = "missing"});
  REQUIRE_FALSE(del.ok());
  CHECK(del.error().name() == "ResourceNotFoundException");
  // Secrets are regional: the same name elsewhere is unknown.
  auto other_region = f.service.client("eu-west-1").get_resource_policy({.secret_id = "db"});
  REQUIRE_FALSE(other_region.ok());
  CHECK(other_region.error().name() == "ResourceNotFoundException");
}

TEST_CASE("emulator/policy: a secret marked for deletion refuses put and delete but can be read") {
  Fixture f;
  REQUIRE(f.client.put_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy}).ok());
  REQUIRE(f.client.delete_secret({.secret_id = "db"}).ok());

  auto put = f.client.put_resource_policy({.secret_id = "db", .resource_policy = kWildcardPolicy});
  REQUIRE_FALSE(put.ok());
  CHECK(put.error().name() == "InvalidRequestException");
  CHECK(put.error().message == "You can't perform this operation on the secret because it was marked for deletion.");
  auto del = f.client.delete_resource_policy({.secret_id = "db"});
  REQUIRE_FALSE(del.ok());
  CHECK(del.error().name() == "InvalidRequestException");
  CHECK(del.error().message == "You can't perform this operation on the secret because it was marked for deletion.");

  CHECK(f.policy() == kAccountPolicy);
  auto validate = f.client.validate_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy});
  REQUIRE(validate.ok());

  REQUIRE(f.client.restore_secret({.secret_id = "db"}).ok());
  REQUIRE(f.client.delete_resource_policy({.secret_id = "db"}).ok());
  CHECK_FALSE(f.policy());
}

TEST_CASE("emulator/policy: replicas carry the policy and refuse writes") {
  smemu::Service service;
  auto primary = service.client("us-east-1");
  auto replica = service.client("eu-west-1");
  REQUIRE(primary
              .create_secret({.name = "db",
                              .secret_string = "v",
                              .add_replica_regions = std::vector<smemu::api::ReplicaRegion>{{.region = "eu-west-1"}}})
              .ok());
  REQUIRE(primary.put_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy}).ok());
  auto copied = replica.get_resource_policy({.secret_id = "db"});
  REQUIRE(copied.ok());
  CHECK(copied->resource_policy == kAccountPolicy);

  auto put = replica.put_resource_policy({.secret_id = "db", .resource_policy = kWildcardPolicy});
  REQUIRE_FALSE(put.ok());
  CHECK(put.error().name() == "InvalidParameterException");
  auto del = replica.delete_resource_policy({.secret_id = "db"});
  REQUIRE_FALSE(del.ok());
  CHECK(del.error().name() == "InvalidParameterException");

  REQUIRE(primary.delete_resource_policy({.secret_id = "db"}).ok());
  auto removed = replica.get_resource_policy({.secret_id = "db"});
  REQUIRE(removed.ok());
  CHECK_FALSE(removed->resource_policy);
}

TEST_CASE("emulator/policy: the JSON path omits ResourcePolicy when there is none") {
  Fixture f;
  auto r = f.client.call("GetResourcePolicy", {{"SecretId", "db"}});
  REQUIRE(r.ok());
  CHECK(*r == nlohmann::json{{"ARN", f.arn}, {"Name", "db"}});
  REQUIRE(f.client.call("PutResourcePolicy", {{"SecretId", "db"}, {"ResourcePolicy", kAccountPolicy}}).ok());
  auto got = f.client.call("GetResourcePolicy", {{"SecretId", "db"}});
  REQUIRE(got.ok());
  CHECK((*got)["ResourcePolicy"] == kAccountPolicy);
}

TEST_CASE("emulator/policy: the model limits a policy to 20480 characters") {
  Fixture f;
  const std::string padding(20480, ' ');
  auto r = f.client.put_resource_policy({.secret_id = "db", .resource_policy = kAccountPolicy + padding});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().name() == "ValidationException");
  CHECK_FALSE(f.policy());
}
