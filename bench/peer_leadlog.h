// Reaching the leadlog::Store behind the `leadlog` peer, for the figures only
// leadlog has (ApproximateViewMemory). Other peers do not implement it.
#pragma once

namespace leadlog {
class Store;
}

namespace bench {

class LeadlogAccess {
 public:
  virtual leadlog::Store* store() = 0;

 protected:
  ~LeadlogAccess() = default;
};

}  // namespace bench
