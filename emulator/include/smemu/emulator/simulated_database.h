// SimulatedDatabase: the databases the built-in rotation functions rotate credentials on
// (builtin:single-user, builtin:alternating-users), standing in for the RDS-style targets of the
// published rotation samples. Each database has users with passwords; a login succeeds only with
// a user's current password, and every attempt is counted.
//
// A database is named by the secret fields engine, host, port and dbname, and is created on
// first contact from a secret's value: its `username` becomes a user with its `password`
// (builtin_functions.h, ensure_database, says who makes first contact and with which users).
// Users belong to one database (a real server shares them between its databases; nothing here
// needs that).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace smemu {

class SimulatedDatabase {
 public:
  struct Address {
    std::string engine;
    std::string host;
    std::int64_t port = 0;  // 0: the secret names no port
    std::string dbname;     // empty: the secret names no dbname
    auto operator<=>(const Address&) const = default;
  };

  // Where and as whom a secret value logs in (builtin_functions.h, database_credentials).
  struct Credentials {
    Address address;
    std::string username;
    std::string password;
  };

  struct LoginCounts {
    std::uint64_t attempted = 0;
    std::uint64_t failed = 0;
    bool operator==(const LoginCounts&) const = default;
  };

  // Creates the database at `address` with `user`/`password` unless it exists; true if created.
  bool ensure(const Address& address, const std::string& user, const std::string& password);
  // The same with several users (user -> password), created together.
  bool ensure(const Address& address, const std::map<std::string, std::string>& users);
  bool exists(const Address& address) const;

  // A login attempt; counted. False for an unknown database, an unknown user or a wrong password.
  bool login(const Address& address, const std::string& user, const std::string& password);
  bool login(const Credentials& credentials) {
    return login(credentials.address, credentials.username, credentials.password);
  }

  // What an administrator (or the user itself) may do, after logging in as `as_user`/`as_password`
  // (a counted login attempt). Each returns false, changing nothing else, when that login fails or
  // `user` is missing (set_password) or present (create_user).
  bool set_password(const Address& address, const std::string& as_user, const std::string& as_password,
                    const std::string& user, const std::string& new_password);
  bool create_user(const Address& address, const std::string& as_user, const std::string& as_password,
                   const std::string& user, const std::string& password);

  // The users of the database at `address`, sorted; empty when it does not exist.
  std::vector<std::string> users(const Address& address) const;
  // Login attempts at `address` (logins of set_password and create_user included); zero when it
  // does not exist.
  LoginCounts counts(const Address& address) const;

  // The whole state, for stepping back and saving (issue 6, issue 5); compared in tests.
  struct Database {
    std::map<std::string, std::string> passwords;  // user -> password
    LoginCounts counts;
    bool operator==(const Database& other) const { return passwords == other.passwords; }
  };
  std::map<Address, Database> snapshot() const;
  void restore(std::map<Address, Database> state);

 private:
  // The database at `address` after a counted login as `user`/`password`; nullptr when the login
  // fails. REQUIRES: mutex_ held.
  Database* login_locked(const Address& address, const std::string& user, const std::string& password);

  mutable std::mutex mutex_;
  std::map<Address, Database> databases_;
};

}  // namespace smemu
