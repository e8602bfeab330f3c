#include "transport/region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"

namespace wave {
namespace {

absl::Status Errno(const char* what) {
  return absl::InternalError(absl::StrFormat("%s: %s", what, std::strerror(errno)));
}

}  // namespace

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    this->~SharedRegion();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

SharedRegion::~SharedRegion() {
  if (data_ != nullptr) munmap(data_, size_);
  if (fd_ >= 0) close(fd_);
  data_ = nullptr;
  fd_ = -1;
}

absl::StatusOr<SharedRegion> SharedRegion::CreateAnonymous(size_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("region of 0 bytes");
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return Errno("mmap(anonymous shared)");
  SharedRegion r;
  r.data_ = p;
  r.size_ = bytes;
  return r;
}

absl::StatusOr<SharedRegion> SharedRegion::CreateMemfd(const std::string& name, size_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("region of 0 bytes");
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) return Errno("memfd_create");
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    absl::Status s = Errno("ftruncate(memfd)");
    close(fd);
    return s;
  }
  return MapFd(fd);
}

absl::StatusOr<SharedRegion> SharedRegion::CreateFile(const std::string& path, size_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("region of 0 bytes");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrFormat("create %s: %s", path, std::strerror(errno)));
  }
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    absl::Status s = Errno("ftruncate(region file)");
    close(fd);
    unlink(path.c_str());
    return s;
  }
  return MapFd(fd);
}

absl::StatusOr<SharedRegion> SharedRegion::OpenFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrFormat("open %s: %s", path, std::strerror(errno)));
  }
  return MapFd(fd);
}

absl::StatusOr<SharedRegion> SharedRegion::MapFd(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status s = Errno("fstat(region fd)");
    close(fd);
    return s;
  }
  if (st.st_size <= 0) {
    close(fd);
    return absl::InvalidArgumentError("region fd has size 0");
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    absl::Status s = Errno("mmap(region fd)");
    close(fd);
    return s;
  }
  SharedRegion r;
  r.data_ = p;
  r.size_ = bytes;
  r.fd_ = fd;
  return r;
}

}  // namespace wave
