#include "crypto/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <vector>

#include "core/error.hpp"

namespace gopcast::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

}  // namespace

Block random_block() {
  Block b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) fail(ErrorCode::Internal, "crypto: RAND_bytes failed");
  return b;
}

std::string to_hex(const uint8_t* data, size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    s += digits[data[i] >> 4];
    s += digits[data[i] & 15];
  }
  return s;
}

Block block_from_hex(std::string_view hex, std::string_view what) {
  if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Block b{};
  bool ok = hex.size() == 32;
  for (size_t i = 0; ok && i < 16; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    ok = hi >= 0 && lo >= 0;
    b[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (!ok) fail(ErrorCode::OutOfRange, "{}: expected 32 hex digits (a 128-bit AES key), got {} characters", what, hex.size());
  return b;
}

void aes128_cbc_encrypt_file(const std::filesystem::path& in, const std::filesystem::path& out, const Block& key,
                             const Block& iv) {
  std::ifstream src(in, std::ios::binary);
  if (!src) fail(ErrorCode::Internal, "crypto: {}: cannot read", in.string());
  std::ofstream dst(out, std::ios::binary | std::ios::trunc);
  if (!dst) fail(ErrorCode::OutputNotWritable, "crypto: {}: cannot write", out.string());
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, key.data(), iv.data()) != 1)
    fail(ErrorCode::Internal, "crypto: EVP_EncryptInit_ex failed");
  std::vector<unsigned char> plain(65536), cipher(65536 + 16);
  int n = 0;
  while (src) {
    src.read(reinterpret_cast<char*>(plain.data()), static_cast<std::streamsize>(plain.size()));
    const auto got = static_cast<int>(src.gcount());
    if (got <= 0) break;
    if (EVP_EncryptUpdate(ctx.get(), cipher.data(), &n, plain.data(), got) != 1) fail(ErrorCode::Internal, "crypto: EVP_EncryptUpdate failed");
    dst.write(reinterpret_cast<const char*>(cipher.data()), n);
  }
  if (EVP_EncryptFinal_ex(ctx.get(), cipher.data(), &n) != 1) fail(ErrorCode::Internal, "crypto: EVP_EncryptFinal_ex failed");
  dst.write(reinterpret_cast<const char*>(cipher.data()), n);
  dst.flush();
  if (!dst) fail(ErrorCode::OutputNotWritable, "crypto: {}: write failed", out.string());
}

std::string hmac_sha256_hex(std::string_view key, std::string_view body) {
  // OpenSSL reads a null key as "keep the previous key"; an empty key must be non-null.
  static const unsigned char empty = 0;
  const void* key_bytes = key.empty() ? &empty : static_cast<const void*>(key.data());
  const auto* data = body.empty() ? &empty : reinterpret_cast<const unsigned char*>(body.data());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), data, body.size(), mac, &length))
    fail(ErrorCode::Internal, "crypto: HMAC: SHA-256 failed");
  return to_hex(mac, length);
}

}  // namespace gopcast::crypto
