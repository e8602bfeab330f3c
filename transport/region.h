// A shared-memory region: anonymous (shared with children across fork) or memfd-backed (shared
// with another process by passing the fd). Move-only; unmaps on destruction.
#ifndef LIBWAVE_TRANSPORT_REGION_H_
#define LIBWAVE_TRANSPORT_REGION_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace wave {

class SharedRegion {
 public:
  SharedRegion() = default;
  SharedRegion(SharedRegion&& other) noexcept { *this = std::move(other); }
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion();

  // MAP_SHARED | MAP_ANONYMOUS: visible to this process and to children forked after it.
  static absl::StatusOr<SharedRegion> CreateAnonymous(size_t bytes);
  // A memfd of `bytes`, mapped shared; fd() can be passed to another process.
  static absl::StatusOr<SharedRegion> CreateMemfd(const std::string& name, size_t bytes);
  // Maps a memfd (or any shared-memory fd) received from elsewhere; its size comes from fstat.
  // Takes ownership of `fd`.
  static absl::StatusOr<SharedRegion> MapFd(int fd);

  // A named file (e.g. under /dev/shm) created exclusively with mode 0600, sized and mapped.
  static absl::StatusOr<SharedRegion> CreateFile(const std::string& path, size_t bytes);
  // Opens and maps an existing named region; its size comes from fstat.
  static absl::StatusOr<SharedRegion> OpenFile(const std::string& path);

  void* data() const { return data_; }
  size_t size() const { return size_; }
  int fd() const { return fd_; }  // -1 for anonymous regions

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
};

}  // namespace wave

#endif  // LIBWAVE_TRANSPORT_REGION_H_
