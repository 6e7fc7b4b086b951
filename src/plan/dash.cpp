#include "plan/dash.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace gopcast::plan {

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string dollars_escaped(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '$' ? std::string("$$") : std::string(1, c);
  return out;
}

// <S t d r> runs: repeated equal durations collapse into one element.
std::string timeline(const DashRepresentation& r) {
  std::string s;
  const size_t n = r.starts.size();
  size_t i = 0;
  while (i < n) {
    const int64_t d = (i + 1 < n ? r.starts[i + 1] : r.end) - r.starts[i];
    size_t j = i + 1;
    while (j < n && (j + 1 < n ? r.starts[j + 1] : r.end) - r.starts[j] == d) ++j;
    s += fmt::format("            <S t=\"{}\" d=\"{}\"", r.starts[i], d);
    if (j - i > 1) s += fmt::format(" r=\"{}\"", j - i - 1);
    s += "/>\n";
    i = j;
  }
  return s;
}

std::string frame_rate(const DashRepresentation& r) {
  if (r.frame_rate_num <= 0 || r.frame_rate_den <= 0) return {};
  return r.frame_rate_den == 1 ? std::to_string(r.frame_rate_num) : fmt::format("{}/{}", r.frame_rate_num, r.frame_rate_den);
}

}  // namespace

std::string dash_media_template(const std::string& prefix, int digits, const std::string& suffix) {
  return dollars_escaped(prefix) + fmt::format("$Number%0{}d$", digits) + dollars_escaped(suffix);
}

std::string iso_duration(double seconds) { return fmt::format("PT{:.3f}S", std::max(seconds, 0.0)); }

std::string render_mpd(const std::vector<DashRepresentation>& reps, double min_buffer_seconds) {
  // The presentation runs from the earliest first sample of any track to the latest end.
  double earliest = -1, latest = 0;
  for (const auto& r : reps) {
    if (r.starts.empty() || r.timescale <= 0) continue;
    const double first = static_cast<double>(r.starts.front()) / static_cast<double>(r.timescale);
    earliest = earliest < 0 ? first : std::min(earliest, first);
    latest = std::max(latest, static_cast<double>(r.end) / static_cast<double>(r.timescale));
  }
  earliest = std::max(earliest, 0.0);
  const double duration = latest - earliest;
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += fmt::format(
      "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" "
      "mediaPresentationDuration=\"{}\" minBufferTime=\"{}\">\n",
      iso_duration(duration), iso_duration(min_buffer_seconds));
  s += "  <Period id=\"0\" start=\"PT0S\">\n";
  int set = 0;
  for (const DashContent content : {DashContent::video, DashContent::audio}) {
    const bool video = content == DashContent::video;
    int max_w = 0, max_h = 0, count = 0;
    for (const auto& r : reps) {
      if (r.content != content) continue;
      ++count;
      max_w = std::max(max_w, r.width);
      max_h = std::max(max_h, r.height);
    }
    if (count == 0) continue;
    s += fmt::format("    <AdaptationSet id=\"{}\" contentType=\"{}\" mimeType=\"{}\" segmentAlignment=\"true\" startWithSAP=\"1\"", set++,
                     video ? "video" : "audio", video ? "video/mp4" : "audio/mp4");
    if (video && max_w > 0) s += fmt::format(" maxWidth=\"{}\" maxHeight=\"{}\"", max_w, max_h);
    s += ">\n";
    for (const auto& r : reps) {
      if (r.content != content) continue;
      s += fmt::format("      <Representation id=\"{}\" bandwidth=\"{}\"", xml_escape(r.id), r.bandwidth);
      if (!r.codecs.empty()) s += fmt::format(" codecs=\"{}\"", xml_escape(r.codecs));
      if (video && r.width > 0) s += fmt::format(" width=\"{}\" height=\"{}\"", r.width, r.height);
      if (const std::string fr = frame_rate(r); video && !fr.empty()) s += fmt::format(" frameRate=\"{}\"", fr);
      if (!video && r.sample_rate > 0) s += fmt::format(" audioSamplingRate=\"{}\"", r.sample_rate);
      s += ">\n";
      if (!video && r.channels > 0)
        s += fmt::format(
            "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{}\"/>\n",
            r.channels);
      const auto offset = static_cast<int64_t>(std::llround(earliest * static_cast<double>(r.timescale)));
      s += fmt::format(
          "        <SegmentTemplate timescale=\"{}\" presentationTimeOffset=\"{}\" startNumber=\"0\" initialization=\"{}\" "
          "media=\"{}\">\n",
          r.timescale, offset, xml_escape(dollars_escaped(r.init_uri)), xml_escape(r.media_template));
      s += "          <SegmentTimeline>\n" + timeline(r) + "          </SegmentTimeline>\n";
      s += "        </SegmentTemplate>\n      </Representation>\n";
    }
    s += "    </AdaptationSet>\n";
  }
  s += "  </Period>\n</MPD>\n";
  return s;
}

}  // namespace gopcast::plan
