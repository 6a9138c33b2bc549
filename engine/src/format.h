// The on-disk format version. Bump it only for a change that an older engine
// cannot safely ignore (see schema/leadlog.fbs for the evolution rules); an
// engine refuses to open a database whose version is newer than its own.
#pragma once

#include <cstdint>

namespace leadlog {

inline constexpr uint32_t kFormatVersion = 1;

}  // namespace leadlog
