#include "smemu/emulator/simulated_database.h"

#include <utility>

namespace smemu {

bool SimulatedDatabase::ensure(const Address& address, const std::string& user, const std::string& password) {
  return ensure(address, std::map<std::string, std::string>{{user, password}});
}

bool SimulatedDatabase::ensure(const Address& address, const std::map<std::string, std::string>& users) {
  std::lock_guard lock(mutex_);
  return databases_.try_emplace(address, Database{users, {}}).second;
}

bool SimulatedDatabase::exists(const Address& address) const {
  std::lock_guard lock(mutex_);
  return databases_.contains(address);
}

SimulatedDatabase::Database* SimulatedDatabase::login_locked(const Address& address, const std::string& user,
                                                             const std::string& password) {
  const auto found = databases_.find(address);
  if (found == databases_.end()) return nullptr;  // no server answers: nothing to count on
  auto& database = found->second;
  ++database.counts.attempted;
  const auto entry = database.passwords.find(user);
  if (entry == database.passwords.end() || entry->second != password) {
    ++database.counts.failed;
    return nullptr;
  }
  return &database;
}

bool SimulatedDatabase::login(const Address& address, const std::string& user, const std::string& password) {
  std::lock_guard lock(mutex_);
  return login_locked(address, user, password) != nullptr;
}

bool SimulatedDatabase::set_password(const Address& address, const std::string& as_user,
                                     const std::string& as_password, const std::string& user,
                                     const std::string& new_password) {
  std::lock_guard lock(mutex_);
  auto* database = login_locked(address, as_user, as_password);
  if (database == nullptr) return false;
  const auto entry = database->passwords.find(user);
  if (entry == database->passwords.end()) return false;
  entry->second = new_password;
  return true;
}

bool SimulatedDatabase::create_user(const Address& address, const std::string& as_user,
                                    const std::string& as_password, const std::string& user,
                                    const std::string& password) {
  std::lock_guard lock(mutex_);
  auto* database = login_locked(address, as_user, as_password);
  if (database == nullptr) return false;
  return database->passwords.try_emplace(user, password).second;
}

std::vector<std::string> SimulatedDatabase::users(const Address& address) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  if (const auto found = databases_.find(address); found != databases_.end()) {
    for (const auto& [name, password] : found->second.passwords) names.push_back(name);
  }
  return names;
}

SimulatedDatabase::LoginCounts SimulatedDatabase::counts(const Address& address) const {
  std::lock_guard lock(mutex_);
  const auto found = databases_.find(address);
  return found == databases_.end() ? LoginCounts{} : found->second.counts;
}

std::map<SimulatedDatabase::Address, SimulatedDatabase::Database> SimulatedDatabase::snapshot() const {
  std::lock_guard lock(mutex_);
  return databases_;
}

void SimulatedDatabase::restore(std::map<Address, Database> state) {
  std::lock_guard lock(mutex_);
  databases_ = std::move(state);
}

}  // namespace smemu
