#include "testing/descriptor_fill.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>

namespace cell::testing {

DescriptorFill::DescriptorFill() {
  getrlimit(RLIMIT_NOFILE, &saved_);
  rlimit low = saved_;
  low.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 4096);
  setrlimit(RLIMIT_NOFILE, &low);
  int fd;
  while ((fd = dup(STDERR_FILENO)) >= 0) taken_.push_back(fd);
  error_ = errno;
}

DescriptorFill::~DescriptorFill() {
  for (int fd : taken_) close(fd);
  setrlimit(RLIMIT_NOFILE, &saved_);
}

bool DescriptorFill::Full() const {
  return error_ == EMFILE && !taken_.empty();
}

void DescriptorFill::Free(int count) {
  for (; count > 0 && !taken_.empty(); --count) {
    close(taken_.back());
    taken_.pop_back();
  }
}

}  // namespace cell::testing
