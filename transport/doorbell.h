// A doorbell between a host loop and its agent: an eventfd, so that neither side spins on a
// machine that also runs the workload. Rings coalesce; a ring that comes before the wait is not
// lost (the eventfd's counter keeps it). Used by `wave run` (agent thread, one process) and
// `wave scx` (agent child process, which inherits the eventfds; see DoorbellFromFd).
// (The link's own batched doorbells across an IPU are an open transport/ issue.)
#ifndef LIBWAVE_TRANSPORT_DOORBELL_H_
#define LIBWAVE_TRANSPORT_DOORBELL_H_

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace wave {

class Doorbell {
 public:
  Doorbell() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  // Adopts an eventfd (one inherited from the process that created it).
  explicit Doorbell(int fd) : fd_(fd) {}
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
  // Gives up ownership (the fd stays open), e.g. before handing it to a child process.
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_DOORBELL_H_
