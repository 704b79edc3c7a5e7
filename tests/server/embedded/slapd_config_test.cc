#include "server/embedded/slapd_config.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/embedded/schema.h"

namespace dtrust {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ParseBaseEntryTest, OrganizationRdn) {
  absl::StatusOr<BaseEntry> base = ParseBaseEntry("o=dtrust");
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(base->dn, "o=dtrust");
  EXPECT_EQ(base->rdn_type, "o");
  EXPECT_EQ(base->rdn_value, "dtrust");
  EXPECT_THAT(base->object_classes, ElementsAre("organization"));
}

TEST(ParseBaseEntryTest, OrganizationalUnitRdnIsNormalized) {
  absl::StatusOr<BaseEntry> base = ParseBaseEntry("OU=Mail Trust, o=Example");
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(base->dn, "OU=Mail Trust,o=Example");
  EXPECT_EQ(base->rdn_type, "ou");
  EXPECT_EQ(base->rdn_value, "Mail Trust");
  EXPECT_THAT(base->object_classes, ElementsAre("organizationalUnit"));
}

TEST(ParseBaseEntryTest, DomainComponentRdn) {
  absl::StatusOr<BaseEntry> base = ParseBaseEntry("dc=example,dc=org");
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(base->rdn_value, "example");
  EXPECT_THAT(base->object_classes, ElementsAre("domain", "dcObject"));
}

TEST(ParseBaseEntryTest, EscapedValueIsUnescaped) {
  absl::StatusOr<BaseEntry> base = ParseBaseEntry("o=a\\,b");
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(base->rdn_value, "a,b");
}

TEST(ParseBaseEntryTest, RejectsWhatCannotBeABaseEntry) {
  for (const char* dn : {"", "cn=dtrust", "o=a+ou=b", "not a dn",
                         "o=#0403616263", "uid=x,o=dtrust"}) {
    absl::StatusOr<BaseEntry> base = ParseBaseEntry(dn);
    EXPECT_EQ(base.status().code(), absl::StatusCode::kInvalidArgument) << dn;
  }
  EXPECT_THAT(ParseBaseEntry("cn=dtrust").status().message(),
              HasSubstr("use o=, ou= or dc="));
}

TEST(SameDnTest, IgnoresCaseAndSpacing) {
  EXPECT_TRUE(SameDn("o=dtrust", "O=DTrust"));
  EXPECT_TRUE(SameDn("dc=example, dc=org", "dc=example,dc=org"));
  EXPECT_TRUE(SameDn("o=a\\,b", "o=a\\2Cb"));
  EXPECT_FALSE(SameDn("o=dtrust", "dc=dtrust"));
  EXPECT_FALSE(SameDn("o=dtrust", "o=dtrust,dc=org"));
  EXPECT_FALSE(SameDn("not a dn", "not a dn"));
}

TEST(BaseEntryLdifTest, Base64EncodesDnAndValue) {
  absl::StatusOr<BaseEntry> base = ParseBaseEntry("dc=example,dc=org");
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ(BaseEntryLdif(*base),
            absl::StrCat("dn:: ", absl::Base64Escape("dc=example,dc=org"),
                         "\nobjectClass: domain\nobjectClass: dcObject\n",
                         "dc:: ", absl::Base64Escape("example"), "\n"));
  EXPECT_EQ(ServiceDn(*base), "cn=dtrustd,dc=example,dc=org");
}

TEST(LdapiUriTest, PercentEncodesThePath) {
  absl::StatusOr<std::string> uri = LdapiUri("/var/lib/dtrust data/ldapi");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(*uri, "ldapi://%2Fvar%2Flib%2Fdtrust%20data%2Fldapi");
}

TEST(LdapiUriTest, RejectsRelativeAndTooLongPaths) {
  EXPECT_EQ(LdapiUri("data/ldapi").status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string longest(107, 'a');
  EXPECT_TRUE(LdapiUri("/" + longest.substr(1)).ok());
  absl::Status too_long = LdapiUri("/" + longest).status();
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_long.message(), HasSubstr("shorter than 108"));
}

SlapdConfigParams Params(const std::string& base_dn) {
  SlapdConfigParams params;
  params.schema_dir = "/etc/ldap/schema";
  params.dtrust_schema_file = "/data dir/dtrust.schema";
  params.module_path = "/usr/lib/ldap";
  params.db_dir = "/data dir/db";
  params.base = *ParseBaseEntry(base_dn);
  params.service_uid = 1234;
  return params;
}

TEST(RenderSlapdConfigTest, MapsServiceUidAndLocksOutEveryoneElse) {
  absl::StatusOr<std::string> conf = RenderSlapdConfig(Params("o=dtrust"));
  ASSERT_TRUE(conf.ok()) << conf.status();
  // The regexp's "\+" reaches slapd as "\\+" (its tokenizer drops one "\").
  EXPECT_THAT(*conf,
              HasSubstr("authz-regexp \"^gidNumber=[0-9]+\\\\+uidNumber=1234,"
                        "cn=peercred,cn=external,cn=auth$\" "
                        "\"cn=dtrustd,o=dtrust\"\n"));
  EXPECT_THAT(*conf, HasSubstr("suffix \"o=dtrust\"\n"));
  EXPECT_THAT(*conf, HasSubstr("directory \"/data dir/db\"\n"));
  EXPECT_THAT(*conf, HasSubstr("include \"/data dir/dtrust.schema\"\n"));
  EXPECT_THAT(*conf, HasSubstr("index objectClass,cn eq\n"));
  EXPECT_THAT(
      *conf,
      HasSubstr("index dtrustCertSha256,dtrustSpkiSha256,dtrustMailDomain eq"));
  // deploy/ldap/acl.conf's rules, in order, without a reader group.
  EXPECT_THAT(*conf,
              HasSubstr("access to dn.base=\"o=dtrust\" attrs=children "
                        "by dn.exact=\"cn=dtrustd,o=dtrust\" write by * none\n"
                        "access to dn.base=\"o=dtrust\" "
                        "by dn.exact=\"cn=dtrustd,o=dtrust\" read by * none\n"
                        "access to dn.subtree=\"o=dtrust\" "
                        "by dn.exact=\"cn=dtrustd,o=dtrust\" write by * none\n"
                        "access to * by * none\n"));
  EXPECT_THAT(*conf, Not(HasSubstr("manage")));
  EXPECT_THAT(*conf, HasSubstr("limits dn.exact=\"cn=dtrustd,o=dtrust\" "
                               "size=unlimited time=unlimited\n"));
  EXPECT_THAT(*conf, Not(HasSubstr("rootdn")));
}

TEST(RenderSlapdConfigTest, IsAContentSyncProvider) {
  absl::StatusOr<std::string> conf = RenderSlapdConfig(Params("o=dtrust"));
  ASSERT_TRUE(conf.ok()) << conf.status();
  EXPECT_THAT(*conf, HasSubstr("moduleload back_mdb\nmoduleload syncprov\n"));
  EXPECT_THAT(*conf, HasSubstr("index entryUUID,entryCSN eq\n"));
  // The overlay belongs to the mdb database: after its "database" line.
  const size_t database = conf->find("\ndatabase mdb\n");
  const size_t overlay = conf->find(
      "\noverlay syncprov\nsyncprov-checkpoint 100 5\n"
      "syncprov-sessionlog 10000\n");
  ASSERT_NE(database, std::string::npos);
  ASSERT_NE(overlay, std::string::npos);
  EXPECT_LT(database, overlay);
}

TEST(RenderSlapdConfigTest, QuotesSpecialCharacters) {
  SlapdConfigParams params = Params("o=say \\\"hi\\\"$1");
  params.db_dir = "/data \"dir\"\\x";
  absl::StatusOr<std::string> conf = RenderSlapdConfig(params);
  ASSERT_TRUE(conf.ok()) << conf.status();
  // slapd's tokenizer drops a "\" and keeps the character after it.
  EXPECT_THAT(*conf, HasSubstr("directory \"/data \\\"dir\\\"\\\\x\"\n"));
  // The DN string is o=say \22hi\22$1.
  EXPECT_THAT(*conf, HasSubstr("suffix \"o=say \\\\22hi\\\\22$1\"\n"));
  // '$' would start a back-reference in the authz-regexp replacement.
  EXPECT_THAT(*conf, HasSubstr("\"cn=dtrustd,o=say \\\\22hi\\\\22\\\\241\"\n"));
}

TEST(RenderSlapdConfigTest, RejectsLineBreaksInPaths) {
  SlapdConfigParams params = Params("o=dtrust");
  params.db_dir = "/data\ninclude /etc/evil";
  EXPECT_EQ(RenderSlapdConfig(params).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DtrustSchemaTest, EmbedsTheDeployedSchema) {
  std::ifstream file(DTRUST_SOURCE_DIR "/deploy/ldap/dtrust.schema",
                     std::ios::binary);
  ASSERT_TRUE(file.good());
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(DtrustSchema(), content.str());
}

}  // namespace
}  // namespace dtrust
