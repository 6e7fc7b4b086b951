// The pure parts of external subtitles: tolerant SRT/WebVTT/ASS parsing, charset
// conversion, the ASS and WebVTT text written for libav and HLS, the CLI and job forms.
#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "ops/subtitles.hpp"
#include "plan/playlist.hpp"
#include "spec/job.hpp"
#include "spec/subtitles.hpp"

namespace fs = std::filesystem;
using namespace gopcast;
using namespace gopcast::ops;

TEST(SubtitleTimestamps, FractionDigitsAreADecimalFraction) {
  EXPECT_EQ(parse_timestamp("00:00:00,1"), 100);
  EXPECT_EQ(parse_timestamp("00:00:00,12"), 120);
  EXPECT_EQ(parse_timestamp("00:00:01,234"), 1234);
  EXPECT_EQ(parse_timestamp("00:00:01.2345"), 1234);
  EXPECT_EQ(parse_timestamp("00:00:04"), 4000);
  EXPECT_EQ(parse_timestamp("01:02.5"), 62500);        // WebVTT without hours
  EXPECT_EQ(parse_timestamp("1:00:00.00"), 3600000);    // ASS: one hour digit, centiseconds
  EXPECT_EQ(parse_timestamp(" 10:00:00,000 "), 36000000);
  EXPECT_EQ(parse_timestamp("00:61:00"), -1);
  EXPECT_EQ(parse_timestamp("12"), -1);
  EXPECT_EQ(parse_timestamp("a:b:c"), -1);
  EXPECT_EQ(parse_timestamp(""), -1);
}

TEST(SubtitleParse, LooseSrtLikeTheSharedFiles) {
  // The shape of ../shared/media/me-subs-en.srt: numbering from 0, loose times, entities,
  // a trailing paragraph after the last cue's blank line.
  const std::string srt =
      "0\n00:00:00,1 --> 00:00:04\nHTML5 &lt;video&gt; was supposed to be fun.\n\n"
      "1\n00:00:04 --> 00:00:07\nBut browser vendors couldn't agree \n\n"
      "14\n00:00:42 --> 00:00:45\nHope you like it. \n\nCome follow me at <a href=\"http://x\">x.com</a>";
  const SubtitleDoc d = parse_subtitles(srt, "t.srt");
  EXPECT_EQ(d.format, SubtitleFormat::srt);
  ASSERT_EQ(d.cues.size(), 3u);
  EXPECT_EQ(d.cues[0].start_ms, 100);
  EXPECT_EQ(d.cues[0].end_ms, 4000);
  EXPECT_EQ(d.cues[0].text, "HTML5 &lt;video&gt; was supposed to be fun.");
  EXPECT_EQ(plain_text(d.cues[0].text), "HTML5 <video> was supposed to be fun.");
  EXPECT_EQ(d.cues[1].text, "But browser vendors couldn't agree");
  EXPECT_EQ(d.cues[2].start_ms, 42000);
  EXPECT_EQ(d.cues[2].text, "Hope you like it.\nCome follow me at x.com");
}

TEST(SubtitleParse, CrlfBomMissingNumbersAndBlankLineVariations) {
  const std::string srt =
      "\xEF\xBB\xBF\r\n\r\n1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>Hello</i> <b>world</b>\r\nline two\r\n"
      "00:00:03,000 --> 00:00:04,500 X1:10 X2:20\r\n<font color=\"red\">no number</font>\r\n\r\n\r\n\r\n"
      "7\r\n00:00:05,000 --> 00:00:06,000\r\n{\\an8}top & done\r\n";
  const SubtitleDoc d = parse_subtitles(srt, "t.srt");
  ASSERT_EQ(d.cues.size(), 3u);
  EXPECT_EQ(d.cues[0].text, "<i>Hello</i> <b>world</b>\nline two");
  EXPECT_EQ(d.cues[1].start_ms, 3000);
  EXPECT_EQ(d.cues[1].end_ms, 4500);
  EXPECT_EQ(d.cues[1].text, "no number");
  EXPECT_EQ(d.cues[2].text, "top &amp; done");
  EXPECT_EQ(plain_text(d.cues[2].text), "top & done");
  // Old Mac line ends.
  const SubtitleDoc mac = parse_subtitles("1\r00:00:01,000 --> 00:00:02,000\rHi\r\r2\r00:00:03,000 --> 00:00:04,000\rYo\r", "m.srt");
  ASSERT_EQ(mac.cues.size(), 2u);
  EXPECT_EQ(mac.cues[1].text, "Yo");
}

TEST(SubtitleParse, CuesEndingBeforeTheyStartAreDroppedAndOrderIsByStart) {
  const SubtitleDoc d = parse_subtitles(
      "1\n00:00:05,000 --> 00:00:06,000\nlater\n\n2\n00:00:03,000 --> 00:00:02,000\nbackwards\n\n3\n00:00:01,000 --> 00:00:02,000\nfirst\n",
      "t.srt");
  ASSERT_EQ(d.cues.size(), 2u);
  EXPECT_EQ(d.cues[0].text, "first");
  EXPECT_EQ(d.cues[1].text, "later");
}

TEST(SubtitleParse, WebVttWithHeaderNotesIdentifiersAndTags) {
  const std::string vtt =
      "WEBVTT - a title\nKind: captions\n\nNOTE a comment\nspanning lines\n\nSTYLE\n::cue { color: red }\n\n"
      "intro\n00:01.000 --> 00:02.500 align:start position:10%\n<v Roger>Hi <c.loud>there</c></v>\n\n"
      "00:00:03.000 --> 00:00:04.000\n<i>one</i> &amp; &lt;two&gt;\n";
  const SubtitleDoc d = parse_subtitles(vtt, "t.vtt");
  EXPECT_EQ(d.format, SubtitleFormat::webvtt);
  ASSERT_EQ(d.cues.size(), 2u);
  EXPECT_EQ(d.cues[0].start_ms, 1000);
  EXPECT_EQ(d.cues[0].end_ms, 2500);
  EXPECT_EQ(d.cues[0].text, "Hi there");
  EXPECT_EQ(d.cues[1].text, "<i>one</i> &amp; &lt;two&gt;");
}

TEST(SubtitleParse, AssEventsKeepTheirFieldsAndStyles) {
  const std::string ass =
      "[Script Info]\nScriptType: v4.00+\nPlayResX: 640\nPlayResY: 360\n\n[V4+ Styles]\n"
      "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, "
      "StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
      "Style: Big,DejaVu Sans,40,&H0000FFFF,&H00FFFFFF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,2,10,10,10,1\n\n"
      "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
      "Comment: 0,0:00:00.00,0:00:01.00,Big,,0,0,0,,not shown\n"
      "Dialogue: 1,0:00:01.50,0:00:03.00,Big,Bob,0,0,20,,{\\i1}Hello{\\i0}, world\\Nsecond {\\bord3}line\n";
  const SubtitleDoc d = parse_subtitles(ass, "t.ass");
  EXPECT_EQ(d.format, SubtitleFormat::ass);
  ASSERT_EQ(d.cues.size(), 1u);
  const Cue& c = d.cues[0];
  EXPECT_EQ(c.start_ms, 1500);
  EXPECT_EQ(c.end_ms, 3000);
  EXPECT_EQ(c.ass_style, "Big");
  EXPECT_EQ(c.ass_layer, "1");
  EXPECT_EQ(c.ass_margin_v, "20");
  EXPECT_EQ(c.ass_text, "{\\i1}Hello{\\i0}, world\\Nsecond {\\bord3}line");  // commas in Text kept
  EXPECT_EQ(c.text, "<i>Hello</i>, world\nsecond line");
  EXPECT_TRUE(test::contains(d.ass_header, "Style: Big,DejaVu Sans,40"));
  // Burning in keeps the author's styles and tags.
  const std::string script = render_ass_script(d, BurnStyle{}, 1280, 720);
  EXPECT_TRUE(test::contains(script, "PlayResX: 640"));
  EXPECT_TRUE(test::contains(script, "Dialogue: 1,0:00:01.50,0:00:03.00,Big,Bob,0,0,20,,{\\i1}Hello{\\i0}, world\\Nsecond {\\bord3}line"));
}

TEST(SubtitleParse, NotSubtitlesIsAnErrorNamingTheFile) {
  test::expect_error([] { parse_subtitles("just some\ntext file\n", "notes.txt"); }, ErrorCode::ResourceContentBad,
                     {"notes.txt", "not a subtitle file"});
  test::expect_error([] { parse_subtitles("", "empty.srt"); }, ErrorCode::ResourceContentBad, {"empty.srt"});
}

TEST(SubtitleCharset, DeclaredCharsetsConvertToUtf8) {
  // "中文字幕" in GBK, "中文" in Big5, "日本語" in Shift-JIS, "Español" in Latin-1.
  EXPECT_EQ(to_utf8("\xD6\xD0\xCE\xC4\xD7\xD6\xC4\xBB", "gbk", "f"), "中文字幕");
  EXPECT_EQ(to_utf8("\xA4\xA4\xA4\xE5", "big5", "f"), "中文");
  EXPECT_EQ(to_utf8("\x93\xFA\x96\x7B\x8C\xEA", "shift-jis", "f"), "日本語");
  EXPECT_EQ(to_utf8("Espa\xF1ol", "latin-1", "f"), "Español");
  EXPECT_EQ(to_utf8("\xEF\xBB\xBFok", "utf-8", "f"), "ok");  // BOM dropped
  EXPECT_EQ(iconv_charset("Shift_JIS"), "SHIFT_JIS");
  EXPECT_EQ(iconv_charset("ISO-8859-1"), "ISO-8859-1");
  EXPECT_EQ(iconv_charset(""), "UTF-8");
}

TEST(SubtitleCharset, AWronglyDeclaredCharsetIsAnErrorNotMojibake) {
  // GBK bytes declared as UTF-8.
  const std::string msg = test::expect_error([] { to_utf8("ok \xD6\xD0\xCE\xC4", "utf-8", "zh.srt"); }, ErrorCode::ResourceContentBad,
                                             {"zh.srt", "UTF-8", "offset 3", "D6"});
  // Latin-1 "ñ" declared as Shift-JIS: 0xF1 is no Shift-JIS lead byte.
  test::expect_error([] { to_utf8("Espa\xF1ol", "shift-jis", "es.srt"); }, ErrorCode::ResourceContentBad, {"es.srt", "SHIFT_JIS"});
  test::expect_error([] { to_utf8("x", "no-such-charset", "a.srt"); }, ErrorCode::OutOfRange, {"a.srt", "no-such-charset"});
}

TEST(SubtitleFiles, MissingBinaryAndWrongCharsetFilesFailNamingTheFile) {
  test::TempDir dir;
  test::expect_error([&] { load_subtitles(dir.path / "none.srt", "utf-8"); }, ErrorCode::ResourceNotFound, {"none.srt"});
  test::write_file(dir.path / "image.srt", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  test::expect_error([&] { load_subtitles(dir.path / "image.srt", "utf-8"); }, ErrorCode::ResourceContentBad,
                     {"image.srt", "not a subtitle file"});
  test::write_file(dir.path / "gbk.srt", "1\n00:00:01,000 --> 00:00:02,000\n\xD6\xD0\xCE\xC4\n");
  test::expect_error([&] { load_subtitles(dir.path / "gbk.srt", "utf-8"); }, ErrorCode::ResourceContentBad, {"gbk.srt", "UTF-8"});
  EXPECT_EQ(load_subtitles(dir.path / "gbk.srt", "GBK").cues.at(0).text, "中文");
}

TEST(SubtitleText, AClipGetsItsCuesOnItsOwnTimeline) {
  std::vector<Cue> cues{Cue{0, 1000, "before"}, Cue{1500, 3500, "across the start"}, Cue{5000, 6000, "inside"},
                        Cue{9500, 12000, "across the end"}, Cue{12000, 13000, "after"}};
  const auto c = clip_cues(cues, 2000, 10000);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].start_ms, 0);
  EXPECT_EQ(c[0].end_ms, 1500);
  EXPECT_EQ(c[1].start_ms, 3000);
  EXPECT_EQ(c[1].text, "inside");
  EXPECT_EQ(c[2].end_ms, 8000);
}

TEST(SubtitleText, AssAndPlainForms) {
  EXPECT_EQ(ass_text("<i>a</i> &lt;b&gt; {x}\nc"), "{\\i1}a{\\i0} <b> (x)\\Nc");
  EXPECT_EQ(plain_text("<b>a</b> &amp; b"), "a & b");
  const std::string script = render_ass_script(parse_subtitles("1\n00:00:00,5 --> 00:00:01,25\n<i>Hi</i>\n", "s.srt"), BurnStyle{}, 320, 180);
  EXPECT_TRUE(test::contains(script, "PlayResX: 320\nPlayResY: 180"));
  EXPECT_TRUE(test::contains(script, "Style: Default,DejaVu Sans,12,"));  // 180 / 18 = 10, at least 12
  EXPECT_TRUE(test::contains(script, "Dialogue: 0,0:00:00.50,0:00:01.25,Default,,0,0,0,,{\\i1}Hi{\\i0}"));
  Cue c;
  c.text = "a\nb";
  EXPECT_EQ(ass_event_for_encoder(c, 4, false), "4,0,Default,,0,0,0,,a\\Nb");
}

TEST(SubtitleText, WebVttSegmentsHoldOverlappingCuesWhole) {
  std::vector<Cue> cues(3);
  cues[0] = Cue{0, 1000, "a"};
  cues[1] = Cue{5000, 7000, "b"};
  cues[2] = Cue{7000, 8000, "c &amp; d"};
  EXPECT_EQ(plan::render_webvtt(cues, 0, 6000, 126000),
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00:00.000 --> 00:00:01.000\na\n\n"
            "00:00:05.000 --> 00:00:07.000\nb\n");
  EXPECT_EQ(plan::render_webvtt(cues, 6000, 12000, -1),
            "WEBVTT\n\n00:00:05.000 --> 00:00:07.000\nb\n\n00:00:07.000 --> 00:00:08.000\nc &amp; d\n");
  EXPECT_EQ(plan::render_webvtt(cues, 9000, 12000, -1), "WEBVTT\n");
  EXPECT_EQ(plan::vtt_time(3723004), "01:02:03.004");
  EXPECT_EQ(bcp47_language("eng"), "en");
  EXPECT_EQ(bcp47_language("ger"), "de");
  EXPECT_EQ(bcp47_language("tlh"), "tlh");
}

TEST(SubtitleMaster, SubtitleGroupIsListedOnceAndNamedByEveryVariant) {
  plan::Variant a, b;
  a.uri = "a.m3u8";
  b.uri = "b.m3u8";
  a.bandwidth = b.bandwidth = 1000;
  plan::SubtitleRendition en{"subs", "English", "en", "a_subs0_eng.m3u8", true};
  plan::SubtitleRendition es{"subs", "Español", "es", "a_subs1_spa.m3u8", false};
  a.subtitles = {en, es};
  b.subtitles = {en, es};
  b.subtitles[0].uri = "b_subs0_eng.m3u8";
  const std::string m = plan::render_master_playlist({a, b});
  EXPECT_TRUE(test::contains(m, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,"
                                "AUTOSELECT=YES,FORCED=NO,URI=\"a_subs0_eng.m3u8\"\n"));
  EXPECT_TRUE(test::contains(m, "NAME=\"Español\",LANGUAGE=\"es\",DEFAULT=NO"));
  EXPECT_FALSE(test::contains(m, "b_subs0_eng.m3u8"));
  EXPECT_TRUE(test::contains(m, "AVERAGE-BANDWIDTH=0,SUBTITLES=\"subs\"\na.m3u8\n"));
  EXPECT_TRUE(test::contains(m, "SUBTITLES=\"subs\"\nb.m3u8\n"));
}

TEST(SubtitleSpecs, CommandLineForm) {
  SubtitleSpec s = parse_subtitle_option("dir/zh.srt:charset=gbk,mode=burn,font_size=30");
  EXPECT_EQ(s.path, fs::path("dir/zh.srt"));
  EXPECT_EQ(s.charset, "gbk");
  EXPECT_EQ(s.mode, SubtitleMode::burn);
  EXPECT_EQ(s.font_size, 30);
  s = parse_subtitle_option("es.srt:lang=spa");
  EXPECT_EQ(s.lang, "spa");
  EXPECT_EQ(s.mode, SubtitleMode::soft);
  EXPECT_EQ(parse_subtitle_option("C:odd:name.srt").path, fs::path("C:odd:name.srt"));  // no known keys: all path
  test::expect_error<SpecError>([] { parse_subtitle_option("a.srt:lang=english"); }, ErrorCode::OutOfRange, {"lang", "english"});
  test::expect_error<SpecError>([] { parse_subtitle_option("a.srt:mode=glue"); }, ErrorCode::OutOfRange, {"mode"});
  test::expect_error<SpecError>([] { parse_subtitle_option("a.srt:lang=eng,colour=red"); }, ErrorCode::InvalidKey, {"colour"});
  test::expect_error<SpecError>([] { parse_subtitle_option("a.srt:font_size=20"); }, ErrorCode::Incompatible, {"burn"});
}

TEST(SubtitleSpecs, JobFileTablesRoundTrip) {
  test::TempDir dir;
  test::write_file(dir.path / "job.toml",
                   "[input]\npath = \"in.mp4\"\n[[outputs]]\npath = \"out.mp4\"\n"
                   "[[outputs.subtitles]]\npath = \"subs/en.srt\"\nlang = \"eng\"\n"
                   "[[outputs.subtitles]]\npath = \"/abs/zh.ass\"\ncharset = \"big5\"\nmode = \"burn\"\nfont = \"DejaVu Serif\"\nfont_size = 24\n");
  Job job = load_job(dir.path / "job.toml");
  ASSERT_EQ(job.outputs.at(0).subtitles.size(), 2u);
  const auto& a = job.outputs[0].subtitles[0];
  EXPECT_EQ(a.path, (dir.path / "subs/en.srt").lexically_normal());
  EXPECT_EQ(a.lang, "eng");
  EXPECT_EQ(a.mode, SubtitleMode::soft);
  const auto& b = job.outputs[0].subtitles[1];
  EXPECT_EQ(b.charset, "big5");
  EXPECT_EQ(b.mode, SubtitleMode::burn);
  EXPECT_EQ(b.font_size, 24);
  // Written back (the job store, Slurm) and read again: the same.
  std::ostringstream text;
  text << job_to_table(job);
  test::write_file(dir.path / "again.toml", text.str());
  Job again = load_job(dir.path / "again.toml");
  ASSERT_EQ(again.outputs.at(0).subtitles.size(), 2u);
  EXPECT_EQ(again.outputs[0].subtitles[1].font, "DejaVu Serif");
  EXPECT_EQ(again.outputs[0].subtitles[0].path, a.path);

  test::write_file(dir.path / "bad.toml", "[input]\npath = \"in.mp4\"\n[[outputs]]\npath = \"out.mp4\"\n[[outputs.subtitles]]\npath = \"a.srt\"\nmode = \"hard\"\n");
  test::expect_error<SpecError>([&] { load_job(dir.path / "bad.toml"); }, ErrorCode::OutOfRange, {"outputs[0].subtitles[0].mode"});
  test::write_file(dir.path / "bad2.toml", "[input]\npath = \"in.mp4\"\n[[outputs]]\npath = \"out.mp4\"\n[[outputs.subtitles]]\nfile = \"a.srt\"\n");
  test::expect_error<SpecError>([&] { load_job(dir.path / "bad2.toml"); }, ErrorCode::InvalidKey, {"subtitles[0]"});
}
