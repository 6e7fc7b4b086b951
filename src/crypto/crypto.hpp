#pragma once
// The cryptography gopcast does, in the one module that includes OpenSSL: random keys
// and IVs, AES-128-CBC for HLS segments, HMAC-SHA256 for webhook signatures.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gopcast::crypto {

using Block = std::array<uint8_t, 16>;  // an AES-128 key or IV

// Bytes from OpenSSL's CSPRNG; throws Internal if it cannot be seeded.
Block random_block();

std::string to_hex(const uint8_t* data, size_t size);
inline std::string to_hex(const Block& b) { return to_hex(b.data(), b.size()); }
// 32 hex digits (an optional 0x prefix) -> a block; throws OutOfRange naming `what`.
Block block_from_hex(std::string_view hex, std::string_view what);

// Encrypts `in` into `out` with AES-128-CBC and PKCS#7 padding, as HLS's METHOD=AES-128
// expects; streams in 64 KiB pieces, so segment size does not matter.
void aes128_cbc_encrypt_file(const std::filesystem::path& in, const std::filesystem::path& out, const Block& key,
                             const Block& iv);

// HMAC-SHA256 of `body` with `key`, as lowercase hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view body);

}  // namespace gopcast::crypto
