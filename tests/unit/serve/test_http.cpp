// The pure HTTP parts of `gopcast serve`: request heads, targets, ranges, types.
#include <gtest/gtest.h>

#include <string>

#include "serve/http.hpp"

namespace gopcast::serve {
namespace {

int status_of(auto&& f) {
  try {
    f();
  } catch (const HttpError& e) {
    return e.status();
  }
  return 0;
}

TEST(ServeHttp, HeadEndsAtTheBlankLine) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: a\r\n\r\nnext"), 27u);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\nHost: a\n\n"), 24u);  // bare LF lines
  EXPECT_FALSE(find_head_end("GET / HTTP/1.1\r\nHost: a\r\n"));
  EXPECT_FALSE(find_head_end(""));
  // Empty lines before the request line (left over after a previous request) are skipped.
  EXPECT_EQ(find_head_end("\r\nGET / HTTP/1.0\r\n\r\n"), 20u);
}

TEST(ServeHttp, ParsesRequestLineAndHeaders) {
  const Request r = parse_request("GET /a%20b.ts?x=1 HTTP/1.1\r\nHost: localhost:8000\r\nRange:  bytes=0-9 \r\nX-Empty:\r\n\r\n");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/a%20b.ts?x=1");
  EXPECT_EQ(r.minor_version, 1);
  EXPECT_EQ(r.header("host"), "localhost:8000");
  EXPECT_EQ(r.header("range"), "bytes=0-9");  // names lower-cased, values trimmed
  EXPECT_EQ(r.header("x-empty"), "");
  EXPECT_FALSE(r.header("Range"));  // lookups take lower-case names
  EXPECT_TRUE(r.keep_alive());
}

TEST(ServeHttp, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n").keep_alive());
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\n").keep_alive());
  EXPECT_TRUE(parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n").keep_alive());
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n").keep_alive());
}

TEST(ServeHttp, RefusesMalformedHeads) {
  EXPECT_EQ(status_of([] { parse_request("GET /\r\n\r\n"); }), 400);
  EXPECT_EQ(status_of([] { parse_request("GET  / HTTP/1.1\r\nHost: a\r\n"); }), 400);  // two spaces
  EXPECT_EQ(status_of([] { parse_request("GET / HTTP/1.1 extra\r\nHost: a\r\n"); }), 400);
  EXPECT_EQ(status_of([] { parse_request("G(T / HTTP/1.1\r\nHost: a\r\n"); }), 400);
  EXPECT_EQ(status_of([] { parse_request("GET / HTTX/1.1\r\nHost: a\r\n"); }), 400);
  EXPECT_EQ(status_of([] { parse_request("GET / HTTP/2.0\r\nHost: a\r\n"); }), 505);
  EXPECT_EQ(status_of([] { parse_request("GET / HTTP/1.1\r\n"); }), 400);  // 1.1 needs Host
  EXPECT_EQ(status_of([] { parse_request("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n"); }), 400);
  EXPECT_EQ(status_of([] { parse_request("GET / HTTP/1.1\r\nHost : a\r\n"); }), 400);
  EXPECT_EQ(status_of([] { parse_request("GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n"); }), 400);
  EXPECT_EQ(status_of([] { parse_request("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n"); }), 400);
  EXPECT_EQ(status_of([] { parse_request(std::string("GET /a\x01 HTTP/1.1\r\nHost: a\r\n")); }), 400);
}

TEST(ServeHttp, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%20b%2Fc%2e%2E"), "a b/c..");
  EXPECT_EQ(percent_decode("a+b"), "a+b");  // '+' is a space only in form data
  EXPECT_EQ(percent_decode("%C3%A9"), "\xC3\xA9");
  EXPECT_EQ(status_of([] { percent_decode("%2"); }), 400);
  EXPECT_EQ(status_of([] { percent_decode("%zz"); }), 400);
  EXPECT_EQ(status_of([] { percent_decode("a%00b"); }), 400);
}

TEST(ServeHttp, TargetPathDropsQueryAndDecodes) {
  EXPECT_EQ(target_path("/?src=bbb.m3u8"), "/");
  EXPECT_EQ(target_path("/out/a%20b.ts?x#y"), "/out/a b.ts");
  EXPECT_EQ(target_path("/%2e%2e/etc/passwd"), "/../etc/passwd");
  EXPECT_EQ(status_of([] { target_path("http://host/x"); }), 400);
  EXPECT_EQ(status_of([] { target_path("*"); }), 400);
}

TEST(ServeHttp, RangesAgainstAFile) {
  using K = RangeKind;
  auto r = parse_range("bytes=0-99", 1000);
  EXPECT_EQ(r.kind, K::Partial);
  EXPECT_EQ(r.range, (ByteRange{0, 99}));
  EXPECT_EQ(r.range.length(), 100u);
  EXPECT_EQ(parse_range("bytes=900-", 1000).range, (ByteRange{900, 999}));
  EXPECT_EQ(parse_range("bytes=-100", 1000).range, (ByteRange{900, 999}));    // the last 100 bytes
  EXPECT_EQ(parse_range("bytes=-5000", 1000).range, (ByteRange{0, 999}));     // more than the file: all of it
  EXPECT_EQ(parse_range("bytes=500-5000", 1000).range, (ByteRange{500, 999}));  // clipped to the end
  EXPECT_EQ(parse_range("Bytes=1-1", 1000).range, (ByteRange{1, 1}));
  EXPECT_EQ(parse_range("bytes=0-99999999999999999999999", 10).range, (ByteRange{0, 9}));

  EXPECT_EQ(parse_range("bytes=1000-", 1000).kind, K::Unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 1000).kind, K::Unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0).kind, K::Unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-1", 0).kind, K::Unsatisfiable);

  // Ignored (the whole file is sent): other units, several ranges, bad syntax, last < first.
  for (const char* v : {"", "items=0-1", "bytes=0-1,5-6", "bytes=", "bytes=-", "bytes=a-b", "bytes=5", "bytes=9-3",
                        "bytes=1-2-3", "bytes=+1-2"})
    EXPECT_EQ(parse_range(v, 1000).kind, K::Whole) << v;
}

TEST(ServeHttp, MimeTypes) {
  EXPECT_EQ(mime_type("a/x.m3u8"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(mime_type("X.M3U8"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(mime_type("s.ts"), "video/mp2t");
  EXPECT_EQ(mime_type("s.m4s"), "video/iso.segment");
  EXPECT_EQ(mime_type("v.mp4"), "video/mp4");
  EXPECT_EQ(mime_type("m.mpd"), "application/dash+xml");
  EXPECT_EQ(mime_type("c.vtt"), "text/vtt");
  EXPECT_EQ(mime_type("k.key"), "application/octet-stream");
  EXPECT_EQ(mime_type("p.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("p.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type("p.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type("p.json"), "application/json");
  EXPECT_EQ(mime_type("i.png"), "image/png");
  EXPECT_EQ(mime_type("i.jpg"), "image/jpeg");
  EXPECT_EQ(mime_type("noext"), "application/octet-stream");
  EXPECT_TRUE(is_manifest("live.m3u8"));
  EXPECT_TRUE(is_manifest("x.MPD"));
  EXPECT_FALSE(is_manifest("s.ts"));
}

TEST(ServeHttp, ResponseHead) {
  EXPECT_EQ(format_response_head(206, {{"Content-Range", "bytes 0-9/100"}}, 10),
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
}

}  // namespace
}  // namespace gopcast::serve
