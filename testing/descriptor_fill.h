// Test helper: takes every free descriptor of the test process, as a cell
// holding many connections does to the launcher's engine, and gives them
// back when it goes out of scope. For unit tests of code that must go on
// when open() and socket() fail with EMFILE.
#ifndef CELL_TESTING_DESCRIPTOR_FILL_H_
#define CELL_TESTING_DESCRIPTOR_FILL_H_

#include <sys/resource.h>

#include <vector>

namespace cell::testing {

class DescriptorFill {
 public:
  // Lowers the soft RLIMIT_NOFILE to at most 4096 (filling is then quick)
  // and takes descriptors until EMFILE.
  DescriptorFill();
  ~DescriptorFill();
  DescriptorFill(const DescriptorFill&) = delete;
  DescriptorFill& operator=(const DescriptorFill&) = delete;

  // The fill ended on EMFILE and took some: the table is full.
  bool Full() const;
  // Gives `count` descriptors back, so that exactly that many are free.
  void Free(int count);

 private:
  rlimit saved_{};
  std::vector<int> taken_;
  int error_ = 0;
};

}  // namespace cell::testing

#endif  // CELL_TESTING_DESCRIPTOR_FILL_H_
