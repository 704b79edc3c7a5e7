#include "tests/server/postfix/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace dtrust::testing {

absl::StatusOr<std::unique_ptr<TestClient>> TestClient::Connect(
    const ListenAddress& address, absl::Duration timeout,
    const std::string& source_ipv4) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNIX;
  if (address.kind == ListenAddress::Kind::kUnix) {
    auto* un = reinterpret_cast<sockaddr_un*>(&storage);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, address.path.data(), address.path.size());
    length = sizeof(*un);
  } else if (auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
             inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    family = v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    length = sizeof(*v4);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr);
    family = v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    length = sizeof(*v6);
  }
  const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  std::unique_ptr<TestClient> client(new TestClient(fd));
  const timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (!source_ipv4.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (inet_pton(AF_INET, source_ipv4.c_str(), &source.sin_addr) != 1 ||
        bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof(source)) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot bind to source ", source_ipv4));
    }
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("connect ", address.ToString()));
  }
  return client;
}

bool TestClient::Send(absl::string_view data) {
  while (!data.empty()) {
    const ssize_t sent =
        send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

bool TestClient::Fill() {
  char chunk[4096];
  while (true) {
    const ssize_t received = recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (received < 0 && errno == EINTR) continue;
    if (received <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(received));
    return true;
  }
}

std::string TestClient::ReadUntil(absl::string_view terminator) {
  size_t end;
  while ((end = buffer_.find(terminator.data(), 0, terminator.size())) ==
         std::string::npos) {
    if (!Fill()) return "";
  }
  std::string result = buffer_.substr(0, end + terminator.size());
  buffer_.erase(0, end + terminator.size());
  return result;
}

std::string TestClient::ReadNetstringData() {
  const std::string length_text = ReadUntil(":");
  size_t length = 0;
  if (length_text.empty() ||
      !absl::SimpleAtoi(
          absl::string_view(length_text).substr(0, length_text.size() - 1),
          &length)) {
    return "";
  }
  while (buffer_.size() < length + 1) {
    if (!Fill()) return "";
  }
  if (buffer_[length] != ',') return "";
  std::string data = buffer_.substr(0, length);
  buffer_.erase(0, length + 1);
  return data;
}

bool TestClient::WaitClosed() {
  char chunk[4096];
  while (true) {
    const ssize_t received = recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (received > 0) continue;
    if (received == 0) return true;
    if (errno == EINTR) continue;
    return errno == ECONNRESET || errno == EPIPE;
  }
}

TempDir::TempDir() {
  char pattern[] = "/tmp/dtrust-postfix-test.XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

int64_t StatusFieldBytes(absl::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, field)) continue;
    int64_t kib = 0;
    absl::string_view value = absl::string_view(line).substr(field.size());
    value = value.substr(0, value.find("kB"));
    if (absl::SimpleAtoi(value, &kib)) return kib * 1024;
  }
  ADD_FAILURE() << "no " << field << " in /proc/self/status";
  return 0;
}

}  // namespace

void ResetPeakRss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
}

int64_t PeakRssBytes() { return StatusFieldBytes("VmHWM:"); }
int64_t CurrentRssBytes() { return StatusFieldBytes("VmRSS:"); }

std::string StderrDuring(const std::function<void()>& run) {
  ::testing::internal::CaptureStderr();
  run();
  return ::testing::internal::GetCapturedStderr();
}

std::vector<std::string> LinesWith(absl::string_view log,
                                   absl::string_view text) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, text)) lines.emplace_back(line);
  }
  return lines;
}

std::string OnlyLineWith(absl::string_view log, absl::string_view text) {
  std::vector<std::string> lines = LinesWith(log, text);
  if (lines.size() != 1) {
    ADD_FAILURE() << lines.size() << " lines with \"" << text << "\" in:\n"
                  << log;
    return "";
  }
  return std::move(lines[0]);
}

}  // namespace dtrust::testing
