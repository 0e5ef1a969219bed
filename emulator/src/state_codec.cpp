#include "state_codec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace smemu::state_codec {
namespace {

// Times are milliseconds since the epoch, the resolution of Timestamp.
Json time_of(Timestamp t) { return epoch_ms(t); }
Timestamp time_from(const Json& value) { return from_epoch_ms(value.get<std::int64_t>()); }

Json bytes_of(std::string_view bytes) {
  return Json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}
std::string bytes_from(const Json& value) {
  const auto& bytes = value.get_binary();
  return std::string(bytes.begin(), bytes.end());
}

template <class T>
void put(Json& out, const char* key, const std::optional<T>& value) {
  if (value) out[key] = *value;
}
void put(Json& out, const char* key, const std::optional<Timestamp>& value) {
  if (value) out[key] = time_of(*value);
}

template <class T>
std::optional<T> take(const Json& in, const char* key) {
  const auto it = in.find(key);
  if (it == in.end()) return std::nullopt;
  return it->get<T>();
}
std::optional<Timestamp> take_time(const Json& in, const char* key) {
  const auto it = in.find(key);
  if (it == in.end()) return std::nullopt;
  return time_from(*it);
}

// An enum stored as its number, checked against its last value.
template <class Enum>
Enum enum_from(const Json& value, Enum last, const char* what) {
  const auto number = value.get<std::uint32_t>();
  if (number > static_cast<std::uint32_t>(last)) throw std::out_of_range(std::string("unknown ") + what);
  return static_cast<Enum>(number);
}
template <class Enum>
Json enum_of(Enum value) {
  return static_cast<std::uint32_t>(value);
}

Error malformed(std::string_view what, std::string_view why) {
  return make_error(ErrorCode::InvalidParameter, std::string(what) + " entry is malformed: " + std::string(why));
}

Json encode_rotation(const model::RotationConfig& rotation) {
  Json out = Json::object();
  put(out, "enabled", rotation.enabled);
  put(out, "lambda_arn", rotation.lambda_arn);
  if (rotation.rules) {
    Json rules = Json::object();
    put(rules, "after_days", rotation.rules->automatically_after_days);
    put(rules, "duration", rotation.rules->duration);
    put(rules, "schedule", rotation.rules->schedule_expression);
    out["rules"] = std::move(rules);
  }
  put(out, "last_rotated", rotation.last_rotated);
  put(out, "next_rotation", rotation.next_rotation);
  return out;
}

model::RotationConfig decode_rotation(const Json& in) {
  model::RotationConfig rotation;
  rotation.enabled = take<bool>(in, "enabled");
  rotation.lambda_arn = take<std::string>(in, "lambda_arn");
  if (const auto it = in.find("rules"); it != in.end()) {
    rotation.rules = model::RotationRules{take<std::int64_t>(*it, "after_days"), take<std::string>(*it, "duration"),
                                          take<std::string>(*it, "schedule")};
  }
  rotation.last_rotated = take_time(in, "last_rotated");
  rotation.next_rotation = take_time(in, "next_rotation");
  return rotation;
}

Json encode_run(const model::RotationRun& run) {
  return Json{{"token", run.token},         {"lambda_arn", run.lambda_arn}, {"kind", enum_of(run.kind)},
              {"phase", enum_of(run.phase)}, {"step", enum_of(run.step)},     {"attempt", run.attempt},
              {"due", time_of(run.due)}};
}

model::RotationRun decode_run(const Json& in) {
  using Run = model::RotationRun;
  Run run;
  run.token = in.at("token").get<std::string>();
  run.lambda_arn = in.at("lambda_arn").get<std::string>();
  run.kind = enum_from(in.at("kind"), Run::Kind::kTest, "run kind");
  run.phase = enum_from(in.at("phase"), Run::Phase::kStuck, "run phase");
  run.step = enum_from(in.at("step"), model::Step::kFinishSecret, "step");
  run.attempt = in.at("attempt").get<std::uint32_t>();
  run.due = time_from(in.at("due"));
  return run;
}

}  // namespace

Json encode_secret(const model::Secret& secret) {
  const auto& meta = secret.meta;
  Json out{{"t", kSecret},
           {"name", meta.name},
           {"region", meta.region},
           {"suffix", meta.suffix},
           {"primary_region", meta.primary_region},
           {"created", time_of(meta.created)}};
  put(out, "description", meta.description.get());
  put(out, "kms_key_id", meta.kms_key_id.get());
  if (meta.tags) {
    Json tags = Json::array();
    for (const auto& tag : *meta.tags) tags.push_back(Json::array({tag.key, tag.value}));
    out["tags"] = std::move(tags);
  }
  put(out, "resource_policy", meta.resource_policy.get());
  out["rotation"] = encode_rotation(meta.rotation);
  put(out, "last_changed", meta.last_changed);
  put(out, "last_accessed", meta.last_accessed);
  put(out, "deleted", meta.deleted);
  put(out, "deletion_due", meta.deletion_due);
  put(out, "owning_service", meta.owning_service.get());
  put(out, "type", meta.type.get());
  Json replicas = Json::array();
  for (const auto& replica : meta.replicas) {
    Json entry{{"region", replica.region}, {"kms_key_id", replica.kms_key_id}, {"status", replica.status}};
    put(entry, "status_message", replica.status_message);
    replicas.push_back(std::move(entry));
  }
  out["replicas"] = std::move(replicas);

  Json versions = Json::array();
  Json labels = Json::array();
  for (const auto& version : secret.versions()) {
    Json entry{{"id", version.id},
               {"kind", enum_of(version.value.kind)},
               {"value", bytes_of(version.value.bytes)},
               {"created", time_of(version.created)}};
    put(entry, "last_accessed", version.last_accessed);
    versions.push_back(std::move(entry));
    for (auto& label : secret.labels_of(version)) labels.push_back(Json::array({std::move(label), version.id}));
  }
  out["versions"] = std::move(versions);
  out["labels"] = std::move(labels);
  if (const auto& run = secret.run()) out["run"] = encode_run(*run);
  return out;
}

Result<model::Secret> decode_secret(const Json& entry) {
  model::SecretMetadata meta;
  std::vector<model::SecretVersion> versions;
  std::vector<model::LabelMove> labels;
  std::optional<model::RotationRun> run;
  try {
    meta.name = entry.at("name").get<std::string>();
    meta.region = entry.at("region").get<std::string>();
    meta.suffix = entry.at("suffix").get<std::string>();
    meta.primary_region = entry.at("primary_region").get<std::string>();
    meta.created = time_from(entry.at("created"));
    meta.description = take<std::string>(entry, "description");
    meta.kms_key_id = take<std::string>(entry, "kms_key_id");
    if (const auto it = entry.find("tags"); it != entry.end()) {
      std::vector<model::Tag> tags;
      for (const auto& tag : *it) tags.push_back(model::Tag{tag.at(0).get<std::string>(), tag.at(1).get<std::string>()});
      meta.tags = std::move(tags);
    }
    meta.resource_policy = take<std::string>(entry, "resource_policy");
    meta.rotation = decode_rotation(entry.at("rotation"));
    meta.last_changed = take_time(entry, "last_changed");
    meta.last_accessed = take_time(entry, "last_accessed");
    meta.deleted = take_time(entry, "deleted");
    meta.deletion_due = take_time(entry, "deletion_due");
    meta.owning_service = take<std::string>(entry, "owning_service");
    meta.type = take<std::string>(entry, "type");
    for (const auto& replica : entry.at("replicas")) {
      meta.replicas.push_back(model::ReplicaStatus{replica.at("region").get<std::string>(),
                                                   replica.at("kms_key_id").get<std::string>(),
                                                   replica.at("status").get<std::string>(),
                                                   take<std::string>(replica, "status_message")});
    }
    for (const auto& version : entry.at("versions")) {
      const auto kind = enum_from(version.at("kind"), model::ValueKind::kBinary, "value kind");
      model::SecretVersion restored(version.at("id").get<std::string>(),
                                    model::SecretValue{kind, bytes_from(version.at("value"))},
                                    time_from(version.at("created")));
      restored.last_accessed = take_time(version, "last_accessed");
      versions.push_back(std::move(restored));
    }
    for (const auto& label : entry.at("labels")) {
      labels.push_back(model::LabelMove{label.at(0).get<std::string>(), label.at(1).get<std::string>()});
    }
    if (const auto it = entry.find("run"); it != entry.end()) run = decode_run(*it);
  } catch (const std::exception& error) {
    // nlohmann's messages name members and types, never their contents (D19).
    return malformed("a secret", error.what());
  }
  return model::Secret::restore(std::move(meta), std::move(versions), labels, std::move(run));
}

Json encode_erase(const std::string& region, const std::string& name) {
  return Json{{"t", kErase}, {"region", region}, {"name", name}};
}

Json encode_databases(const Databases& databases) {
  Json list = Json::array();
  for (const auto& [address, database] : databases) {
    Json users = Json::array();
    for (const auto& [user, password] : database.passwords) users.push_back(Json::array({user, bytes_of(password)}));
    list.push_back(Json{{"engine", address.engine},
                        {"host", address.host},
                        {"port", address.port},
                        {"dbname", address.dbname},
                        {"users", std::move(users)},
                        {"attempted", database.counts.attempted},
                        {"failed", database.counts.failed}});
  }
  return Json{{"t", kDatabases}, {"list", std::move(list)}};
}

Result<Databases> decode_databases(const Json& entry) {
  Databases databases;
  try {
    for (const auto& item : entry.at("list")) {
      SimulatedDatabase::Address address{item.at("engine").get<std::string>(), item.at("host").get<std::string>(),
                                         item.at("port").get<std::int64_t>(), item.at("dbname").get<std::string>()};
      SimulatedDatabase::Database database;
      for (const auto& user : item.at("users")) {
        database.passwords.emplace(user.at(0).get<std::string>(), bytes_from(user.at(1)));
      }
      database.counts = {item.at("attempted").get<std::uint64_t>(), item.at("failed").get<std::uint64_t>()};
      databases.insert_or_assign(std::move(address), std::move(database));
    }
  } catch (const std::exception& error) {
    return malformed("the databases", error.what());
  }
  return databases;
}

}  // namespace smemu::state_codec
