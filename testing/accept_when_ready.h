// Test helper: accept on a blocking listener without holding a descriptor
// while idle. The kernel reserves the new connection's descriptor number
// when accept() starts, not when a connection arrives, so a server thread
// parked in accept() holds one slot of the table for as long as it waits.
// Tests that fill the descriptor table (testing::DescriptorFill) and then
// free exactly one would race with such a thread: whether the parked
// accept took the freed slot depended on thread start-up timing.
#ifndef CELL_TESTING_ACCEPT_WHEN_READY_H_
#define CELL_TESTING_ACCEPT_WHEN_READY_H_

namespace cell::testing {

// Waits in poll() (which reserves nothing) until `listener` has a
// connection or is shut down, then accepts it with SOCK_CLOEXEC. Returns
// the connection, or -1 with errno set (EINVAL after shutdown()).
int AcceptWhenReady(int listener);

}  // namespace cell::testing

#endif  // CELL_TESTING_ACCEPT_WHEN_READY_H_
