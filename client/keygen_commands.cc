// dtrust request and dtrust selfsign: a key pair plus a certificate request
// (for a CA) or a self-signed certificate (for direct trust, no CA).
#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/cert_builder.h"
#include "client/certificate_report.h"
#include "client/command.h"
#include "client/credentials.h"
#include "client/files.h"
#include "client/format.h"
#include "client/key_files.h"
#include "client/x509_name.h"
#include "server/base/files.h"
#include "server/base/hex.h"
#include "server/base/status_macros.h"
#include "server/core/certificate.h"

namespace dtrust::cli {
namespace {

constexpr mode_t kKeyMode = 0600;
constexpr mode_t kPublicMode = 0644;
constexpr int kDefaultDays = 365;
constexpr int kMaxDays = 3650;
// notBefore lies this far back, so peers whose clocks are a little behind
// do not see a brand-new certificate as not yet valid.
constexpr absl::Duration kBackdate = absl::Hours(1);

constexpr absl::string_view kNotes =
    R"(
Nothing is written unless everything succeeds. Nothing is sent to dtrustd.
)";

constexpr absl::string_view kRequestUsage =
    R"(usage: dtrust request --subject DN [--dns-name NAME]... --key KEY-FILE
                      --out CSR-FILE [--key-type TYPE] [--reuse-key]
                      [--force]

Makes a private key and a PKCS#10 certificate request (PEM) for a mail
server, to have a CA issue the certificate (Exchange: New-ExchangeCertificate
-GenerateRequest). Import the issued certificate with dtrust import.
)";

constexpr absl::string_view kSelfsignUsage =
    R"(usage: dtrust selfsign --subject DN [--dns-name NAME]... --key KEY-FILE
                       --out CERT-FILE [--days N] [--key-type TYPE]
                       [--reuse-key] [--force]

Makes a private key and a self-signed certificate (PEM) for a mail server.
Direct trust needs no CA: publish the certificate with dtrust publish (or
give it to the partner organization to publish), and configure the MTA
with the key and the certificate.
)";

enum class Output { kRequest, kSelfSigned };

absl::string_view CommandName(Output output) {
  return output == Output::kRequest ? "request" : "selfsign";
}

// Everything the command line asks for, validated.
struct KeygenRequest {
  std::optional<Subject> subject{};
  std::vector<std::string> dns_names{};
  std::string key_path{};
  std::string out_path{};
  KeyType key_type = KeyType::kEcP256;
  bool reuse_key = false;
  std::optional<std::string> password{};
  int days = kDefaultDays;
};

absl::StatusOr<int> ParseDays(absl::string_view text) {
  int days;
  if (!absl::SimpleAtoi(text, &days) || days < 1 || days > kMaxDays) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--days ", text, ": must be a whole number from 1 to ", kMaxDays));
  }
  return days;
}

absl::StatusOr<KeygenRequest> ParseRequest(const ParsedArgs& args,
                                           Output output) {
  const absl::string_view command = CommandName(output);
  if (!args.positionals().empty()) {
    return UsageError(
        command, absl::StrCat("unexpected argument ", args.positionals()[0],
                              " (all inputs are options)"));
  }
  for (absl::string_view required : {"subject", "key", "out"}) {
    if (!args.Has(required)) {
      return UsageError(command, absl::StrCat(command, " needs --", required));
    }
  }
  KeygenRequest request{.key_path = *args.Value("key"),
                        .out_path = *args.Value("out"),
                        .reuse_key = args.Has("reuse-key")};
  if (request.key_path == request.out_path) {
    return UsageError(command, "--key and --out name the same file");
  }
  if (request.reuse_key && args.Has("key-type")) {
    return UsageError(command,
                      "--key-type makes a new key; not with "
                      "--reuse-key");
  }
  if (!request.reuse_key && args.Has("password-file")) {
    return UsageError(command, "--password-file is for --reuse-key");
  }
  DTRUST_ASSIGN_OR_RETURN(request.subject,
                          Subject::Parse(*args.Value("subject"), "--subject"));
  DTRUST_ASSIGN_OR_RETURN(request.dns_names,
                          ParseSanDnsNames(args.Values("dns-name")));
  if (std::optional<std::string> type = args.Value("key-type")) {
    DTRUST_ASSIGN_OR_RETURN(request.key_type, ParseKeyType(*type));
  }
  if (std::optional<std::string> file = args.Value("password-file")) {
    DTRUST_ASSIGN_OR_RETURN(request.password, ReadPasswordFile(*file));
  }
  if (std::optional<std::string> days = args.Value("days")) {
    DTRUST_ASSIGN_OR_RETURN(request.days, ParseDays(*days));
  }
  return request;
}

// The existing key in `path` (--reuse-key).
absl::StatusOr<EvpPkeyPtr> ReadExistingKey(
    const std::string& path, const std::optional<std::string>& password) {
  DTRUST_ASSIGN_OR_RETURN(Credentials credentials,
                          ReadCredentialsFile(path, password));
  if (!credentials.key) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": holds no private key (--reuse-key)"));
  }
  return std::move(credentials.key);
}

// What was made, for the report.
struct Made {
  std::string subject{};
  std::string key_type{};
  Sha256Digest spki_sha256{};
  std::optional<Certificate> certificate{};  // Self-signed only.
};

void WriteJson(const KeygenRequest& request, const Made& made,
               std::string* out) {
  JsonWriter json(out);
  json.BeginObject();
  json.Field("key_file", request.key_path);
  json.Field("key_source", request.reuse_key ? "reused" : "generated");
  json.Field("key_type", made.key_type);
  if (made.certificate) {
    json.Field("certificate_file", request.out_path);
    WriteCertificateFields(*made.certificate, made.subject, json);
  } else {
    json.Field("request_file", request.out_path);
    json.Field("subject", made.subject);
    json.Field("spki_sha256", made.spki_sha256.ToHex());
  }
  json.StringArray("dns_names", request.dns_names);
  json.EndObject();
  out->push_back('\n');
}

void AppendText(const KeygenRequest& request, const Made& made,
                std::string* out) {
  if (request.reuse_key) {
    absl::StrAppend(out, "used the private key in ", request.key_path, " (",
                    made.key_type, ")\n");
  } else {
    absl::StrAppend(out, "wrote ", request.key_path, " (private key, ",
                    made.key_type, ", mode 0600)\n");
  }
  if (made.certificate) {
    absl::StrAppend(out, "wrote ", request.out_path,
                    " (self-signed certificate)\n");
    AppendCertificateText(*made.certificate, made.subject, out);
  } else {
    absl::StrAppend(out, "wrote ", request.out_path,
                    " (certificate request)\n");
    AppendDetail("  ", "subject", made.subject, out);
    AppendDetail("  ", "spki-sha256", made.spki_sha256.ToColonHex(), out);
  }
  AppendDetail("  ", "dns names", absl::StrJoin(request.dns_names, ", "), out);
}

absl::StatusOr<ExitCode> RunKeygen(const Invocation& invocation,
                                   Output output) {
  DTRUST_ASSIGN_OR_RETURN(const KeygenRequest request,
                          ParseRequest(invocation.args, output));
  NewFiles files(/*overwrite=*/invocation.args.Has("force"));
  if (!request.reuse_key) DTRUST_RETURN_IF_ERROR(files.Check(request.key_path));
  DTRUST_RETURN_IF_ERROR(files.Check(request.out_path));

  EvpPkeyPtr key;
  if (request.reuse_key) {
    DTRUST_ASSIGN_OR_RETURN(
        key, ReadExistingKey(request.key_path, request.password));
  } else {
    DTRUST_ASSIGN_OR_RETURN(key, GenerateKey(request.key_type));
  }
  const CertificateContent content{.subject = *request.subject,
                                   .dns_names = request.dns_names,
                                   .key = key.get()};
  Made made{.key_type = DescribeKey(key.get())};
  DTRUST_ASSIGN_OR_RETURN(made.spki_sha256, PublicKeySha256(key.get()));
  DTRUST_ASSIGN_OR_RETURN(X509NamePtr name, request.subject->ToX509Name());
  made.subject = FormatRfc4514(name.get());
  std::string pem;
  if (output == Output::kRequest) {
    DTRUST_ASSIGN_OR_RETURN(pem, MakeCertificateRequest(content));
  } else {
    const absl::Time now = absl::Now();
    DTRUST_ASSIGN_OR_RETURN(
        pem, MakeSelfSignedCertificate(content, now - kBackdate,
                                       now + absl::Hours(24 * request.days)));
    DTRUST_ASSIGN_OR_RETURN(made.certificate,
                            Certificate::FromPemOrDer(pem, request.out_path));
  }

  if (!request.reuse_key) {
    DTRUST_ASSIGN_OR_RETURN(const std::string key_pem,
                            PrivateKeyPem(key.get()));
    DTRUST_RETURN_IF_ERROR(files.Add(request.key_path, key_pem, kKeyMode));
  }
  DTRUST_RETURN_IF_ERROR(files.Add(request.out_path, pem, kPublicMode));
  DTRUST_RETURN_IF_ERROR(files.Commit());

  if (invocation.json) {
    WriteJson(request, made, invocation.out);
  } else {
    AppendText(request, made, invocation.out);
  }
  return ExitCode::kOk;
}

std::vector<OptionSpec> KeygenOptions(Output output) {
  const bool request = output == Output::kRequest;
  std::vector<OptionSpec> options = {
      {.name = "subject",
       .value_name = "DN",
       .description =
           "the subject name in RFC 4514 form, the most\n"
           "significant part LAST, e.g.\n"
           "\"CN=mx1.org-b.example,OU=Mail,O=Org B,L=Berlin,ST=Berlin,"
           "C=DE,DC=org-b,DC=example\"\n"
           "(escape , + \" \\ ; < > with a backslash). Types, and\n"
           "their length in characters (X.520 bounds): C exactly\n"
           "2 letters; ST, L 1-128; O, OU, CN 1-64 (any Unicode,\n"
           "stored as UTF8String); DC 1-255 ASCII. OU and DC may\n"
           "repeat, the others appear at most once."},
      {.name = "dns-name",
       .value_name = "NAME",
       .description = "a subjectAltName DNS name (repeatable; \"*.DOMAIN\" is\n"
                      "allowed). Give the server's FQDN here, not only as CN.",
       .repeatable = true},
      {.name = "key",
       .value_name = "KEY-FILE",
       .description = "where to write the new private key (unencrypted PEM,\n"
                      "mode 0600)"},
      {.name = "out",
       .value_name = request ? "CSR-FILE" : "CERT-FILE",
       .description = request ? "where to write the request"
                              : "where to write the certificate"},
      {.name = "key-type",
       .value_name = "TYPE",
       .description = "ec-p256 (default), rsa-2048, rsa-3072 or rsa-4096"},
      {.name = "reuse-key",
       .description = "certify the existing key in KEY-FILE instead of making\n"
                      "one (a renewal that keeps the key, so a key pin stays\n"
                      "valid); --password-file F if that key is encrypted"},
      {.name = "password-file",
       .value_name = "F",
       .description = "with --reuse-key: the password of an encrypted key"},
      {.name = "force",
       .description = "replace existing output files (otherwise they are\n"
                      "never overwritten)"},
  };
  if (!request) {
    options.push_back(
        {.name = "days",
         .value_name = "N",
         .description =
             "valid for N days from now (1-3650, default 365); it\n"
             "is valid from an hour ago, for clocks running behind"});
  }
  return options;
}

}  // namespace

Command RequestCommand() {
  return {.name = "request",
          .summary = "make a key and a certificate request for a CA",
          .help = kRequestUsage,
          .options = KeygenOptions(Output::kRequest),
          .notes = kNotes,
          .run = [](const Invocation& invocation) {
            return RunKeygen(invocation, Output::kRequest);
          }};
}

Command SelfsignCommand() {
  return {.name = "selfsign",
          .summary = "make a key and a self-signed certificate",
          .help = kSelfsignUsage,
          .options = KeygenOptions(Output::kSelfSigned),
          .notes = kNotes,
          .run = [](const Invocation& invocation) {
            return RunKeygen(invocation, Output::kSelfSigned);
          }};
}

}  // namespace dtrust::cli
