// choreo-chaos against a running system, as an operator runs it against staging: a fault given
// as shell commands (the billing service frozen and thawed), the table printed, exit status 0
// when every invariant held; a fault command that fails is exit status 2 and says which.

#include <csignal>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/system.h"

namespace choreo::chaos {
namespace {

struct Output {
  int exit_status = -1;
  std::string text;
};

// Runs choreo-chaos with `flags` against `system`, its stdout and stderr together.
Output RunTool(e2e::LocalSystem& system, const std::string& flags) {
  const std::string command = absl::StrCat(
      CHOREO_CHAOS, " --gateway ", system.gateway(), " --order-admin ", system.order(),
      " --kafka-brokers ", system.kafka(), " --kafka-properties ",
      system.kafka_cluster()->ClientPropertiesFile("admin"), " --tls-ca ", system.pki().ca(),
      " --tls-cert ", system.pki().cert("operator"), " --tls-key ", system.pki().key("operator"),
      " --orders 12 --order-interval 100ms ", flags, " 2>&1");
  Output output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.text.append(buffer, n);
  const int status = ::pclose(pipe);
  output.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

TEST(ChaosToolTest, ChecksARunningSystemThroughAFaultGivenAsCommands) {
  e2e::LocalSystem system(e2e::Binaries::Built(), {.redis_appendfsync = "always"});
  ASSERT_TRUE(system.Start().ok());
  const pid_t billing = system.NamedPids().at("billing");
  const Output frozen = RunTool(
      system, absl::StrCat("--fault 'billing frozen' --inject 'kill -STOP ", billing,
                           "' --heal 'kill -CONT ", billing, "' --fault-length 2s"));
  EXPECT_EQ(frozen.exit_status, 0) << frozen.text;
  EXPECT_NE(frozen.text.find("billing frozen             12   0   0   0   0   0   0"),
            std::string::npos)
      << frozen.text;

  // A second run of its own (new users, new request ids) on the same system: the first run's
  // orders are not its business. Its fault command fails.
  const Output failed = RunTool(system, "--fault broken --inject 'exit 3'");
  EXPECT_EQ(failed.exit_status, 2) << failed.text;
  EXPECT_NE(failed.text.find("'exit 3' exited with status"), std::string::npos) << failed.text;
}

}  // namespace
}  // namespace choreo::chaos
