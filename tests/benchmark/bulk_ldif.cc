// Writes an LDIF of N published certificates in dtrustd's directory layout
// (server/ldap/ldap_directory.h), for `slapadd -q` into a stopped slapd, and
// the list of their digests for grpc_bench --digests.
//
//   bulk_ldif --certs N --base-dn DN --out FILE.ldif --digests FILE
//             [--certs-per-server 4] [--servers-per-domain 2]
//
// Certificate c belongs to server s = c / certs-per-server, named
// mx<s % servers-per-domain + 1>.org-<s / servers-per-domain>.example and
// serving that mail domain. Each certificate is real and distinct: an X.509
// v3 certificate (no extensions) with its own ECDSA P-256 key, self-signed,
// serial c + 1, subject O = dtrust bulk, serialNumber = c, CN = the server;
// valid from an hour ago for ten years.
// The LDIF holds ou=servers and ou=domains (empty) below the base DN and
// everything under them, parents first; not the base entry itself. Pins are
// certificate pins, provenance asserted, with both digests as dtrustd
// computes them. The digest list has one "<sha256 hex> <mail domain>" line
// per certificate.
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/base/openssl_types.h"
#include "server/core/certificate.h"
#include "tests/benchmark/bench_flags.h"

namespace dtrust::bench {
namespace {

using FilePtr = std::unique_ptr<FILE, Deleter<fclose>>;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bulk_ldif: %s\n", message.c_str());
  std::exit(1);
}

void Check(bool ok, const char* what) {
  if (!ok) Die(absl::StrCat("OpenSSL failed: ", what));
}

struct Options {
  int64_t certs = 0;
  int64_t certs_per_server = 4;
  int64_t servers_per_domain = 2;
  std::string base_dn;
  std::string out;
  std::string digests;
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  CLI::App app(
      "Writes an LDIF of N published certificates in dtrustd's directory\n"
      "layout, for slapadd -q, and their digests for grpc_bench --digests.",
      "bulk_ldif");
  AddPositiveOption(app, "--certs", options.certs, "N", "how many certificates")
      ->required();
  app.add_option("--base-dn", options.base_dn, "the directory's base DN")
      ->type_name("DN")
      ->required();
  app.add_option("--out", options.out, "the LDIF to write")
      ->type_name("FILE.ldif")
      ->required();
  app.add_option("--digests", options.digests,
                 "the digest list to write, \"<sha256 hex> <domain>\"")
      ->type_name("FILE")
      ->required();
  AddPositiveOption(app, "--certs-per-server", options.certs_per_server, "N",
                    "(default 4)");
  AddPositiveOption(app, "--servers-per-domain", options.servers_per_domain,
                    "N", "(default 2)");
  ParseFlagsOrExit(app, argc, argv);
  return options;
}

FilePtr OpenForWriting(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "w"));
  if (file == nullptr) Die(absl::StrCat("cannot create ", path));
  return file;
}

void Write(FILE* file, absl::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file) != text.size()) {
    Die("write failed (disk full?)");
  }
}

// DER encoding, just enough for the certificates below.
std::string Der(uint8_t tag, absl::string_view content) {
  std::string out(1, static_cast<char>(tag));
  const size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else if (n < 0x100) {
    out.push_back('\x81');
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back('\x82');
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  }
  absl::StrAppend(&out, content);
  return out;
}

std::string DerInteger(uint64_t value) {
  std::string bytes;
  do {
    bytes.insert(bytes.begin(), static_cast<char>(value & 0xff));
    value >>= 8;
  } while (value != 0);
  if (static_cast<uint8_t>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
  return Der(0x02, bytes);
}

// One RDN of a Name: SET { SEQUENCE { OID 2.5.4.<attribute>, value } }.
std::string DerRdn(uint8_t attribute, uint8_t string_tag,
                   absl::string_view value) {
  const char oid[] = {0x55, 0x04, static_cast<char>(attribute)};
  return Der(0x31, Der(0x30, absl::StrCat(Der(0x06, absl::string_view(oid, 3)),
                                          Der(string_tag, value))));
}

std::string DerUtcTime(absl::Time time) {
  return Der(0x17,
             absl::FormatTime("%y%m%d%H%M%SZ", time, absl::UTCTimeZone()));
}

// AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters.
constexpr absl::string_view kEcdsaSha256{
    "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 12};
// SubjectPublicKeyInfo of a P-256 key up to its uncompressed point:
// id-ecPublicKey, prime256v1, BIT STRING of 66 bytes (no unused bits).
constexpr absl::string_view kP256SpkiPrefix{
    "\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48"
    "\xce\x3d\x03\x01\x07\x03\x42\x00",
    26};

// Makes certificates quickly. OpenSSL 3.0 encodes and decodes public keys
// through its provider framework at a few hundred microseconds a time, so
// the certificate is assembled here as DER and only the key generation and
// the signature are OpenSSL's: about 50 µs a certificate instead of 700.
class CertFactory {
 public:
  CertFactory()
      : keygen_(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr)),
        validity_(Der(
            0x30,
            absl::StrCat(DerUtcTime(absl::Now() - absl::Hours(1)),
                         DerUtcTime(absl::Now() + absl::Hours(24 * 3650))))) {
    Check(keygen_ != nullptr && EVP_PKEY_keygen_init(keygen_.get()) == 1 &&
              EVP_PKEY_CTX_set_ec_paramgen_curve_nid(keygen_.get(),
                                                     NID_X9_62_prime256v1) == 1,
          "P-256 key generation context");
  }

  struct Made {
    std::string der{};   // The certificate.
    std::string spki{};  // Its SubjectPublicKeyInfo.
  };

  // Certificate number `index` for `server`.
  Made Make(int64_t index, const std::string& server) {
    EVP_PKEY* raw_key = nullptr;
    Check(EVP_PKEY_keygen(keygen_.get(), &raw_key) == 1, "EVP_PKEY_keygen");
    EvpPkeyPtr key(raw_key);
    unsigned char point[65];
    size_t point_size = 0;
    Check(EVP_PKEY_get_octet_string_param(
              key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
              sizeof(point), &point_size) == 1 &&
              point_size == sizeof(point) && point[0] == 0x04,
          "P-256 public key as an uncompressed point");
    const std::string name =
        Der(0x30, absl::StrCat(DerRdn(10, 0x0c, "dtrust bulk"),
                               DerRdn(5, 0x13, absl::StrCat(index)),
                               DerRdn(3, 0x0c, server)));
    Made made;
    made.spki = absl::StrCat(
        kP256SpkiPrefix,
        absl::string_view(reinterpret_cast<const char*>(point), sizeof(point)));
    const std::string tbs =
        Der(0x30, absl::StrCat("\xa0\x03\x02\x01\x02",  // [0] version v3
                               DerInteger(static_cast<uint64_t>(index) + 1),
                               kEcdsaSha256, name, validity_, name, made.spki));
    EvpMdCtxPtr md(EVP_MD_CTX_new());
    unsigned char signature[80];  // An ECDSA P-256 signature: <= 72 bytes.
    size_t signature_size = sizeof(signature);
    Check(md != nullptr &&
              EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr,
                                 key.get()) == 1 &&
              EVP_DigestSign(md.get(), signature, &signature_size,
                             reinterpret_cast<const unsigned char*>(tbs.data()),
                             tbs.size()) == 1,
          "ECDSA signature");
    made.der = Der(
        0x30,
        absl::StrCat(
            tbs, kEcdsaSha256,
            Der(0x03, absl::StrCat(absl::string_view("\0", 1),
                                   absl::string_view(
                                       reinterpret_cast<const char*>(signature),
                                       signature_size)))));
    return made;
  }

 private:
  EvpPkeyCtxPtr keygen_;
  const std::string validity_;
};

void Run(const Options& options) {
  FilePtr ldif = OpenForWriting(options.out);
  FilePtr digests = OpenForWriting(options.digests);
  const std::string servers_dn = absl::StrCat("ou=servers,", options.base_dn);
  Write(ldif.get(),
        absl::StrCat("dn: ", servers_dn,
                     "\nobjectClass: organizationalUnit\nou: servers\n\n"
                     "dn: ou=domains,",
                     options.base_dn,
                     "\nobjectClass: organizationalUnit\nou: domains\n\n"));
  CertFactory factory;
  const absl::Time start = absl::Now();
  std::string server_dn;
  std::string entry;
  for (int64_t c = 0; c < options.certs; ++c) {
    const int64_t s = c / options.certs_per_server;
    const std::string domain =
        absl::StrCat("org-", s / options.servers_per_domain, ".example");
    const std::string server =
        absl::StrCat("mx", s % options.servers_per_domain + 1, ".", domain);
    entry.clear();
    if (c % options.certs_per_server == 0) {
      server_dn = absl::StrCat("cn=", server, ",", servers_dn);
      absl::StrAppend(&entry, "dn: ", server_dn,
                      "\nobjectClass: dtrustTransportServer\ncn: ", server,
                      "\ndtrustMailDomain: ", domain, "\n\n");
    }
    const CertFactory::Made cert = factory.Make(c, server);
    // dtrustd's own parser checks the hand-made DER on the first certificate
    // and then now and again; the digests are always computed as dtrustd
    // does, from the DER and from the SubjectPublicKeyInfo.
    if (c % 65536 == 0) {
      absl::StatusOr<Certificate> parsed = Certificate::FromDer(cert.der);
      if (!parsed.ok()) Die(std::string(parsed.status().message()));
      if (parsed->spki_sha256() != Sha256Digest::Of(cert.spki)) {
        Die("the SubjectPublicKeyInfo made disagrees with dtrust's parser");
      }
    }
    const std::string sha256 = Sha256Digest::Of(cert.der).ToHex();
    absl::StrAppend(&entry, "dn: dtrustCertSha256=", sha256, ",", server_dn,
                    "\nobjectClass: dtrustPinnedCertificate\n"
                    "dtrustCertSha256: ",
                    sha256,
                    "\ndtrustSpkiSha256: ", Sha256Digest::Of(cert.spki).ToHex(),
                    "\ndtrustPinKind: certificate\n"
                    "dtrustPinProvenance: asserted\n"
                    "userCertificate;binary:: ",
                    absl::Base64Escape(cert.der), "\n\n");
    Write(ldif.get(), entry);
    Write(digests.get(), absl::StrCat(sha256, " ", domain, "\n"));
    if ((c + 1) % 100000 == 0) {
      std::fprintf(stderr, "bulk_ldif: %lld certificates, %.0f s\n",
                   static_cast<long long>(c + 1),
                   absl::ToDoubleSeconds(absl::Now() - start));
    }
  }
  if (std::fflush(ldif.get()) != 0 || std::fflush(digests.get()) != 0) {
    Die("write failed (disk full?)");
  }
}

}  // namespace
}  // namespace dtrust::bench

int main(int argc, char** argv) {
  dtrust::bench::Run(dtrust::bench::ParseOptions(argc, argv));
  return 0;
}
