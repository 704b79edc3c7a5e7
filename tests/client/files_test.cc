// Output files written all-or-nothing, with their modes, never overwriting
// without being told to.
#include "client/files.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/files.h"
#include "tests/testing/scratch_dir.h"

namespace dtrust::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_umask_ = umask(0);  // The modes must not depend on the umask.
  }
  void TearDown() override { umask(old_umask_); }

  std::string Path(const std::string& name) const {
    return scratch_.Path(name);
  }
  // Names in the directory, temporary files included.
  std::vector<std::string> Listing() const { return scratch_.Listing(); }
  static std::string Contents(const std::string& path) {
    return testing::ScratchDir::Read(path);
  }
  static mode_t Mode(const std::string& path) {
    return testing::ScratchDir::Mode(path);
  }
  void Write(const std::string& name, const std::string& contents) const {
    scratch_.Write(name, contents);
  }

  testing::ScratchDir scratch_;
  mode_t old_umask_ = 0;
};

TEST_F(FilesTest, CommitCreatesEveryFileWithItsMode) {
  NewFiles files(/*overwrite=*/false);
  ASSERT_TRUE(files.Add(Path("key.pem"), "secret", 0600).ok());
  ASSERT_TRUE(files.Add(Path("cert.pem"), "public", 0644).ok());
  // Nothing is visible under the final names before Commit.
  EXPECT_FALSE(std::filesystem::exists(Path("key.pem")));
  ASSERT_TRUE(files.Commit().ok());
  EXPECT_EQ(Contents(Path("key.pem")), "secret");
  EXPECT_EQ(Mode(Path("key.pem")), 0600u);
  EXPECT_EQ(Contents(Path("cert.pem")), "public");
  EXPECT_EQ(Mode(Path("cert.pem")), 0644u);
  EXPECT_THAT(Listing(), UnorderedElementsAre("key.pem", "cert.pem"));
}

TEST_F(FilesTest, NeverOverwritesWithoutBeingTold) {
  Write("key.pem", "old");
  NewFiles files(/*overwrite=*/false);
  const absl::Status check = files.Check(Path("key.pem"));
  EXPECT_EQ(check.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(check.message(),
            Path("key.pem") + ": already exists; use --force to replace it");
  EXPECT_EQ(files.Add(Path("key.pem"), "new", 0600).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Contents(Path("key.pem")), "old");
  EXPECT_THAT(Listing(), UnorderedElementsAre("key.pem"));
}

TEST_F(FilesTest, OverwritesWhenTold) {
  Write("key.pem", "old");
  ASSERT_EQ(chmod(Path("key.pem").c_str(), 0644), 0);
  NewFiles files(/*overwrite=*/true);
  ASSERT_TRUE(files.Add(Path("key.pem"), "new", 0600).ok());
  ASSERT_TRUE(files.Commit().ok());
  EXPECT_EQ(Contents(Path("key.pem")), "new");
  EXPECT_EQ(Mode(Path("key.pem")), 0600u);
  EXPECT_THAT(Listing(), UnorderedElementsAre("key.pem"));
}

TEST_F(FilesTest, AFileCreatedMeanwhileIsKeptAndTheSetRolledBack) {
  {
    NewFiles files(/*overwrite=*/false);
    ASSERT_TRUE(files.Add(Path("key.pem"), "secret", 0600).ok());
    ASSERT_TRUE(files.Add(Path("req.csr"), "request", 0644).ok());
    Write("req.csr", "someone else's");
    const absl::Status commit = files.Commit();
    EXPECT_EQ(commit.code(), absl::StatusCode::kAlreadyExists);
    EXPECT_THAT(commit.message(), HasSubstr("created meanwhile"));
  }
  EXPECT_EQ(Contents(Path("req.csr")), "someone else's");
  // key.pem, already in place, was removed again; no temporary files stay.
  EXPECT_THAT(Listing(), UnorderedElementsAre("req.csr"));
}

TEST_F(FilesTest, UncommittedFilesLeaveNothingBehind) {
  {
    NewFiles files(/*overwrite=*/false);
    ASSERT_TRUE(files.Add(Path("key.pem"), "secret", 0600).ok());
  }
  EXPECT_THAT(Listing(), UnorderedElementsAre());
}

TEST_F(FilesTest, RejectsDirectoriesMissingDirectoriesAndDuplicates) {
  NewFiles files(/*overwrite=*/true);
  EXPECT_EQ(files.Add(scratch_.dir(), "x", 0644).message(),
            scratch_.dir() + ": is a directory");
  const absl::Status missing = files.Add(Path("no/such/file"), "x", 0644);
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.message(),
              HasSubstr("cannot create a file there: No such file"));
  ASSERT_TRUE(files.Add(Path("a"), "x", 0644).ok());
  EXPECT_EQ(files.Add(Path("a"), "y", 0644).message(),
            Path("a") + ": named for two outputs");
}

TEST_F(FilesTest, ReadSmallFileEnforcesItsLimit) {
  Write("small", "12345");
  absl::StatusOr<std::string> read = ReadSmallFile(Path("small"), 5);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "12345");
  EXPECT_EQ(ReadSmallFile(Path("small"), 4).status().message(),
            Path("small") + ": larger than 4 bytes");
  EXPECT_THAT(ReadSmallFile(Path("none"), 4).status().message(),
              HasSubstr("cannot open: No such file"));
  EXPECT_EQ(ReadSmallFile(scratch_.dir(), 4).status().message(),
            scratch_.dir() + ": is a directory");
}

}  // namespace
}  // namespace dtrust::cli
