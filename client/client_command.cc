// dtrust client: manage who may do what (client grants).
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/command.h"
#include "client/format.h"
#include "client/input.h"
#include "server/base/hex.h"
#include "server/base/json_writer.h"
#include "server/base/status_macros.h"
#include "server/core/digest.h"

namespace dtrust::cli {
namespace {

constexpr absl::string_view kCommand = "client";

constexpr absl::string_view kHelp =
    R"(usage: dtrust client grant --role reader|publisher|admin [--scope DNS-SUFFIX]...
                           SUBJECT [--label TEXT]
       dtrust client revoke SUBJECT
       dtrust client list
where SUBJECT is CERT-FILE | --sha256 HEX | --unix-user NAME | --unix-group NAME

Manages who may do what through dtrustd (admin only). Grants live in the
directory, so every dtrustd sharing it enforces the same ones; a change
applies within about a second everywhere.

Roles:
  reader     Verify, Ping, GetStatus, health
  publisher  also list, publish, unpublish, domain list; with --scope
             (repeatable) only for servers named in or below a scope, and
             only mail domains in or below one
  admin      everything, including Domain Security lists and grants
A TLS client is its certificate (CERT-FILE, or --sha256 of its DER); a
local user or group connects over the unix socket.

Local root and dtrustd's own user are always admin over the unix socket,
as are dtrustd's --admin-client certificates.
)";

absl::StatusOr<v1::ClientSubject> SubjectFromArgs(const ParsedArgs& args,
                                                  absl::string_view sub) {
  const std::vector<std::string>& positionals = args.positionals();
  const int given = !positionals.empty() + args.Has("sha256") +
                    args.Has("unix-user") + args.Has("unix-group");
  if (given != 1 || positionals.size() > 1) {
    return UsageError(
        kCommand,
        absl::StrCat("client ", sub,
                     " needs exactly one of CERT-FILE, --sha256, --unix-user, "
                     "--unix-group"));
  }
  v1::ClientSubject subject;
  if (positionals.size() == 1) {
    DTRUST_ASSIGN_OR_RETURN(Certificate certificate,
                            ReadCertificateFile(positionals[0]));
    subject.set_cert_sha256(std::string(certificate.sha256().bytes()));
  } else if (std::optional<std::string> hex = args.Value("sha256")) {
    DTRUST_ASSIGN_OR_RETURN(Sha256Digest digest,
                            Sha256Digest::FromHex(*hex, "--sha256"));
    subject.set_cert_sha256(std::string(digest.bytes()));
  } else if (std::optional<std::string> user = args.Value("unix-user")) {
    subject.set_unix_user(*user);
  } else {
    subject.set_unix_group(*args.Value("unix-group"));
  }
  return subject;
}

std::string SubjectText(const v1::ClientSubject& subject) {
  if (!subject.unix_user().empty()) {
    return absl::StrCat("unix user ", subject.unix_user());
  }
  if (!subject.unix_group().empty()) {
    return absl::StrCat("unix group ", subject.unix_group());
  }
  absl::StatusOr<Sha256Digest> digest =
      Sha256Digest::FromBytes(subject.cert_sha256(), "sha256");
  return absl::StrCat("client certificate sha256 ",
                      digest.ok() ? digest->ToColonHex() : "?");
}

std::string RoleText(v1::Role role) {
  switch (role) {
    case v1::ROLE_READER:
      return "reader";
    case v1::ROLE_PUBLISHER:
      return "publisher";
    case v1::ROLE_ADMIN:
      return "admin";
    default:
      return "none";
  }
}

void AppendGrantText(const v1::ClientGrant& grant, std::string* out) {
  absl::StrAppend(out, SubjectText(grant.subject()),
                  "\n  role:       ", RoleText(grant.role()), "\n");
  if (!grant.scopes().empty()) {
    absl::StrAppend(out, "  scopes:     ", absl::StrJoin(grant.scopes(), ", "),
                    "\n");
  }
  if (!grant.label().empty()) {
    absl::StrAppend(out, "  label:      ", absl::CHexEscape(grant.label()),
                    "\n");
  }
  absl::StrAppend(out, "  granted:    ",
                  grant.has_granted() ? Rfc3339(grant.granted()) : "-", " by ",
                  grant.granted_by().empty() ? "-" : grant.granted_by(), "\n");
}

void WriteGrantJson(const v1::ClientGrant& grant, JsonWriter& json) {
  json.BeginObject();
  const v1::ClientSubject& subject = grant.subject();
  if (!subject.unix_user().empty()) {
    json.Field("unix_user", subject.unix_user());
  } else if (!subject.unix_group().empty()) {
    json.Field("unix_group", subject.unix_group());
  } else {
    absl::StatusOr<Sha256Digest> digest =
        Sha256Digest::FromBytes(subject.cert_sha256(), "sha256");
    json.Field("sha256", digest.ok() ? digest->ToColonHex() : "");
  }
  json.Field("role", RoleText(grant.role()));
  json.Key("scopes");
  json.BeginArray();
  for (const std::string& scope : grant.scopes()) json.String(scope);
  json.EndArray();
  json.Field("label", grant.label());
  json.Field("granted_by", grant.granted_by());
  if (grant.has_granted()) json.Field("granted", Rfc3339(grant.granted()));
  json.EndObject();
}

absl::StatusOr<ExitCode> Print(const Invocation& invocation,
                               const v1::ClientGrant& grant,
                               absl::string_view action) {
  if (invocation.json) {
    JsonWriter json(invocation.out);
    WriteGrantJson(grant, json);
    invocation.out->push_back('\n');
  } else {
    absl::StrAppend(invocation.out, action, " ");
    AppendGrantText(grant, invocation.out);
  }
  return ExitCode::kOk;
}

absl::StatusOr<ExitCode> Grant(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  v1::GrantClientRequest request;
  DTRUST_ASSIGN_OR_RETURN(*request.mutable_subject(),
                          SubjectFromArgs(args, "grant"));
  const std::string role = args.Value("role").value_or("");
  if (role == "reader") {
    request.set_role(v1::ROLE_READER);
  } else if (role == "publisher") {
    request.set_role(v1::ROLE_PUBLISHER);
  } else if (role == "admin") {
    request.set_role(v1::ROLE_ADMIN);
  } else {
    return UsageError(kCommand,
                      "client grant needs --role reader, publisher or admin");
  }
  for (const std::string& scope : args.Values("scope")) {
    request.add_scopes(scope);
  }
  request.set_label(args.Value("label").value_or(""));
  DTRUST_ASSIGN_OR_RETURN(v1::ClientGrant grant,
                          invocation.dtrustd.GrantClient(request));
  return Print(invocation, grant, "granted:");
}

absl::StatusOr<ExitCode> Revoke(const Invocation& invocation) {
  v1::RevokeClientRequest request;
  DTRUST_ASSIGN_OR_RETURN(*request.mutable_subject(),
                          SubjectFromArgs(invocation.args, "revoke"));
  DTRUST_ASSIGN_OR_RETURN(v1::ClientGrant grant,
                          invocation.dtrustd.RevokeClient(request));
  return Print(invocation, grant, "revoked:");
}

absl::StatusOr<ExitCode> List(const Invocation& invocation) {
  if (!invocation.args.positionals().empty()) {
    return UsageError(kCommand, "client list takes no arguments");
  }
  DTRUST_ASSIGN_OR_RETURN(v1::ListClientsResponse response,
                          invocation.dtrustd.ListClients());
  if (invocation.json) {
    JsonWriter json(invocation.out);
    json.BeginObject();
    json.Key("clients");
    json.BeginArray();
    for (const v1::ClientGrant& grant : response.grants()) {
      WriteGrantJson(grant, json);
    }
    json.EndArray();
    json.EndObject();
    invocation.out->push_back('\n');
    return ExitCode::kOk;
  }
  if (response.grants().empty()) {
    invocation.out->append(
        "no grants: only root, dtrustd's user and --admin-client "
        "certificates may write\n");
  }
  for (const v1::ClientGrant& grant : response.grants()) {
    AppendGrantText(grant, invocation.out);
  }
  return ExitCode::kOk;
}

absl::StatusOr<ExitCode> RunClient(const Invocation& invocation) {
  const absl::string_view sub = invocation.subcommand;
  if (sub == "grant") return Grant(invocation);
  if (sub == "revoke") return Revoke(invocation);
  if (sub == "list") return List(invocation);
  const std::vector<std::string>& positionals = invocation.args.positionals();
  return UsageError(
      kCommand, positionals.empty()
                    ? "client needs grant, revoke or list"
                    : absl::StrCat("unknown client command ", positionals[0]));
}

}  // namespace

Command ClientCommand() {
  return {
      .name = kCommand,
      .summary = "manage who may do what (client grants; admin)",
      .help = kHelp,
      .options = {{.name = "role",
                   .value_name = "reader|publisher|admin",
                   .description = "grant: the role (see Roles)"},
                  {.name = "scope",
                   .value_name = "DNS-SUFFIX",
                   .description = "grant: publisher only in or below this "
                                  "name\n(repeatable)",
                   .repeatable = true},
                  {.name = "label",
                   .value_name = "TEXT",
                   .description = "grant: a note kept with the grant"},
                  {.name = "sha256",
                   .value_name = "HEX",
                   .description = "SUBJECT: the TLS client certificate with "
                                  "this\nSHA-256 (of its DER)"},
                  {.name = "unix-user",
                   .value_name = "NAME",
                   .description = "SUBJECT: a local user (unix socket)"},
                  {.name = "unix-group",
                   .value_name = "NAME",
                   .description = "SUBJECT: a local group (unix socket)"}},
      .subcommands =
          {{.name = "grant",
            .summary = "gives SUBJECT a role (replacing its grant, if any)"},
           {.name = "revoke", .summary = "removes SUBJECT's grant"},
           {.name = "list", .summary = "shows every grant"}},
      .run = RunClient};
}

}  // namespace dtrust::cli
