// The entries of a state file (state_journal.h) as JSON values, written as CBOR: a secret with
// everything needed to rebuild it exactly, and the simulated databases. Internal to the emulator.
#pragma once

#include <map>

#include <nlohmann/json.hpp>

#include "smemu/emulator/simulated_database.h"
#include "smemu/model/result.h"
#include "smemu/model/secret.h"

namespace smemu::state_codec {

using Json = nlohmann::json;
using Databases = std::map<SimulatedDatabase::Address, SimulatedDatabase::Database>;

// The entry kinds, the "t" member of every entry.
inline constexpr std::string_view kHeader = "header";        // first entry of a file: format and version
inline constexpr std::string_view kGlobals = "globals";      // restart generation and the clock
inline constexpr std::string_view kDatabases = "databases";  // the whole SimulatedDatabase
inline constexpr std::string_view kSecret = "secret";        // one secret, whole, as it is now
inline constexpr std::string_view kErase = "erase";          // a secret that is gone

// {"t": "secret", ...}: metadata, versions in creation order with values (as CBOR byte strings,
// never text, so any bytes survive), each label with its version, and the rotation run.
Json encode_secret(const model::Secret& secret);
// The secret an entry describes, checked as model::Secret::restore checks it. Errors
// (InvalidParameterException) say which member is wrong; never a value.
Result<model::Secret> decode_secret(const Json& entry);

// {"t": "erase", "region": ..., "name": ...}
Json encode_erase(const std::string& region, const std::string& name);

Json encode_databases(const Databases& databases);
Result<Databases> decode_databases(const Json& entry);

}  // namespace smemu::state_codec
