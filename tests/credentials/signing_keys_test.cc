// Ed25519 keys: PEM round trips, RFC 8037 vectors, openssl interoperability, key files.

#include "credentials/signing_keys.h"

#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace choreo::credentials {
namespace {

using ::testing::HasSubstr;

// A fresh directory, removed with everything in it at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ::testing::TempDir() + "users_credentials_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

std::string Base64(absl::string_view bytes, int variant) {
  std::string text(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  text.resize(text.size() - 1);
  return text;
}

std::string FromBase64Url(absl::string_view text) {
  std::string bytes(text.size(), '\0');
  size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    std::abort();
  }
  bytes.resize(size);
  return bytes;
}

// Standard output of `command`, or nullopt if it failed.
std::optional<std::string> RunCommand(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[512];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  if (::pclose(pipe) != 0) return std::nullopt;
  return output;
}

bool HaveOpenssl() { return ::access("/usr/bin/openssl", X_OK) == 0; }

// RFC 8037 appendix A.1: the private key "d" of the example Ed25519 JWK.
const char kRfc8037D[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

std::string Rfc8037PrivatePem() {
  const std::string der =
      absl::StrCat(absl::string_view("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22"
                                     "\x04\x20",
                                     16),
                   FromBase64Url(kRfc8037D));
  return absl::StrCat("-----BEGIN PRIVATE KEY-----\n", Base64(der, sodium_base64_VARIANT_ORIGINAL),
                      "\n-----END PRIVATE KEY-----\n");
}

TEST(SigningKey, PrivatePemRoundTrip) {
  const SigningKey key = SigningKey::Generate();
  const std::string pem = key.PrivatePem();
  EXPECT_TRUE(absl::StartsWith(pem, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI")) << pem;
  EXPECT_TRUE(absl::EndsWith(pem, "\n-----END PRIVATE KEY-----\n")) << pem;
  const absl::StatusOr<SigningKey> loaded = SigningKey::FromPem(pem);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->PrivatePem(), pem);
  EXPECT_EQ(loaded->verifying_key(), key.verifying_key());
}

TEST(VerifyingKey, PublicPemRoundTrip) {
  const VerifyingKey key = SigningKey::Generate().verifying_key();
  const std::string pem = key.PublicPem();
  EXPECT_TRUE(absl::StartsWith(pem, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA")) << pem;
  const absl::StatusOr<VerifyingKey> loaded = VerifyingKey::FromPem(pem);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, key);
  EXPECT_EQ(loaded->PublicPem(), pem);
}

TEST(SigningKey, MatchesRfc8037Example) {
  const absl::StatusOr<SigningKey> key = SigningKey::FromPem(Rfc8037PrivatePem());
  ASSERT_TRUE(key.ok()) << key.status();
  const VerifyingKey public_key = key->verifying_key();
  EXPECT_EQ(Base64(absl::string_view(reinterpret_cast<const char*>(public_key.bytes().data()),
                                     public_key.bytes().size()),
                   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
  // Appendix A.3: the JWK thumbprint.
  EXPECT_EQ(public_key.KeyId(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  // Appendix A.4: Ed25519 is deterministic, so the example signature is reproduced exactly.
  const std::string signing_input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string signature = key->Sign(signing_input);
  EXPECT_EQ(
      Base64(signature, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
  EXPECT_TRUE(public_key.Verify(signing_input, signature));
  EXPECT_FALSE(public_key.Verify(signing_input + "x", signature));
  EXPECT_FALSE(public_key.Verify(signing_input, signature.substr(0, 63)));
}

TEST(SigningKey, PemMayBeSurroundedByTextAndUseCrlf) {
  const SigningKey key = SigningKey::Generate();
  std::string pem = key.PrivatePem();
  absl::StrReplaceAll({{"\n", "\r\n"}}, &pem);
  const absl::StatusOr<SigningKey> loaded = SigningKey::FromPem("comment\r\n" + pem);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->verifying_key(), key.verifying_key());
}

TEST(SigningKey, RejectsOtherPemContents) {
  const SigningKey key = SigningKey::Generate();
  // A public key where a private one is expected.
  EXPECT_THAT(SigningKey::FromPem(key.verifying_key().PublicPem()).status().message(),
              HasSubstr("BEGIN PRIVATE KEY"));
  // An X25519 (OID 1.3.101.110) private key: right shape, wrong algorithm.
  const std::string x25519 = absl::StrCat(
      "-----BEGIN PRIVATE KEY-----\n",
      Base64(absl::StrCat(absl::string_view("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x6e"
                                            "\x04\x22\x04\x20",
                                            16),
                          std::string(32, 'k')),
             sodium_base64_VARIANT_ORIGINAL),
      "\n-----END PRIVATE KEY-----\n");
  const absl::Status wrong_algorithm = SigningKey::FromPem(x25519).status();
  EXPECT_EQ(wrong_algorithm.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_algorithm.message(), HasSubstr("not an Ed25519 PKCS#8 private key"));
  EXPECT_EQ(SigningKey::FromPem("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SigningKey::FromPem("-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SigningKey::FromPem("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(VerifyingKey::FromPem(key.PrivatePem()).status().message(),
              HasSubstr("BEGIN PUBLIC KEY"));
}

TEST(SigningKey, OpensslDerivesTheSamePublicKey) {
  if (!HaveOpenssl()) GTEST_SKIP() << "choreo-skipped: no /usr/bin/openssl";
  const ScratchDir dir;
  const SigningKey key = SigningKey::Generate();
  WriteFile(dir.File("private.pem"), key.PrivatePem());
  const std::optional<std::string> public_pem =
      RunCommand(absl::StrCat("/usr/bin/openssl pkey -in ", dir.File("private.pem"), " -pubout"));
  ASSERT_TRUE(public_pem.has_value());
  EXPECT_EQ(*public_pem, key.verifying_key().PublicPem());
}

TEST(SigningKey, ReadsOpensslKeysAndOpensslVerifiesItsSignatures) {
  if (!HaveOpenssl()) GTEST_SKIP() << "choreo-skipped: no /usr/bin/openssl";
  const ScratchDir dir;
  ASSERT_TRUE(RunCommand(absl::StrCat("/usr/bin/openssl genpkey -algorithm ed25519 -out ",
                                      dir.File("private.pem")))
                  .has_value());
  ASSERT_TRUE(RunCommand(absl::StrCat("/usr/bin/openssl pkey -in ", dir.File("private.pem"),
                                      " -pubout -out ", dir.File("public.pem")))
                  .has_value());
  const absl::StatusOr<SigningKey> key = SigningKey::FromPem(ReadFile(dir.File("private.pem")));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->PrivatePem(), ReadFile(dir.File("private.pem")));
  const absl::StatusOr<VerifyingKey> public_key =
      VerifyingKey::FromPem(ReadFile(dir.File("public.pem")));
  ASSERT_TRUE(public_key.ok()) << public_key.status();
  EXPECT_EQ(*public_key, key->verifying_key());

  WriteFile(dir.File("message"), "header.payload");
  WriteFile(dir.File("signature"), key->Sign("header.payload"));
  EXPECT_TRUE(RunCommand(absl::StrCat("/usr/bin/openssl pkeyutl -verify -pubin -inkey ",
                                      dir.File("public.pem"), " -rawin -in ", dir.File("message"),
                                      " -sigfile ", dir.File("signature"), " >/dev/null"))
                  .has_value());
}

TEST(LoadOrCreateSigningKey, CreatesThenReloadsTheSameKey) {
  const ScratchDir dir;
  const std::string private_path = dir.File("jwt.key");
  const std::string public_path = dir.File("jwt.pub");
  const absl::StatusOr<SigningKey> created = LoadOrCreateSigningKey(private_path, public_path);
  ASSERT_TRUE(created.ok()) << created.status();

  struct stat info;
  ASSERT_EQ(::stat(private_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  EXPECT_EQ(ReadFile(private_path), created->PrivatePem());
  EXPECT_EQ(ReadFile(public_path), created->verifying_key().PublicPem());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.File("")),
                          std::filesystem::directory_iterator()),
            2)
      << "no temporary file left behind";

  const absl::StatusOr<SigningKey> reloaded = LoadOrCreateSigningKey(private_path, public_path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ(reloaded->PrivatePem(), created->PrivatePem());

  const absl::StatusOr<VerifyingKey> verifying = LoadVerifyingKey(public_path);
  ASSERT_TRUE(verifying.ok()) << verifying.status();
  EXPECT_EQ(*verifying, created->verifying_key());
}

TEST(LoadOrCreateSigningKey, RewritesAMissingPublicKeyFile) {
  const ScratchDir dir;
  const SigningKey key = SigningKey::Generate();
  WriteFile(dir.File("jwt.key"), key.PrivatePem());
  const absl::StatusOr<SigningKey> loaded =
      LoadOrCreateSigningKey(dir.File("jwt.key"), dir.File("jwt.pub"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->verifying_key(), key.verifying_key());
  EXPECT_EQ(ReadFile(dir.File("jwt.pub")), key.verifying_key().PublicPem());
}

TEST(LoadOrCreateSigningKey, RefusesAPublicKeyFileOfAnotherKey) {
  const ScratchDir dir;
  WriteFile(dir.File("jwt.key"), SigningKey::Generate().PrivatePem());
  WriteFile(dir.File("jwt.pub"), SigningKey::Generate().verifying_key().PublicPem());
  const absl::Status status =
      LoadOrCreateSigningKey(dir.File("jwt.key"), dir.File("jwt.pub")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr(dir.File("jwt.pub")));
}

TEST(LoadOrCreateSigningKey, NamesTheFileThatIsNotAKey) {
  const ScratchDir dir;
  WriteFile(dir.File("jwt.key"), "hello");
  const absl::Status status =
      LoadOrCreateSigningKey(dir.File("jwt.key"), dir.File("jwt.pub")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(dir.File("jwt.key")));
  EXPECT_THAT(status.message(), HasSubstr("BEGIN PRIVATE KEY"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("jwt.pub")));
}

TEST(LoadOrCreateSigningKey, MissingDirectoryIsNotFound) {
  const ScratchDir dir;
  const absl::Status status =
      LoadOrCreateSigningKey(dir.File("absent/jwt.key"), dir.File("absent/jwt.pub")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr(dir.File("absent/jwt.key")));
}

TEST(LoadVerifyingKey, ReportsMissingAndBadFiles) {
  const ScratchDir dir;
  const absl::Status missing = LoadVerifyingKey(dir.File("jwt.pub")).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr(dir.File("jwt.pub")));

  WriteFile(dir.File("jwt.pub"), SigningKey::Generate().PrivatePem());
  const absl::Status wrong = LoadVerifyingKey(dir.File("jwt.pub")).status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.message(), HasSubstr(dir.File("jwt.pub")));
}

}  // namespace
}  // namespace choreo::credentials
