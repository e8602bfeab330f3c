// C++ helpers around the ABI's one list of message types (wave_abi.h, WAVE_MSG_TYPES): names,
// and counters by type that both halves keep.
#ifndef LIBWAVE_ABI_MSG_TYPES_H_
#define LIBWAVE_ABI_MSG_TYPES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "abi/wave_abi.h"

namespace wave {

// "TASK_NEW", ...; "UNKNOWN" for a type this version does not know.
inline const char* MsgTypeName(uint16_t type) { return wave_msg_type_name(type); }
// "ok", "stale", ...; "invalid" for a status this version does not know.
inline const char* CommitStatusName(uint32_t status) { return wave_commit_status_name(status); }

// The known message types, in the list's order (ascending values).
inline constexpr std::array<uint16_t, WAVE_MSG_TYPE_COUNT> kMsgTypes = {
#define WAVE_MSG_TYPE_VALUE(kind, name, value) uint16_t{value},
    WAVE_MSG_TYPES(WAVE_MSG_TYPE_VALUE)
#undef WAVE_MSG_TYPE_VALUE
};

// Whether each known type (by its dense index) is a command (agent -> host).
inline constexpr std::array<bool, WAVE_MSG_TYPE_COUNT> kMsgIsCommand = {
#define WAVE_MSG_TYPE_IS_CMD(kind, name, value) WAVE_MSG_IS_CMD_##kind == WAVE_MSG_IS_CMD_CMD,
    WAVE_MSG_TYPES(WAVE_MSG_TYPE_IS_CMD)
#undef WAVE_MSG_TYPE_IS_CMD
};

// A counter per known message type, and one for every type this version does not know.
class MsgCounts {
 public:
  uint64_t& operator[](uint16_t type) { return n_[Slot(type)]; }
  // By dense index (wave_msg_type_index), -1 for the unknown types' counter: for a hot path that
  // has the index already.
  uint64_t& AtIndex(int index) {
    return n_[index < 0 ? size_t{WAVE_MSG_TYPE_COUNT} : static_cast<size_t>(index)];
  }
  uint64_t operator[](uint16_t type) const { return n_[Slot(type)]; }
  uint64_t unknown() const { return n_[WAVE_MSG_TYPE_COUNT]; }
  uint64_t total() const {
    uint64_t t = 0;
    for (uint64_t v : n_) t += v;
    return t;
  }
  MsgCounts& operator+=(const MsgCounts& o) {
    for (size_t i = 0; i < n_.size(); ++i) n_[i] += o.n_[i];
    return *this;
  }
  // "TASK_NEW 5, CPU_IDLE 2, UNKNOWN 1", or "none".
  std::string ToString() const;
  // f(type, count) for each known type counted at least once, in ascending type order.
  template <typename F>
  void ForEach(F f) const {
    for (size_t i = 0; i < kMsgTypes.size(); ++i) {
      if (n_[i] != 0) f(kMsgTypes[i], n_[i]);
    }
  }

 private:
  static size_t Slot(uint16_t type) {
    const int i = wave_msg_type_index(type);
    return i < 0 ? size_t{WAVE_MSG_TYPE_COUNT} : static_cast<size_t>(i);
  }
  std::array<uint64_t, WAVE_MSG_TYPE_COUNT + 1> n_{};
};

}  // namespace wave

#endif  // LIBWAVE_ABI_MSG_TYPES_H_
