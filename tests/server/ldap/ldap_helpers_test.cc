// The pure helpers of the LDAP adapter: DN/filter escaping, error mapping,
// GeneralizedTime, and the reading of pin and Domain Security entries.
#include <ldap.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/certificate.h"
#include "server/ldap/ldap_dn.h"
#include "server/ldap/ldap_records.h"
#include "server/ldap/ldap_status.h"
#include "tests/testing/test_certs.h"

namespace dtrust {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(MakeRdnTest, EscapesEverySpecialCharacter) {
  EXPECT_EQ(*MakeRdn("cn", "mx1.example.org"), "cn=mx1.example.org");
  EXPECT_EQ(*MakeRdn("cn", "a,b=c+d\"e\\f;g<h>i"),
            R"(cn=a\2Cb\3Dc\2Bd\22e\5Cf\3Bg\3Ch\3Ei)");
  EXPECT_EQ(*MakeRdn("cn", "#x "), R"(cn=\23x\20)");
  EXPECT_EQ(*MakeRdn("cn", " x"), R"(cn=\20x)");
  EXPECT_EQ(*MakeRdn("cn", std::string("a\0b", 3)), R"(cn=a\00b)");
  EXPECT_EQ(*MakeRdn("cn", "caf\xc3\xa9"), R"(cn=caf\C3\A9)");
  EXPECT_TRUE(absl::IsInvalidArgument(MakeRdn("cn", "\xff").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(MakeRdn("cn", "").status()));
}

TEST(MakeRdnTest, RoundTripsThroughSplitFirstRdn) {
  for (const std::string value :
       {"plain", "a,b=c+d\"e\\f*(g)", "#lead; <trail> ", " x", "caf\xc3\xa9"}) {
    absl::StatusOr<std::string> rdn = MakeRdn("cn", value);
    ASSERT_TRUE(rdn.ok()) << rdn.status();
    absl::StatusOr<SplitDn> split = SplitFirstRdn(*rdn + ",ou=servers,o=x");
    ASSERT_TRUE(split.ok()) << split.status();
    EXPECT_EQ(split->attribute, "cn");
    EXPECT_EQ(split->value, value);
    EXPECT_EQ(split->parent, "ou=servers,o=x");
  }
}

TEST(EscapeFilterValueTest, EscapesMetacharacters) {
  EXPECT_EQ(*EscapeFilterValue("org-b.example"), "org-b.example");
  EXPECT_EQ(*EscapeFilterValue("*)(cn=*\\"), R"(\2A\29\28cn=\2A\5C)");
  EXPECT_EQ(*EscapeFilterValue(std::string("\0", 1)), R"(\00)");
}

TEST(SplitFirstRdnTest, RejectsMultiValuedAndInvalidDns) {
  EXPECT_TRUE(absl::IsInvalidArgument(SplitFirstRdn("cn=a+sn=b,o=x").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(SplitFirstRdn("not a dn").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(SplitFirstRdn("").status()));
  EXPECT_EQ(SplitFirstRdn("o=x")->parent, "");
}

TEST(CanonicalDnTest, NormalizesEscapingAndSpacing) {
  EXPECT_EQ(*CanonicalDn("cn=a\\,b, ou=servers,  o=x"),
            *CanonicalDn("cn=a\\2Cb,ou=servers,o=x"));
}

TEST(LdapErrorTest, MapsCodesPerDirectoryContract) {
  const struct {
    int code;
    absl::StatusCode expected;
  } cases[] = {
      {LDAP_SERVER_DOWN, absl::StatusCode::kUnavailable},
      {LDAP_CONNECT_ERROR, absl::StatusCode::kUnavailable},
      {LDAP_TIMEOUT, absl::StatusCode::kUnavailable},
      {LDAP_TIMELIMIT_EXCEEDED, absl::StatusCode::kUnavailable},
      {LDAP_BUSY, absl::StatusCode::kUnavailable},
      {LDAP_UNAVAILABLE, absl::StatusCode::kUnavailable},
      {LDAP_UNWILLING_TO_PERFORM, absl::StatusCode::kUnavailable},
      {LDAP_INVALID_CREDENTIALS, absl::StatusCode::kUnavailable},
      {LDAP_STRONG_AUTH_REQUIRED, absl::StatusCode::kUnavailable},
      {LDAP_NO_SUCH_OBJECT, absl::StatusCode::kNotFound},
      {LDAP_ALREADY_EXISTS, absl::StatusCode::kAlreadyExists},
      {LDAP_TYPE_OR_VALUE_EXISTS, absl::StatusCode::kAlreadyExists},
      {LDAP_NOT_ALLOWED_ON_NONLEAF, absl::StatusCode::kFailedPrecondition},
      {LDAP_INSUFFICIENT_ACCESS, absl::StatusCode::kPermissionDenied},
      {LDAP_OBJECT_CLASS_VIOLATION, absl::StatusCode::kInternal},
      {LDAP_INVALID_SYNTAX, absl::StatusCode::kInternal},
  };
  for (const auto& c : cases) {
    const absl::Status status = LdapError(c.code, "", "add", "cn=x");
    EXPECT_EQ(status.code(), c.expected) << c.code << ": " << status;
  }
  EXPECT_EQ(LdapError(LDAP_UNWILLING_TO_PERFORM,
                      "objectClass modification not allowed", "modify", "cn=x")
                .code(),
            absl::StatusCode::kInternal);
}

TEST(LdapErrorTest, MessageNamesOperationDnCodeAndDiagnostic) {
  const absl::Status status =
      LdapError(LDAP_OBJECT_CLASS_VIOLATION, "missing attribute cn", "add",
                "cn=mx1,ou=servers,o=x");
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("add"), HasSubstr("cn=mx1,ou=servers,o=x"),
                    HasSubstr(ldap_err2string(LDAP_OBJECT_CLASS_VIOLATION)),
                    HasSubstr("(65)"), HasSubstr("missing attribute cn")));
}

TEST(IsConnectionLostTest, OnlyForDeadConnections) {
  EXPECT_TRUE(IsConnectionLost(LDAP_SERVER_DOWN));
  EXPECT_TRUE(IsConnectionLost(LDAP_CONNECT_ERROR));
  EXPECT_TRUE(IsConnectionLost(LDAP_TIMEOUT));
  EXPECT_FALSE(IsConnectionLost(LDAP_BUSY));
  EXPECT_FALSE(IsConnectionLost(LDAP_NO_SUCH_OBJECT));
}

constexpr char kDomainsDn[] = "ou=domains,o=x";

LdapEntry DomainEntry(
    const std::string& dn,
    std::map<std::string, std::vector<std::string>> attributes) {
  return LdapEntry{.dn = dn, .attributes = std::move(attributes)};
}

TEST(ParseDomainEntryTest, ReadsModesAndName) {
  const std::string key = *DnKey(kDomainsDn);
  std::optional<DomainPolicy> policy =
      ParseDomainEntry(DomainEntry("cn=Org-B.Example,OU=Domains,o=x",
                                   {{"dtrustsendsecurity", {"ENFORCE"}},
                                    {"dtrustreceivesecurity", {"testing"}}}),
                       key);
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->domain, "org-b.example");
  EXPECT_EQ(policy->send, SecureMode::kEnforce);
  EXPECT_EQ(policy->receive, SecureMode::kTesting);

  policy =
      ParseDomainEntry(DomainEntry("cn=a.example,ou=domains,o=x",
                                   {{"dtrustreceivesecurity", {"enforce"}}}),
                       key);
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->send, SecureMode::kOff);
  EXPECT_EQ(policy->receive, SecureMode::kEnforce);
}

TEST(ParseDomainEntryTest, UnknownValuesAreEnforceAndLogged) {
  const std::string key = *DnKey(kDomainsDn);
  for (const std::vector<std::string>& values :
       std::vector<std::vector<std::string>>{{"off"},
                                             {"bogus"},
                                             {""},
                                             {"testing", "enforce"},
                                             {"testing", "testing"}}) {
    ::testing::internal::CaptureStderr();
    std::optional<DomainPolicy> policy =
        ParseDomainEntry(DomainEntry("cn=a.example,ou=domains,o=x",
                                     {{"dtrustsendsecurity", values},
                                      {"dtrustreceivesecurity", {"testing"}}}),
                         key);
    const std::string log = ::testing::internal::GetCapturedStderr();
    ASSERT_TRUE(policy.has_value());
    EXPECT_EQ(policy->send, SecureMode::kEnforce) << values[0];
    EXPECT_EQ(policy->receive, SecureMode::kTesting);
    EXPECT_THAT(log, AllOf(HasSubstr("WARNING"),
                           HasSubstr("cn=a.example,ou=domains,o=x"),
                           HasSubstr("dtrustSendSecurity"),
                           HasSubstr(values[0]), HasSubstr("enforce")));
  }
}

TEST(ParseDomainEntryTest, SkipsEntriesOnNoListOrMisplaced) {
  const std::string key = *DnKey(kDomainsDn);
  const std::map<std::string, std::vector<std::string>> enforce = {
      {"dtrustsendsecurity", {"enforce"}}};
  EXPECT_FALSE(
      ParseDomainEntry(DomainEntry("cn=a.example,ou=domains,o=x", {}), key)
          .has_value());
  for (const char* dn :
       {"ou=a.example,ou=domains,o=x", "cn=a.example,ou=servers,o=x",
        "cn=a.example,cn=b.example,ou=domains,o=x", "cn=a+sn=b,ou=domains,o=x",
        "not a dn"}) {
    EXPECT_FALSE(ParseDomainEntry(DomainEntry(dn, enforce), key).has_value())
        << dn;
  }
}

TEST(DomainPolicyAttributesTest, OneValuePerDirectionThatIsOn) {
  std::vector<LdapAttribute> attributes = DomainPolicyAttributes(
      {.domain = "a.example", .send = SecureMode::kTesting});
  ASSERT_EQ(attributes.size(), 2u);
  EXPECT_EQ(attributes[0].type, "dtrustSendSecurity");
  EXPECT_THAT(attributes[0].values, ElementsAre("testing"));
  EXPECT_EQ(attributes[1].type, "dtrustReceiveSecurity");
  EXPECT_THAT(attributes[1].values, IsEmpty());
  attributes = DomainPolicyAttributes({.domain = "a.example",
                                       .send = SecureMode::kOff,
                                       .receive = SecureMode::kEnforce});
  EXPECT_THAT(attributes[0].values, IsEmpty());
  EXPECT_THAT(attributes[1].values, ElementsAre("enforce"));
}

TEST(GeneralizedTimeTest, WritesUtcWithFractionOnlyWhenThere) {
  const absl::Time t = absl::FromUnixSeconds(1800000000);  // 2027-01-15 08:00
  EXPECT_EQ(ToGeneralizedTime(t), "20270115080000Z");
  EXPECT_EQ(ToGeneralizedTime(t + absl::Milliseconds(250)),
            "20270115080000.25Z");
  EXPECT_EQ(ParseGeneralizedTime(ToGeneralizedTime(t + absl::Nanoseconds(7))),
            t + absl::Nanoseconds(7));
}

TEST(GeneralizedTimeTest, ReadsEveryFormRfc4517Allows) {
  const absl::Time t = absl::FromUnixSeconds(1800000000);
  for (const auto& [text, expected] :
       std::vector<std::pair<std::string, absl::Time>>{
           {"20270115080000Z", t},
           {"202701150800Z", t},
           {"2027011508Z", t},
           {"20270115090000+0100", t},
           {"2027011509+01", t},
           {"20270115073000-0030", t},
           {"20270115080000.5Z", t + absl::Milliseconds(500)},
           {"20270115080000,25Z", t + absl::Milliseconds(250)},
           {"202701150800.5Z", t + absl::Seconds(30)},
           {"2027011508.5Z", t + absl::Minutes(30)},
           {"20270115075960Z", t},  // A leap second.
       }) {
    EXPECT_EQ(ParseGeneralizedTime(text), expected) << text;
  }
}

TEST(GeneralizedTimeTest, RejectsMalformedAndImpossibleTimes) {
  for (const char* text :
       {"", "2027", "20270115080000", "20270115080000z", "2027011508000Z",
        "20271315080000Z", "20270230080000Z", "20270115240000Z",
        "20270115086000Z", "20270115080061Z", "20270115080000.Z",
        "20270115080000+2400", "20270115080000+01000", "x0270115080000Z",
        "20270115080000Z ", "2027-01-15T08:00:00Z", "+2027115080000Z"}) {
    EXPECT_EQ(ParseGeneralizedTime(text), std::nullopt) << text;
  }
}

// A pin entry as LdapDirectory writes it, for `cert`.
LdapEntry PinEntry(const testing::TestCert& cert,
                   std::map<std::string, std::vector<std::string>> window) {
  const Certificate parsed = *Certificate::FromDer(cert.der);
  std::map<std::string, std::vector<std::string>> attributes = {
      {"dtrustcertsha256", {parsed.sha256().ToHex()}},
      {"dtrustspkisha256", {parsed.spki_sha256().ToHex()}},
      {"dtrustpinkind", {"certificate"}},
      {"usercertificate;binary", {cert.der}}};
  attributes.merge(window);
  return LdapEntry{.dn = "dtrustCertSha256=" + parsed.sha256().ToHex() +
                         ",cn=mx1.org-b.example,ou=servers,o=x",
                   .attributes = std::move(attributes)};
}

TEST(ParsePinEntryTest, ReadsThePinWindow) {
  const testing::TestCert cert = testing::MakeTestCert();
  absl::StatusOr<PinRecord> pin = ParsePinEntry(PinEntry(cert, {}));
  ASSERT_TRUE(pin.ok()) << pin.status();
  EXPECT_EQ(pin->window, PinWindow{});
  pin = ParsePinEntry(
      PinEntry(cert, {{"dtrustpinnotafter", {"20270115080000Z"}}}));
  ASSERT_TRUE(pin.ok()) << pin.status();
  EXPECT_EQ(pin->window,
            (PinWindow{.not_after = absl::FromUnixSeconds(1800000000)}));
}

TEST(ParsePinEntryTest, MalformedWindowSkipsThePinWithAWarning) {
  const testing::TestCert cert = testing::MakeTestCert();
  const std::string hex = Certificate::FromDer(cert.der)->sha256().ToHex();
  for (const auto& [attribute, values] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"dtrustpinnotbefore", {"2027-01-15"}},
           {"dtrustpinnotafter", {"20271315080000Z"}},
           {"dtrustpinnotafter", {"20270115080000Z", "20280115080000Z"}}}) {
    const absl::StatusOr<PinRecord> parsed =
        ParsePinEntry(PinEntry(cert, {{attribute, values}}));
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
    ::testing::internal::CaptureStderr();
    const std::optional<PinRecord> pin =
        UsablePinEntry(PinEntry(cert, {{attribute, values}}));
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(pin.has_value()) << values[0];
    EXPECT_THAT(log, HasSubstr(parsed.status().message()));
    EXPECT_THAT(log, AllOf(HasSubstr("WARNING"), HasSubstr(hex),
                           HasSubstr("cn=mx1.org-b.example,ou=servers,o=x"),
                           HasSubstr(values.size() == 1 ? values[0] : "2 "),
                           HasSubstr(attribute == "dtrustpinnotbefore"
                                         ? "dtrustPinNotBefore"
                                         : "dtrustPinNotAfter")));
  }
}

}  // namespace
}  // namespace dtrust
