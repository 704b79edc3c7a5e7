#include "server/base/openssl_types.h"

#include <openssl/err.h>

#include <string>

#include "gtest/gtest.h"

namespace dtrust {
namespace {

TEST(OpenSslErrorTest, SaysSoWhenTheQueueIsEmpty) {
  ERR_clear_error();
  EXPECT_EQ(OpenSslError(), "unknown OpenSSL error");
}

TEST(OpenSslErrorTest, GivesTheOldestErrorAndClearsTheQueue) {
  ERR_clear_error();
  const std::string garbage = "not a certificate";
  const auto* next = reinterpret_cast<const unsigned char*>(garbage.data());
  X509Ptr x509(d2i_X509(nullptr, &next, static_cast<long>(garbage.size())));
  ASSERT_EQ(x509, nullptr);
  const std::string error = OpenSslError();
  EXPECT_NE(error, "unknown OpenSSL error");
  EXPECT_EQ(error.rfind("error:", 0), 0u) << error;
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(BioContentsTest, ViewsWhatWasWritten) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_NE(bio, nullptr);
  EXPECT_EQ(BioContents(bio.get()), "");
  ASSERT_EQ(BIO_write(bio.get(), "abc\0d", 5), 5);
  EXPECT_EQ(BioContents(bio.get()), absl::string_view("abc\0d", 5));
}

TEST(OpenSslHandlesTest, AreAsSmallAsARawPointer) {
  static_assert(sizeof(X509Ptr) == sizeof(X509*));
  static_assert(sizeof(OpenSslBytes) == sizeof(unsigned char*));
  OpenSslBytes bytes(static_cast<unsigned char*>(OPENSSL_malloc(16)));
  EXPECT_NE(bytes, nullptr);
}

}  // namespace
}  // namespace dtrust
