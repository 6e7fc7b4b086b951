// crypto/: AES-128-CBC as HLS needs it (checked against the openssl command-line tool),
// keys and IVs from the CSPRNG, hex parsing.
#include <gtest/gtest.h>

#include <set>

#include "../test_support.hpp"
#include "core/files.hpp"
#include "core/process.hpp"
#include "crypto/crypto.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using gopcast::test::expect_error;
using gopcast::test::TempDir;
using gopcast::test::write_file;

namespace {

TEST(Aes128Cbc, TheOpensslToolDecryptsItBackExactly) {
  TempDir dir;
  const auto key = crypto::random_block(), iv = crypto::random_block();
  // Sizes around the block and the 64 KiB read size: padding and streaming both count.
  for (size_t size : {0u, 1u, 15u, 16u, 17u, 65535u, 65536u, 65537u, 300001u}) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + size) & 0xff);
    write_file(dir / "plain", data);
    crypto::aes128_cbc_encrypt_file(dir / "plain", dir / "enc", key, iv);
    EXPECT_EQ(fs::file_size(dir / "enc"), (size / 16 + 1) * 16) << size;  // PKCS#7 always pads
    auto out = process::run({"openssl", "enc", "-d", "-aes-128-cbc", "-K", crypto::to_hex(key), "-iv", crypto::to_hex(iv),
                             "-in", (dir / "enc").string(), "-out", (dir / "dec").string()});
    ASSERT_EQ(out.status, 0) << out.err;
    EXPECT_EQ(files::read(dir / "dec"), data) << size;
  }
}

TEST(RandomBlock, KeysDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(crypto::to_hex(crypto::random_block()));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Hex, RoundTripsAndRejectsWhatIsNotAKey) {
  const auto b = crypto::block_from_hex("0x000102030405060708090A0B0C0D0E0F", "hls.key");
  EXPECT_EQ(crypto::to_hex(b), "000102030405060708090a0b0c0d0e0f");
  expect_error([] { crypto::block_from_hex("abc", "hls.key"); }, ErrorCode::OutOfRange, {"hls.key", "32 hex digits"});
  expect_error([] { crypto::block_from_hex(std::string(32, 'g'), "hls.key"); }, ErrorCode::OutOfRange, {"hls.key"});
}

}  // namespace
