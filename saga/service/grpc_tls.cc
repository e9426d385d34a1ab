#include "saga/service/grpc_tls.h"

#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace choreo::service {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("--", flag, ": cannot read ", path));
  }
  return text.str();
}

void TlsFiles::AddFlags(config::FlagSet& flags) {
  flags.Add("tls-ca", &ca, "PEM file of the CA that signs every choreo process's certificate")
      .Add("tls-cert", &cert,
           "PEM file of this process's certificate (mutual TLS between processes)")
      .Add("tls-key", &key, "PEM file of this process's private key");
}

absl::Status TlsFiles::Validate() const {
  if (enabled() && (ca.empty() || cert.empty() || key.empty())) {
    return absl::InvalidArgumentError("--tls-ca, --tls-cert and --tls-key go together");
  }
  return absl::OkStatus();
}

absl::StatusOr<TlsMaterial> TlsMaterial::Load(const TlsFiles& files,
                                              absl::string_view flag_prefix) {
  TlsMaterial material;
  for (auto [path, pem, name] : {std::tuple{&files.ca, &material.ca_pem, "ca"},
                                 std::tuple{&files.cert, &material.cert_pem, "cert"},
                                 std::tuple{&files.key, &material.key_pem, "key"}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> text = ReadPem(*path, absl::StrCat(flag_prefix, "-", name));
    if (!text.ok()) return text.status();
    *pem = *std::move(text);
  }
  return material;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(const TlsMaterial& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(tls.ca_pem.empty()
                                                ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                                : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.ca_pem;
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address, const std::string& peer,
                                         const TlsMaterial& tls) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // gRPC gives each connection attempt (TCP, TLS, HTTP/2 settings) at least this long, not only
  // the backoff: 100 ms here cut slow handshakes off on a loaded machine again and again, so calls
  // failed UNAVAILABLE while the server was up. A refused connection still fails at once.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kMinConnectTimeoutMs);
  // A call that found no connection (a failed connect or TLS handshake, a service restarting) is
  // tried again twice, 0.1 s and 0.2 s later; a service down for longer is UNAVAILABLE in 0.3 s.
  // Calls go round robin over every address the target resolves to: the instances of a service
  // ("ipv4:10.0.0.1:50051,10.0.0.2:50051", or a Kubernetes headless Service's DNS name), each
  // left out while it cannot be reached.
  args.SetServiceConfigJSON(R"({"loadBalancingConfig": [{"round_robin": {}}],
      "methodConfig": [{"name": [{}], "retryPolicy": {
      "maxAttempts": 3, "initialBackoff": "0.1s", "maxBackoff": "1s", "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]}}]})");
  if (!tls.enabled()) {
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  }
  // The server must prove it is `peer`, whatever host or address the channel dials.
  args.SetSslTargetNameOverride(peer);
  grpc::SslCredentialsOptions options{
      .pem_root_certs = tls.ca_pem, .pem_private_key = tls.key_pem, .pem_cert_chain = tls.cert_pem};
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), args);
}

}  // namespace choreo::service
