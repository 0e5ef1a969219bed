// Resource policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy and
// ValidateResourcePolicy (spec 3.13, 9.2). A policy is stored verbatim as sent; one check
// (check_policy) serves Put and Validate.
//
// Decided where AWS is vague (decided, not confirmed against AWS):
// - Structure: an object with Version (optional; "2012-10-17" or "2008-10-17"), Id (optional) and
//   Statement (an object or a non-empty array of objects); no other top-level member. A statement
//   has Effect (Allow|Deny), exactly one of Principal/NotPrincipal, exactly one of Action/NotAction,
//   at most one of Resource/NotResource, optional Condition and Sid (unique in the policy), and
//   nothing else. A bare Principal string must be "*"; a Principal object maps AWS, Service,
//   Federated or CanonicalUser to a string or a non-empty list of strings. Anything else is
//   MalformedPolicyDocumentException naming the statement and what is wrong.
// - Broad access (AWS runs Zelkova; smemu checks the common case): an Allow statement whose
//   Principal is "*" or whose AWS principal is or lists "*", or an Allow with NotPrincipal, and
//   that has no Condition. Any Condition with at least one key counts as restricting access.
//   Each such statement is one ValidationErrors entry with CheckName "BROAD_ACCESS".
// - The lock-out check of ValidateResourcePolicy is not emulated (smemu has no IAM callers).
// - The document is checked before the secret is looked up: a malformed policy for an unknown
//   secret is MalformedPolicyDocumentException, and a public one with BlockPublicPolicy is
//   PublicPolicyException.
// - Put and Delete are writes: refused on a secret marked for deletion (spec 6) and on a replica
//   (spec 7); Get and Validate work on both. Delete without a policy succeeds and changes nothing
//   (LastChangedDate included).
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "service_internal.h"

namespace smemu {
namespace {

using nlohmann::json;

constexpr std::string_view kBroadAccessCheck = "BROAD_ACCESS";

struct PolicyFinding {
  std::string check_name;
  std::string message;
};

Error malformed(std::string_view what) {
  return make_error(ErrorCode::MalformedPolicyDocument, fmt::format("This resource policy is malformed: {}.", what));
}

bool is_string_or_string_list(const json& value) {
  if (value.is_string()) return true;
  if (!value.is_array() || value.empty()) return false;
  for (const auto& item : value) {
    if (!item.is_string()) return false;
  }
  return true;
}

bool is_or_contains(const json& value, std::string_view text) {
  if (value.is_string()) return value.get_ref<const std::string&>() == text;
  for (const auto& item : value) {
    if (item.get_ref<const std::string&>() == text) return true;
  }
  return false;
}

// "Statement 2" or "Statement 2 (Sid ReadOnly)": 1-based, as a person counts.
std::string statement_label(std::size_t index, const json& statement) {
  const auto sid = statement.find("Sid");
  if (sid != statement.end() && !sid->get_ref<const std::string&>().empty()) {
    return fmt::format("Statement {} (Sid {})", index + 1, sid->get_ref<const std::string&>());
  }
  return fmt::format("Statement {}", index + 1);
}

Status check_principal(const json& principal, std::string_view member, std::string_view label) {
  static const std::set<std::string, std::less<>> kPrincipalTypes = {"AWS", "Service", "Federated", "CanonicalUser"};
  if (principal.is_string()) {
    if (principal.get_ref<const std::string&>() == "*") return ok_status();
    return malformed(fmt::format("{}: a {} given as a string must be \"*\"", label, member));
  }
  if (!principal.is_object() || principal.empty()) {
    return malformed(fmt::format("{}: {} must be \"*\" or an object such as {{\"AWS\": \"<account or ARN>\"}}", label,
                                 member));
  }
  for (const auto& [type, value] : principal.items()) {
    if (!kPrincipalTypes.contains(type)) {
      return malformed(fmt::format("{}: {} has the unknown principal type {}", label, member, type));
    }
    if (!is_string_or_string_list(value)) {
      return malformed(fmt::format("{}: {}.{} must be a string or a non-empty list of strings", label, member, type));
    }
  }
  return ok_status();
}

// Which of `member` and its negated form the statement uses: never both, and one of them when
// `required`. Returns nullptr when neither is present.
Result<const std::string*> one_of(const json& statement, const std::string& member, const std::string& negated,
                                  bool required, std::string_view label) {
  const bool has = statement.contains(member);
  const bool has_negated = statement.contains(negated);
  if (has && has_negated) return malformed(fmt::format("{} has both {} and {}", label, member, negated));
  if (required && !has && !has_negated) {
    return malformed(fmt::format("{} has neither {} nor {}", label, member, negated));
  }
  return has ? &member : has_negated ? &negated : nullptr;
}

// Action/NotAction and Resource/NotResource: a string or a non-empty list of strings.
Status check_list_pair(const json& statement, const std::string& member, const std::string& negated, bool required,
                       std::string_view label) {
  auto used = one_of(statement, member, negated, required, label);
  if (!used) return std::move(used).error();
  if (used.value() && !is_string_or_string_list(statement.at(*used.value()))) {
    return malformed(fmt::format("{}: {} must be a string or a non-empty list of strings", label, *used.value()));
  }
  return ok_status();
}

Status check_condition(const json& condition, std::string_view label) {
  if (!condition.is_object()) return malformed(fmt::format("{}: Condition must be an object", label));
  for (const auto& [op, block] : condition.items()) {
    if (!block.is_object()) {
      return malformed(fmt::format("{}: the Condition operator {} must map condition keys to values", label, op));
    }
  }
  return ok_status();
}

// Any condition key restricts who the statement applies to; an empty Condition does not.
bool restricts(const json& statement) {
  const auto condition = statement.find("Condition");
  if (condition == statement.end()) return false;
  for (const auto& block : *condition) {
    if (!block.empty()) return true;
  }
  return false;
}

Result<std::optional<PolicyFinding>> check_statement(const json& statement, std::size_t index,
                                                     std::set<std::string>& sids) {
  static const std::set<std::string, std::less<>> kMembers = {
      "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"};
  if (!statement.is_object()) return malformed(fmt::format("Statement {} must be an object", index + 1));
  if (const auto sid = statement.find("Sid"); sid != statement.end()) {
    if (!sid->is_string()) return malformed(fmt::format("Statement {}: Sid must be a string", index + 1));
    if (!sid->get_ref<const std::string&>().empty() && !sids.insert(sid->get<std::string>()).second) {
      return malformed(fmt::format("Statement {}: the Sid {} is used by an earlier statement; Sids must be unique",
                                   index + 1, sid->get_ref<const std::string&>()));
    }
  }
  const auto label = statement_label(index, statement);
  for (const auto& [member, value] : statement.items()) {
    if (!kMembers.contains(member)) return malformed(fmt::format("{} has the unknown member {}", label, member));
  }

  const auto effect = statement.find("Effect");
  if (effect == statement.end()) return malformed(fmt::format("{} has no Effect", label));
  if (!effect->is_string() || (*effect != "Allow" && *effect != "Deny")) {
    return malformed(fmt::format("{}: Effect must be \"Allow\" or \"Deny\"", label));
  }
  static const std::string kPrincipal = "Principal";
  static const std::string kNotPrincipal = "NotPrincipal";
  auto principal = one_of(statement, kPrincipal, kNotPrincipal, true, label);
  if (!principal) return std::move(principal).error();
  const auto& principal_member = *principal.value();
  const auto& who = statement.at(principal_member);
  if (auto status = check_principal(who, principal_member, label); !status) return std::move(status).error();
  if (auto status = check_list_pair(statement, "Action", "NotAction", true, label); !status) {
    return std::move(status).error();
  }
  if (auto status = check_list_pair(statement, "Resource", "NotResource", false, label); !status) {
    return std::move(status).error();
  }
  if (const auto condition = statement.find("Condition"); condition != statement.end()) {
    if (auto status = check_condition(*condition, label); !status) return std::move(status).error();
  }

  if (*effect != "Allow" || restricts(statement)) return std::optional<PolicyFinding>{};
  if (principal_member == kNotPrincipal) {
    return std::optional{PolicyFinding{
        std::string(kBroadAccessCheck),
        fmt::format("{} allows every principal except those in NotPrincipal, without a Condition.", label)}};
  }
  const bool wildcard = who.is_string() || (who.contains("AWS") && is_or_contains(who.at("AWS"), "*"));
  if (!wildcard) return std::optional<PolicyFinding>{};
  return std::optional{PolicyFinding{std::string(kBroadAccessCheck),
                                     fmt::format("{} allows every principal (\"*\") without a Condition.", label)}};
}

// The one policy check behind Put and Validate: MalformedPolicyDocumentException for a syntax or
// structure error; otherwise the broad-access findings (empty when the policy passes).
Result<std::vector<PolicyFinding>> check_policy(std::string_view document) {
  json policy;
  try {
    policy = json::parse(document);
  } catch (const json::parse_error& error) {
    return make_error(ErrorCode::MalformedPolicyDocument,
                      fmt::format("This resource policy contains a syntax error: it is not valid JSON (at byte {}).",
                                  error.byte));
  }
  if (!policy.is_object()) return malformed("the policy must be a JSON object");
  for (const auto& [member, value] : policy.items()) {
    if (member != "Version" && member != "Id" && member != "Statement") {
      return malformed(fmt::format("the policy has the unknown member {}", member));
    }
  }
  if (const auto version = policy.find("Version"); version != policy.end()) {
    if (*version != "2012-10-17" && *version != "2008-10-17") {
      return malformed("Version must be \"2012-10-17\" or \"2008-10-17\"");
    }
  }
  if (const auto id = policy.find("Id"); id != policy.end() && !id->is_string()) {
    return malformed("Id must be a string");
  }
  const auto statements = policy.find("Statement");
  if (statements == policy.end()) return malformed("the policy has no Statement");
  if (statements->is_array() && statements->empty()) return malformed("Statement must not be empty");
  if (!statements->is_array() && !statements->is_object()) {
    return malformed("Statement must be an object or a list of objects");
  }
  const auto list = statements->is_array() ? *statements : json::array({*statements});
  std::vector<PolicyFinding> findings;
  std::set<std::string> sids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto finding = check_statement(list[i], i, sids);
    if (!finding) return std::move(finding).error();
    if (finding.value()) findings.push_back(std::move(*finding.value()));
  }
  return findings;
}

}  // namespace

Result<api::PutResourcePolicyResponse> Service::put_resource_policy(const CallContext& context,
                                                                    const api::PutResourcePolicyRequest& request) {
  auto findings = check_policy(*request.resource_policy);
  if (!findings) return std::move(findings).error();
  if (request.block_public_policy.value_or(false) && !findings->empty()) {
    return make_error(ErrorCode::PublicPolicy,
                      fmt::format("This resource policy grants public access to the secret, and BlockPublicPolicy is "
                                  "set: {}",
                                  findings->front().message));
  }
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
  secret.meta.resource_policy = *request.resource_policy;
  secret.meta.last_changed = now;
  sync_replicas(secret);
  return api::PutResourcePolicyResponse{store_.arn(secret), secret.meta.name};
}

Result<api::GetResourcePolicyResponse> Service::get_resource_policy(const CallContext& context,
                                                                    const api::GetResourcePolicyRequest& request) {
  const auto now = this->now();
  std::shared_lock lock(mutex_);
  auto found = detail::find_secret(std::as_const(store_), context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  const auto& secret = *found.value();
  return api::GetResourcePolicyResponse{store_.arn(secret), secret.meta.name, secret.meta.resource_policy};
}

Result<api::DeleteResourcePolicyResponse> Service::delete_resource_policy(
    const CallContext& context, const api::DeleteResourcePolicyRequest& request) {
  const auto now = this->now();
  std::unique_lock lock(mutex_);
  auto found = detail::find_secret(store_, context, *request.secret_id, now);
  if (!found) return std::move(found).error();
  auto& secret = *found.value();
  if (auto status = detail::check_not_deleted(secret); !status) return std::move(status).error();
  if (auto status = detail::check_primary(secret); !status) return std::move(status).error();
  if (secret.meta.resource_policy) {
    secret.meta.resource_policy.reset();
    secret.meta.last_changed = now;
    sync_replicas(secret);
  }
  return api::DeleteResourcePolicyResponse{store_.arn(secret), secret.meta.name};
}

Result<api::ValidateResourcePolicyResponse> Service::validate_resource_policy(
    const CallContext& context, const api::ValidateResourcePolicyRequest& request) {
  auto findings = check_policy(*request.resource_policy);
  if (!findings) return std::move(findings).error();
  if (request.secret_id) {
    const auto now = this->now();
    std::shared_lock lock(mutex_);
    if (auto found = detail::find_secret(std::as_const(store_), context, *request.secret_id, now); !found) {
      return std::move(found).error();
    }
  }
  // A passing policy reports an empty ValidationErrors list, as the AWS CLI's recorded example shows.
  std::vector<api::ValidationErrorsEntry> errors;
  for (auto& finding : findings.value()) {
    errors.push_back(api::ValidationErrorsEntry{std::move(finding.check_name), std::move(finding.message)});
  }
  return api::ValidateResourcePolicyResponse{errors.empty(), std::move(errors)};
}

}  // namespace smemu
