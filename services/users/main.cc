// choreo-users: the user service. Registers users (Argon2id password hashes), logs them in with
// EdDSA-signed JWTs, keeps their profiles, publishes UserRegistered / ProfileUpdated, and answers
// ProfileRequested over Kafka.

#include "platform/process/server_defaults.h"
#include "platform/process/stop_signals.h"
#include "services/users/users_config.h"
#include "services/users/users_process.h"

int main(int argc, char** argv) {
  choreo::process::ApplyServerDefaults();
  choreo::process::StopSignals signals;  // before any thread starts
  return choreo::users::RunUsers(choreo::users::UsersConfig::FromFlags(argc, argv), signals);
}
