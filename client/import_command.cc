// dtrust import: read a server's certificate (and key) as a CA issued it or
// another system exported it, check it, and optionally publish it.
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/certificate_report.h"
#include "client/command.h"
#include "client/credentials.h"
#include "client/format.h"
#include "client/key_files.h"
#include "client/possession.h"
#include "client/publish.h"
#include "client/x509_name.h"
#include "server/base/files.h"
#include "server/base/hex.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kCommand = "import";

constexpr absl::string_view kHelp =
    R"(usage: dtrust import FILE [--key KEY-FILE] [--password-file PW-FILE]
                     [--enable smtp --server FQDN [--domain MAIL-DOMAIN]...
                      [--pin cert|key] [--not-before TIME]
                      [--not-after TIME]]

Reads a mail server's certificate as a CA issued it or another system
exported it, checks it and shows what it holds; with --enable smtp also
publishes it (Exchange: Import-ExchangeCertificate |
Enable-ExchangeCertificate -Services SMTP).

FILE is PEM (the certificate, maybe its chain and private key), DER (one
certificate) or PKCS#12 (.p12/.pfx). The server's certificate (the leaf) is
the one the private key belongs to when there is a key (in FILE or
KEY-FILE); otherwise the first one, as chain files list the leaf first (a
first certificate that issued another one in FILE is refused). The rest of
a chain is ignored: direct trust needs no CA. A private key that does not
belong to the certificate is an error.
)";

// The certificate and key found, validated.
struct Imported {
  std::string format{};
  X509Ptr leaf{};
  std::vector<X509Ptr> others{};  // The rest of the chain.
  EvpPkeyPtr key{};               // Null without one.
  std::string key_source{};       // The file the key came from.
};

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

absl::Status CheckEnableOptions(const ParsedArgs& args) {
  if (std::optional<std::string> service = args.Value("enable")) {
    if (*service != "smtp") {
      return UsageError(kCommand, absl::StrCat("--enable ", *service,
                                               ": only smtp can be enabled"));
    }
    return absl::OkStatus();
  }
  for (const OptionSpec& option : PublishTargetOptions(/*for_import=*/true)) {
    if (args.Has(option.name)) {
      return UsageError(
          kCommand, absl::StrCat("--", option.name, " is for --enable smtp"));
    }
  }
  return absl::OkStatus();
}

bool KeyBelongsTo(X509* certificate, EVP_PKEY* key) {
  const bool match = X509_check_private_key(certificate, key) == 1;
  ERR_clear_error();
  return match;
}

std::string SubjectOf(const X509* certificate) {
  return FormatRfc4514(X509_get_subject_name(certificate));
}

// The private key from --key, if given, reconciled with one in FILE.
absl::Status TakeKey(const ParsedArgs& args, const std::string& path,
                     const std::optional<std::string>& password,
                     Credentials& credentials, Imported& imported) {
  imported.key = std::move(credentials.key);
  if (imported.key) imported.key_source = path;
  const std::optional<std::string> key_path = args.Value("key");
  if (!key_path.has_value()) return absl::OkStatus();
  DTRUST_ASSIGN_OR_RETURN(Credentials key_file,
                          ReadCredentialsFile(*key_path, password));
  if (!key_file.key) {
    return Invalid(absl::StrCat(*key_path, ": holds no private key (--key)"));
  }
  if (imported.key &&
      EVP_PKEY_eq(imported.key.get(), key_file.key.get()) != 1) {
    ERR_clear_error();
    return Invalid(
        absl::StrCat(path, " and ", *key_path, " hold different private keys"));
  }
  imported.key = std::move(key_file.key);
  imported.key_source = *key_path;
  return absl::OkStatus();
}

// Moves the leaf out of `certificates` into imported.leaf, the rest into
// imported.others.
absl::Status TakeLeaf(const std::string& path,
                      std::vector<X509Ptr> certificates, Imported& imported) {
  if (certificates.empty()) {
    return Invalid(
        absl::StrCat(path, ": holds no certificate, only a private key"));
  }
  size_t leaf = 0;
  if (imported.key) {
    while (leaf < certificates.size() &&
           !KeyBelongsTo(certificates[leaf].get(), imported.key.get())) {
      ++leaf;
    }
    if (leaf == certificates.size()) {
      DTRUST_ASSIGN_OR_RETURN(const Sha256Digest key_digest,
                              PublicKeySha256(imported.key.get()));
      const std::string key_text =
          absl::StrCat("the private key in ", imported.key_source,
                       " (spki-sha256 ", key_digest.ToColonHex(), ")");
      if (certificates.size() == 1) {
        return Invalid(
            absl::StrCat(key_text, " does not belong to the certificate in ",
                         path, " (", SubjectOf(certificates[0].get()), ")"));
      }
      return Invalid(absl::StrCat(key_text, " belongs to none of the ",
                                  certificates.size(), " certificates in ",
                                  path));
    }
  } else {
    for (size_t i = 1; i < certificates.size(); ++i) {
      if (X509_cmp(certificates[0].get(), certificates[i].get()) != 0 &&
          X509_check_issued(certificates[0].get(), certificates[i].get()) ==
              X509_V_OK) {
        return Invalid(absl::StrCat(
            path, ": its first certificate (", SubjectOf(certificates[0].get()),
            ") issued another one in the file, so it is not the server's; "
            "put the server's certificate first or give its key with --key"));
      }
    }
  }
  imported.leaf = std::move(certificates[leaf]);
  for (size_t i = 0; i < certificates.size(); ++i) {
    if (i != leaf) imported.others.push_back(std::move(certificates[i]));
  }
  return absl::OkStatus();
}

absl::StatusOr<Imported> ReadImport(const ParsedArgs& args,
                                    const std::string& path) {
  std::optional<std::string> password;
  if (std::optional<std::string> file = args.Value("password-file")) {
    DTRUST_ASSIGN_OR_RETURN(password, ReadPasswordFile(*file));
  }
  DTRUST_ASSIGN_OR_RETURN(Credentials credentials,
                          ReadCredentialsFile(path, password));
  Imported imported{.format = credentials.format};
  DTRUST_RETURN_IF_ERROR(TakeKey(args, path, password, credentials, imported));
  DTRUST_RETURN_IF_ERROR(
      TakeLeaf(path, std::move(credentials.certificates), imported));
  return imported;
}

absl::StatusOr<Certificate> ToCertificate(X509* x509, const std::string& path) {
  unsigned char* der = nullptr;
  const int size = i2d_X509(x509, &der);
  if (size <= 0) {
    return absl::InternalError(absl::StrCat(
        path, ": cannot encode the certificate: ", OpenSslError()));
  }
  const OpenSslBytes owner(der);
  return Certificate::FromDer(absl::string_view(reinterpret_cast<char*>(der),
                                                static_cast<size_t>(size)),
                              path);
}

// "valid", "expired" or "not-yet-valid", now.
std::string Validity(const Certificate& certificate) {
  const absl::Time now = absl::Now();
  if (now < certificate.not_before()) return "not-yet-valid";
  if (now > certificate.not_after()) return "expired";
  return "valid";
}

std::vector<std::string> ChainSubjects(const Imported& imported) {
  std::vector<std::string> subjects;
  for (const X509Ptr& other : imported.others) {
    subjects.push_back(SubjectOf(other.get()));
  }
  return subjects;
}

void WriteJson(const std::string& path, const Imported& imported,
               const Certificate& certificate, std::string* out) {
  JsonWriter json(out);
  json.BeginObject();
  json.Field("file", path);
  json.Field("format", imported.format);
  WriteCertificateFields(certificate, SubjectOf(imported.leaf.get()), json);
  json.Field("validity", Validity(certificate));
  json.Field("key_type", DescribeKey(X509_get0_pubkey(imported.leaf.get())));
  json.NullableField("private_key", imported.key
                                        ? std::optional(imported.key_source)
                                        : std::nullopt);
  json.StringArray("chain", ChainSubjects(imported));
  json.EndObject();
  out->push_back('\n');
}

void AppendText(const std::string& path, const Imported& imported,
                const Certificate& certificate, std::string* out) {
  absl::StrAppend(out, path, ": certificate (", imported.format, ")",
                  imported.key ? ", with its private key\n" : "\n");
  AppendCertificateText(certificate, SubjectOf(imported.leaf.get()), out);
  AppendDetail("  ", "validity", Validity(certificate), out);
  AppendDetail("  ", "key type",
               DescribeKey(X509_get0_pubkey(imported.leaf.get())), out);
  AppendDetail("  ", "private key",
               imported.key
                   ? absl::StrCat("matches (", imported.key_source, ")")
                   : "none",
               out);
  AppendDetail("  ", "chain",
               imported.others.empty()
                   ? ""
                   : absl::StrCat(imported.others.size(), " more, ignored: ",
                                  absl::StrJoin(ChainSubjects(imported), "; ")),
               out);
}

absl::StatusOr<ExitCode> RunImport(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  if (args.positionals().size() != 1) {
    return UsageError(kCommand, "import needs exactly one file");
  }
  const std::string& path = args.positionals()[0];
  DTRUST_RETURN_IF_ERROR(CheckEnableOptions(args));
  std::optional<v1::PublishRequest> publish;
  if (args.Has("enable")) {
    DTRUST_ASSIGN_OR_RETURN(
        publish, MakePublishRequest(args, kCommand, "--enable smtp"));
  }
  DTRUST_ASSIGN_OR_RETURN(const Imported imported, ReadImport(args, path));
  DTRUST_ASSIGN_OR_RETURN(const Certificate certificate,
                          ToCertificate(imported.leaf.get(), path));
  if (publish.has_value()) {
    publish->set_certificate_der(certificate.der());
    if (imported.key) {
      DTRUST_RETURN_IF_ERROR(
          ProvePossession(invocation.dtrustd, imported.key.get(), &*publish));
    }
    return PublishAndReport(invocation, *publish, path);
  }
  if (invocation.json) {
    WriteJson(path, imported, certificate, invocation.out);
  } else {
    AppendText(path, imported, certificate, invocation.out);
  }
  return ExitCode::kOk;
}

}  // namespace

Command ImportCommand() {
  std::vector<OptionSpec> options = {
      {.name = "key",
       .value_name = "KEY-FILE",
       .description = "the certificate's private key (PEM or DER), e.g.\n"
                      "from dtrust request; checked against it"},
      {.name = "password-file",
       .value_name = "PW-FILE",
       .description = "the password of a PKCS#12 FILE or an encrypted\n"
                      "key: the file's first line"},
      {.name = "enable",
       .value_name = "smtp",
       .description = "publish the certificate for the mail server, as\n"
                      "dtrust publish does (same output and exit codes);\n"
                      "with its private key (in FILE or KEY-FILE) dtrust\n"
                      "proves possession of it, as publish --key does"}};
  for (const OptionSpec& option : PublishTargetOptions(/*for_import=*/true)) {
    options.push_back(option);
  }
  return {.name = "import",
          .summary = "check a certificate file; --enable smtp publishes it",
          .help = kHelp,
          .options = std::move(options),
          .run = RunImport};
}

}  // namespace dtrust::cli
