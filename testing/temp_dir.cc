#include "testing/temp_dir.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/fs_util.h"

namespace cell::testing {

absl::StatusOr<TempDir> TempDir::Create() {
  std::string path = "/tmp/cell-test.XXXXXX";
  if (mkdtemp(path.data()) == nullptr) {
    return ErrnoStatus(errno, "mkdtemp /tmp/cell-test.XXXXXX");
  }
  if (chmod(path.c_str(), 0755) != 0)
    return ErrnoStatus(errno, "chmod " + path);
  return TempDir(std::move(path));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() { Remove(); }

void TempDir::Remove() {
  if (path_.empty()) return;
  const absl::Status status = RemoveTree(path_);
  if (!status.ok()) {
    std::fprintf(stderr, "TempDir: %s\n",
                 std::string(status.message()).c_str());
  }
  path_.clear();
}

absl::Status MakeSocketFile(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket path too long: ", path));
  }
  path.copy(address.sun_path, path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket");
  const int result =
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  const int error = errno;
  close(fd);
  if (result != 0) return ErrnoStatus(error, "bind " + path);
  if (chmod(path.c_str(), 0666) != 0)
    return ErrnoStatus(errno, "chmod " + path);
  return absl::OkStatus();
}

std::string TempDir::Path(absl::string_view relative) const {
  return absl::StrCat(path_, "/", relative);
}

std::string ReadHostFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFileToString(path, 256 << 20);
  return content.ok() ? *std::move(content) : std::string();
}

}  // namespace cell::testing
