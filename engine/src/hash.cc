#include "hash.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <string>

namespace leadlog {

struct Sha256::Impl {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(new Impl) {
  impl_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->ctx = EVP_MD_CTX_new();
  // Without a digest the hash chain cannot be kept; there is no sensible
  // degraded mode for an audit log, so fail loudly at start-up.
  if (impl_->md == nullptr || impl_->ctx == nullptr) std::abort();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
  EVP_MD_free(impl_->md);
  delete impl_;
}

Hash32 Sha256::Of(std::string_view data) {
  Hash32 out{};
  unsigned int len = 0;
  if (EVP_DigestInit_ex(impl_->ctx, impl_->md, nullptr) != 1 ||
      EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(impl_->ctx, out.data(), &len) != 1 || len != out.size()) {
    std::abort();
  }
  return out;
}

std::string HexOf(const Hash32& hash) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : hash) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

bool ParseHash(std::string_view hex, Hash32* out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace leadlog
