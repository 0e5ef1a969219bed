// Secrets for the model tests: metadata as CreateSecret would leave it, in us-east-1.
#pragma once

#include <string>
#include <utility>

#include "smemu/model/secret.h"

namespace smemu::model::testing {

inline SecretMetadata meta_named(std::string name) {
  SecretMetadata meta;
  meta.name = std::move(name);
  meta.region = "us-east-1";
  meta.primary_region = "us-east-1";
  meta.suffix = "AbCdEf";
  meta.created = kVirtualEpoch;
  return meta;
}

}  // namespace smemu::model::testing
