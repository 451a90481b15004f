// UniqueFd: owns one file descriptor and closes it when it goes out of scope.
// No allocation, so it is safe in the child between clone and exec too.
#ifndef CELL_BASE_UNIQUE_FD_H_
#define CELL_BASE_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace cell {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  // Gives up ownership: the caller closes the returned descriptor.
  int Release() { return std::exchange(fd_, -1); }
  // Closes the current descriptor and owns `fd` instead.
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

}  // namespace cell

#endif  // CELL_BASE_UNIQUE_FD_H_
