#pragma once

// Mutual TLS between choreo's processes (ARCHITECTURE.md §7). Every process holds a certificate
// signed by the deployment's own CA (deploy/local/make-certs.sh makes them locally); its common
// name is the process's identity to the others ("gateway", "order", ..., "operator").
//
// - A server (StartGrpcServer) presents its certificate and asks every client for one, verified
//   against the CA. A client without one still gets a TLS connection (health checks work), but
//   every call that needs a caller is refused (peer_auth.h).
// - A client (ChannelTo) presents its certificate and accepts only a server whose certificate the
//   CA signed for the name it expects ("order" for the order service), whatever address it dials.
// Without TLS files (all three flags empty) a process serves and dials plaintext: then no call
// has an authenticated peer, so every call that needs one is refused.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "platform/config/flag_set.h"

namespace choreo::service {

// Where a process's TLS material lives (PEM files; production mounts them from a Secret).
struct TlsFiles {
  std::string ca;    // the CA that signs every choreo process's certificate
  std::string cert;  // this process's certificate
  std::string key;   // its private key

  bool enabled() const { return !ca.empty() || !cert.empty() || !key.empty(); }
  // --tls-ca, --tls-cert, --tls-key.
  void AddFlags(config::FlagSet& flags);
  // All three or none.
  absl::Status Validate() const;
};

// The PEM text of TlsFiles, read once at start. Empty when TLS is off.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;

  bool enabled() const { return !cert_pem.empty(); }
  // The contents of the files given (none: TLS off); FAILED_PRECONDITION naming the flag
  // ("--<flag_prefix>-cert") and the file that cannot be read.
  static absl::StatusOr<TlsMaterial> Load(const TlsFiles& files,
                                          absl::string_view flag_prefix = "tls");
};

// The text of the PEM file at `path`; FAILED_PRECONDITION naming `flag` if it cannot be read.
absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view flag);

// Server credentials: mutual TLS as above; TLS without client certificates when `tls` has no CA
// (the gateway's public port); plaintext when `tls` is off.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const TlsMaterial& tls);

// The least time ChannelTo gives one connection attempt (TCP, TLS, HTTP/2 settings), in ms.
inline constexpr int kMinConnectTimeoutMs = 5000;

// A channel to the process named `peer` at `address`. Its reconnect backoff is capped at 1 s
// (gRPC's default grows to 120 s): a process back from a restart is reached within a second. A
// connection attempt is given at least kMinConnectTimeoutMs, so a slow handshake is not cut off.
// A call answered UNAVAILABLE (no connection: a failed connect or TLS handshake) is tried twice
// more, 0.1 and 0.2 s later (the services' calls are reads, or idempotent).
std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address, const std::string& peer,
                                         const TlsMaterial& tls);

}  // namespace choreo::service
