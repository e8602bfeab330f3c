#include "abi/msg_types.h"

#include "absl/strings/str_format.h"

namespace wave {

std::string MsgCounts::ToString() const {
  std::string out;
  ForEach([&out](uint16_t type, uint64_t n) {
    absl::StrAppendFormat(&out, "%s%s %u", out.empty() ? "" : ", ", MsgTypeName(type), n);
  });
  if (unknown() != 0)
    absl::StrAppendFormat(&out, "%sUNKNOWN %u", out.empty() ? "" : ", ", unknown());
  return out.empty() ? "none" : out;
}

}  // namespace wave
