// choreo-chaos: one phase of the fault matrix (runner.h) against a running choreo, such as a
// staging system: paced orders through its gateway, a fault injected and healed by commands of
// the operator's (kill a pod, stop a broker, cut a link), the invariants checked over every
// order of the run, and the table printed. Exit status 0 when every invariant held and every
// order was answered, 1 when not, 2 on bad flags or a fault command that failed.
//
//   choreo-chaos --gateway GW:9090 --order-admin ORDER:50051 --kafka-brokers KAFKA:9092
//     --tls-ca ca.pem --tls-cert operator.pem --tls-key operator.key
//     --kafka-properties admin.properties
//     --fault "order pod deleted" --inject "kubectl delete pod -l app=choreo-order" (one line)
//
// The order service is read as an operator: a certificate from the deployment's CA whose common
// name is "operator" (deploy/local/make-certs.sh).
//
// Users and request ids carry a run id of their own, so runs never see each other's orders.

#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "edges/kafka/kafka_client.h"
#include "platform/config/flag_set.h"
#include "saga/service/grpc_tls.h"
#include "tests/chaos/runner.h"

namespace choreo::chaos {
namespace {

struct ChaosConfig {
  std::string gateway;
  std::string order_admin;
  std::string kafka_brokers;
  std::string kafka_properties;
  service::TlsFiles tls;
  std::string run_id;
  std::string fault = "none";
  std::string inject;
  std::string heal;
  int users = 10;
  int clients = 6;
  int orders = 45;
  absl::Duration order_interval = absl::Milliseconds(120);
  absl::Duration fault_length = absl::Seconds(3);
  absl::Duration settle = absl::Seconds(90);

  void AddFlags(config::FlagSet& flags) {
    flags.Add("gateway", &gateway, "the gateway's gRPC address (clients' orders go there)")
        .Add("order-admin", &order_admin, "the order service's gRPC address (OrderAdmin)")
        .Add("kafka-brokers", &kafka_brokers, "bootstrap servers (the saga topics are read)")
        .Add("kafka-properties", &kafka_properties,
             "file of librdkafka properties: a login that may read the saga topics");
    tls.AddFlags(flags);
    flags.Add("run-id", &run_id, "names this run's users and request ids (random if empty)")
        .Add("fault", &fault, "the fault's name in the table")
        .Add("inject", &inject, "shell command that injects the fault (none if empty)")
        .Add("heal", &heal, "shell command that heals it, fault-length later (none if empty)")
        .Add("users", &users, "users the orders come from, each funded once")
        .Add("clients", &clients, "concurrent clients")
        .Add("orders", &orders, "orders placed, one per order-interval")
        .Add("order-interval", &order_interval, "time between two orders' scheduled sends")
        .Add("fault-length", &fault_length, "time from the inject command to the heal command")
        .Add("settle", &settle,
             "how long the invariants may take to hold once every order is answered");
  }

  absl::Status Validate() const {
    if (gateway.empty() || order_admin.empty() || kafka_brokers.empty()) {
      return absl::InvalidArgumentError("--gateway, --order-admin and --kafka-brokers are needed");
    }
    if (!tls.enabled())
      return absl::InvalidArgumentError("--tls-ca, --tls-cert and --tls-key are needed");
    if (absl::Status tls_ok = tls.Validate(); !tls_ok.ok()) return tls_ok;
    if (users < 1 || clients < 1 || orders < 3) {
      return absl::InvalidArgumentError("--users and --clients must be >= 1, --orders >= 3");
    }
    return absl::OkStatus();
  }
};

// A fault's command, run by the shell: OK when it exits 0.
std::function<absl::Status()> Command(std::string command) {
  return [command = std::move(command)]() -> absl::Status {
    if (command.empty()) return absl::OkStatus();
    const int status = std::system(command.c_str());
    if (status == 0) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("'", command, "' exited with status ", status));
  };
}

int Run(const ChaosConfig& config) {
  if (absl::Status used = kafka::UseClientPropertiesFile(config.kafka_properties); !used.ok()) {
    std::fprintf(stderr, "choreo-chaos: %s\n", std::string(used.message()).c_str());
    return 2;
  }
  absl::StatusOr<service::TlsMaterial> tls = service::TlsMaterial::Load(config.tls);
  if (!tls.ok()) {
    std::fprintf(stderr, "choreo-chaos: %s\n", std::string(tls.status().message()).c_str());
    return 2;
  }
  std::string run_id = config.run_id;
  if (run_id.empty()) run_id = absl::StrFormat("%08x", std::random_device()());
  ChaosRunner runner(ChaosRunner::Options{
      .system = {config.gateway, service::ChannelTo(config.order_admin, "order", *tls),
                 config.kafka_brokers},
      .user_prefix = absl::StrCat("chaos-", run_id, "-u"),
      .users = config.users,
      .request_prefix = absl::StrCat("chaos-", run_id, "-p"),
      .clients = config.clients,
      .orders_per_phase = config.orders,
      .order_interval = config.order_interval,
      .fault_length = config.fault_length,
      .settle = config.settle});
  std::printf("run %s: signing up %d users\n", run_id.c_str(), config.users);
  if (absl::Status signed_up = runner.SignUpUsers(); !signed_up.ok()) {
    std::fprintf(stderr, "choreo-chaos: %s\n", std::string(signed_up.message()).c_str());
    return 1;
  }
  std::printf("run %s: %d orders, fault '%s'\n", run_id.c_str(), config.orders,
              config.fault.c_str());
  std::fflush(stdout);
  const PhaseResult result =
      runner.RunPhase({config.fault, Command(config.inject), Command(config.heal)});
  std::printf("%s", FormatTable({result}).c_str());
  for (const Violation& v : result.new_violations) {
    std::printf("violation %s %s: %s\n", v.invariant.c_str(), v.subject.c_str(), v.detail.c_str());
  }
  if (!result.fault_status.ok()) {
    std::fprintf(stderr, "choreo-chaos: %s\n", std::string(result.fault_status.message()).c_str());
    return 2;
  }
  if (result.unanswered > 0) {
    std::printf("%d orders never answered; the last error: %s\n", result.unanswered,
                result.last_error.c_str());
  }
  return result.new_violations.empty() && result.unanswered == 0 ? 0 : 1;
}

}  // namespace
}  // namespace choreo::chaos

int main(int argc, char** argv) {
  auto config = choreo::config::ParseConfigOrExit<choreo::chaos::ChaosConfig>(
      "choreo-chaos", "One phase of the fault matrix against a running choreo.", argc, argv);
  return choreo::chaos::Run(config);
}
