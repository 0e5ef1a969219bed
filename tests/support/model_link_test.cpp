// Links against smemu_model alone, with only the model's include directory: proof that the
// model layer builds and links without the emulator, JSON, Asio or threads (issue 2 item 1).
// It uses a few model types, so that their code is pulled in rather than merely declared.
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "smemu/model/error.h"
#include "smemu/model/labels.h"
#include "smemu/model/store.h"

namespace {

int failures = 0;

void expect(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "model link test: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  using namespace smemu;
  model::Store store("aws", "123456789012");

  model::SecretMetadata meta;
  meta.name = "linked";
  meta.region = "us-east-1";
  meta.primary_region = "us-east-1";
  meta.suffix = "AbC123";
  meta.created = kVirtualEpoch;
  auto& secret = store.insert(model::Secret(std::move(meta)));
  const auto arn = store.arn(secret);
  expect(arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:linked-AbC123", "the ARN has the AWS form");

  const std::string token(32, 'a');
  auto written = secret.write_version(model::VersionWrite{token, model::SecretValue::string("v1"), std::nullopt},
                                      kVirtualEpoch, arn);
  expect(written.ok(), "the first write succeeds");
  const auto* current = secret.holder(labels::kCurrent);
  expect(current != nullptr && current->id == token, "the first version holds AWSCURRENT");

  expect(store.find("us-east-1", arn, kVirtualEpoch) == &secret, "a full ARN finds the secret");
  expect(store.find("us-east-1", "linked", kVirtualEpoch) == &secret, "the name finds the secret");
  expect(store.find("us-west-2", "linked", kVirtualEpoch) == nullptr, "another region does not");

  auto replay = secret.write_version(model::VersionWrite{token, model::SecretValue::string("v2"), std::nullopt},
                                     kVirtualEpoch + days(1), arn);
  expect(!replay.ok() && replay.error().code == ErrorCode::ResourceExists,
         "reusing a token with another value is ResourceExistsException");
  expect(aws_name(ErrorCode::ResourceNotFound) == "ResourceNotFoundException", "errors carry their AWS names");

  return failures == 0 ? 0 : 1;
}
