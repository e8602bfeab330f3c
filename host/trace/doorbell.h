// A doorbell between the host loop and the agent thread of `wave run`: an eventfd, so that
// neither side spins on a 2-cpu machine that also runs the workload. Rings coalesce; a ring that
// comes before the wait is not lost (the eventfd's counter keeps it).
// (The link's own batched doorbells are an open transport/ issue; this one is local to the trace
// mechanism, which runs both ends in one process.)
#ifndef LIBWAVE_HOST_TRACE_DOORBELL_H_
#define LIBWAVE_HOST_TRACE_DOORBELL_H_

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace wave {

class Doorbell {
 public:
  Doorbell() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;
  ~Doorbell() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  void Ring() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(fd_, &one, sizeof(one));
  }
  // Consumes pending rings without waiting.
  void Clear() {
    uint64_t v;
    [[maybe_unused]] ssize_t n = read(fd_, &v, sizeof(v));
  }
  // Waits up to timeout_ms for a ring and consumes it. True if it rang.
  bool Wait(int timeout_ms) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    Clear();
    return true;
  }

 private:
  int fd_;
};

}  // namespace wave

#endif  // LIBWAVE_HOST_TRACE_DOORBELL_H_
