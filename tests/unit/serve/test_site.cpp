// What `gopcast serve` answers, without sockets: files, ranges, refusals, the player
// page and the playlist list.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "../test_support.hpp"
#include "serve/site.hpp"

namespace fs = std::filesystem;

namespace gopcast::serve {
namespace {

using test::TempDir;
using test::write_file;

Request get(std::string target, std::vector<std::pair<std::string, std::string>> headers = {}, std::string method = "GET") {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers = std::move(headers);
  r.headers.emplace_back("host", "localhost");
  return r;
}

// The bytes a response would send.
std::string body_of(const Response& r) {
  if (!r.file) return r.body;
  std::string out(r.length, '\0');
  EXPECT_EQ(::pread(r.file.get(), out.data(), out.size(), static_cast<off_t>(r.offset)), static_cast<ssize_t>(r.length));
  return out;
}

struct Served {
  TempDir outer;  // holds the served folder, a secret beside it, and the player files
  fs::path root = outer / "out";
  fs::path web = outer / "web";
  Served() {
    write_file(root / "bbb.m3u8", "#EXTM3U\n#EXTINF:6,\nbbb0.ts\n#EXT-X-ENDLIST\n");
    write_file(root / "bbb0.ts", "0123456789abcdef");
    write_file(root / "sub dir" / "a b.ts", "spaced");
    write_file(outer / "secret.txt", "not for you");
    write_file(outer / "out2" / "x.ts", "sibling");
    write_file(web / "player.html", "<!doctype html>page");
    write_file(web / "hls.min.js", "hls");
  }
  Site site() const { return Site(root, web); }
};

TEST(ServeSite, ResolvesOnlyInsideTheRoot) {
  Served s;
  const fs::path root = fs::canonical(s.root);
  EXPECT_EQ(resolve_under(root, "/bbb.m3u8"), root / "bbb.m3u8");
  EXPECT_EQ(resolve_under(root, "//bbb.m3u8"), root / "bbb.m3u8");  // not the absolute path "/bbb.m3u8"
  EXPECT_EQ(resolve_under(root, "/sub dir/../bbb0.ts"), root / "bbb0.ts");
  EXPECT_EQ(resolve_under(root, "/missing/file.ts"), root / "missing" / "file.ts");
  EXPECT_FALSE(resolve_under(root, "/../secret.txt"));
  EXPECT_FALSE(resolve_under(root, "/../out2/x.ts"));  // a sibling whose name starts like the root
  EXPECT_FALSE(resolve_under(root, "/missing/../../secret.txt"));
  EXPECT_FALSE(resolve_under(root, "/bbb.m3u8/../../secret.txt"));
  EXPECT_FALSE(resolve_under(root, "/../../../../../../etc/passwd"));
  fs::create_symlink(s.outer / "secret.txt", s.root / "link.txt");
  fs::create_directory_symlink(s.outer.path, s.root / "up");
  EXPECT_FALSE(resolve_under(root, "/link.txt"));
  EXPECT_FALSE(resolve_under(root, "/up/secret.txt"));
  fs::create_symlink("bbb0.ts", s.root / "inside.ts");  // a symlink that stays inside is fine
  EXPECT_EQ(resolve_under(root, "/inside.ts"), root / "bbb0.ts");
}

TEST(ServeSite, ServesFilesWithTypesAndCaching) {
  Served s;
  const Site site = s.site();
  const Response playlist = site.respond(get("/bbb.m3u8"));
  EXPECT_EQ(playlist.status, 200);
  EXPECT_EQ(playlist.header("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(playlist.header("Cache-Control"), "no-cache");
  EXPECT_EQ(body_of(playlist), test::read_file(s.root / "bbb.m3u8"));

  const Response segment = site.respond(get("/bbb0.ts"));
  EXPECT_EQ(segment.header("Content-Type"), "video/mp2t");
  EXPECT_EQ(segment.header("Accept-Ranges"), "bytes");
  EXPECT_FALSE(segment.header("Cache-Control"));  // segments never change
  EXPECT_EQ(body_of(segment), "0123456789abcdef");

  EXPECT_EQ(body_of(site.respond(get("/sub%20dir/a%20b.ts"))), "spaced");
  EXPECT_EQ(body_of(site.respond(get("/bbb0.ts?cache=bust"))), "0123456789abcdef");
}

TEST(ServeSite, ByteRanges) {
  Served s;
  const Site site = s.site();
  const Response part = site.respond(get("/bbb0.ts", {{"range", "bytes=4-7"}}));
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.header("Content-Range"), "bytes 4-7/16");
  EXPECT_EQ(part.content_length(), 4u);
  EXPECT_EQ(body_of(part), "4567");
  EXPECT_EQ(body_of(site.respond(get("/bbb0.ts", {{"range", "bytes=-3"}}))), "def");

  const Response beyond = site.respond(get("/bbb0.ts", {{"range", "bytes=16-"}}));
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.header("Content-Range"), "bytes */16");

  // With If-Range and no validator to compare it with, the whole file is the safe answer.
  EXPECT_EQ(site.respond(get("/bbb0.ts", {{"range", "bytes=4-7"}, {"if-range", "\"x\""}})).status, 200);
}

TEST(ServeSite, RefusesWhatItMustNotServe) {
  Served s;
  const Site site = s.site();
  EXPECT_EQ(site.respond(get("/../secret.txt")).status, 403);
  EXPECT_EQ(site.respond(get("/%2e%2e/secret.txt")).status, 403);
  EXPECT_EQ(site.respond(get("/%2E%2E%2Fsecret.txt")).status, 403);
  EXPECT_EQ(site.respond(get("/sub%20dir/..%2f..%2fsecret.txt")).status, 403);
  EXPECT_EQ(site.respond(get("/_gopcast/../secret.txt")).status, 403);
  EXPECT_EQ(site.respond(get("/_gopcast/%2e%2e/out/bbb0.ts")).status, 403);  // out of the player's folder
  fs::create_symlink(s.outer / "secret.txt", s.root / "link.txt");
  EXPECT_EQ(site.respond(get("/link.txt")).status, 403);

  EXPECT_EQ(site.respond(get("/missing.ts")).status, 404);
  EXPECT_EQ(site.respond(get("/sub%20dir")).status, 404);  // folders are not listed
  EXPECT_EQ(site.respond(get("/bad%zz")).status, 400);
  EXPECT_EQ(site.respond(get("/nul%00.ts")).status, 400);

  const Response post = site.respond(get("/bbb0.ts", {}, "POST"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  EXPECT_EQ(site.respond(get("/bbb0.ts", {}, "get")).status, 405);  // methods are case-sensitive
}

// Issue 17 item 10: dotfiles, work and staging folders and *.manifest.h5 (input paths,
// host names) were served. Only what a player needs is: media, playlists, and the keys
// a playlist beside them names.
TEST(ServeSite, ServesOnlyWhatPlayersNeed) {
  Served s;
  write_file(s.root / "bbb.mp4.manifest.h5", "HDF5 with input paths");
  write_file(s.root / ".bbb.mp4.gopcast-work" / "seg-0.mp4", "unfinished");
  write_file(s.root / ".bbb.mp4.gopcast-1234-ab" / "bbb.m3u8", "#EXTM3U\n");
  write_file(s.root / ".OUTPUT.gopcast-lock", "pid 1 host h");
  write_file(s.root / ".git" / "config", "[remote]");
  write_file(s.root / ".htpasswd.mp4", "x");
  write_file(s.root / "notes.txt", "not media");
  write_file(s.root / "job.toml", "input = \"/secret/path.mov\"");
  write_file(s.root / "report.json", "{}");
  write_file(s.root / "page.html", "<script>");
  write_file(s.root / "enc" / "enc.m3u8",
             "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"enc-0.key\",IV=0x00\n#EXTINF:6,\nenc0.ts\n#EXT-X-ENDLIST\n");
  write_file(s.root / "enc" / "enc-0.key", "0123456789abcdef");
  write_file(s.root / "enc" / "master-secret.key", "fedcba9876543210");  // named by no playlist
  write_file(s.root / "enc" / "other.key", "mentioned only in a comment");
  write_file(s.root / "enc" / "notes.m3u8", "#EXTM3U\n# other.key\"\n#EXTINF:6,\nother.key\n");
  for (const char* name : {"thumbs.vtt", "sprite.jpg", "poster.png", "a.webp", "clip.gif", "a.m4a", "s.m4s", "x.mpd"})
    write_file(s.root / name, "media");
  fs::create_symlink(s.root / "bbb.mp4.manifest.h5", s.root / "alias.mp4");
  fs::create_symlink(s.root / ".bbb.mp4.gopcast-work" / "seg-0.mp4", s.root / "seg.mp4");
  const Site site = s.site();

  for (const char* target : {"/bbb.mp4.manifest.h5", "/.bbb.mp4.gopcast-work/seg-0.mp4", "/.bbb.mp4.gopcast-1234-ab/bbb.m3u8",
                             "/.OUTPUT.gopcast-lock", "/.git/config", "/.htpasswd.mp4", "/notes.txt", "/job.toml",
                             "/report.json", "/page.html", "/enc/master-secret.key", "/enc/other.key", "/alias.mp4",
                             "/seg.mp4", "/%2egit/config", "/enc/../.git/config"}) {
    const Response r = site.respond(get(target));
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_FALSE(r.file) << target;
  }
  EXPECT_EQ(body_of(site.respond(get("/enc/enc-0.key"))), "0123456789abcdef");
  EXPECT_EQ(site.respond(get("/enc/enc.m3u8")).status, 200);
  for (const char* name : {"/thumbs.vtt", "/sprite.jpg", "/poster.png", "/a.webp", "/clip.gif", "/a.m4a", "/s.m4s", "/x.mpd"})
    EXPECT_EQ(site.respond(get(name)).status, 200) << name;
  // The listing skips the staging folder's playlist as before.
  for (const auto& p : find_playlists(fs::canonical(s.root))) EXPECT_FALSE(p.path.starts_with('.')) << p.path;
}

TEST(ServeSite, HeadHasTheHeadersOfGetAndNoBody) {
  Served s;
  const Response head = s.site().respond(get("/bbb0.ts", {}, "HEAD"));
  EXPECT_EQ(head.status, 200);
  EXPECT_FALSE(head.send_body);
  EXPECT_EQ(head.content_length(), 16u);
  EXPECT_EQ(head.header("Content-Type"), "video/mp2t");
}

TEST(ServeSite, PlayerPageAndAssets) {
  Served s;
  const Site site = s.site();
  for (const char* target : {"/", "/?src=bbb.m3u8", "/player.html"}) {
    const Response page = site.respond(get(target));
    EXPECT_EQ(page.status, 200) << target;
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(body_of(page), "<!doctype html>page");
  }
  const Response js = site.respond(get("/_gopcast/hls.min.js"));
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(body_of(js), "hls");
  EXPECT_EQ(site.respond(get("/_gopcast/nothing.js")).status, 404);
}

TEST(ServeSite, ListsPlaylistsMastersFirst) {
  Served s;
  write_file(s.root / "ladder" / "master.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nv0.m3u8\n");
  write_file(s.root / "ladder" / "v0.m3u8", "#EXTM3U\n#EXTINF:6,\ns.ts\n#EXT-X-ENDLIST\n");
  write_file(s.root / "live.m3u8", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:6,\ns.ts\n");
  write_file(s.root / ".bbb.m3u8.gopcast-work" / "half.m3u8", "#EXTM3U\n");  // unfinished work: hidden
  write_file(s.root / "notes.txt", "");
  fs::create_directories(s.outer / "elsewhere");
  write_file(s.outer / "elsewhere" / "outside.m3u8", "#EXTM3U\n");
  fs::create_symlink(s.outer / "elsewhere" / "outside.m3u8", s.root / "escape.m3u8");

  const auto found = find_playlists(fs::canonical(s.root));
  const std::vector<PlaylistEntry> expected = {
      {"ladder/master.m3u8", true, false},
      {"bbb.m3u8", false, false},
      {"ladder/v0.m3u8", false, false},
      {"live.m3u8", false, true},
  };
  EXPECT_EQ(found, expected);

  const Response api = s.site().respond(get("/_gopcast/playlists.json"));
  EXPECT_EQ(api.header("Content-Type"), "application/json");
  EXPECT_EQ(api.header("Cache-Control"), "no-cache");
  const auto json = nlohmann::json::parse(api.body);
  ASSERT_EQ(json["playlists"].size(), 4u);
  EXPECT_EQ(json["playlists"][0]["path"], "ladder/master.m3u8");
  EXPECT_EQ(json["playlists"][0]["master"], true);
  EXPECT_EQ(json["playlists"][3]["live"], true);
}

TEST(ServeSite, MissingFolderIsResourceNotFound) {
  Served s;
  test::expect_error([&] { Site(s.outer / "nope", s.web); }, ErrorCode::ResourceNotFound, {"nope", "no such folder"});
  test::expect_error([&] { Site(s.outer / "secret.txt", s.web); }, ErrorCode::ResourceNotFound, {"secret.txt"});
}

}  // namespace
}  // namespace gopcast::serve
