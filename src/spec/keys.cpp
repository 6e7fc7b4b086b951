#include "spec/keys.hpp"

#include <charconv>
#include <cmath>

#include "crypto/crypto.hpp"

namespace gopcast::spec {

namespace {

template <typename T>
std::string range_text(T min, T max) {
  return fmt::format("{}..{}", min, max);
}

KeySpec key(std::string group, std::string name, std::string values, std::string doc, std::string python) {
  KeySpec k;
  k.group = std::move(group);
  k.name = std::move(name);
  k.values = std::move(values);
  k.doc = std::move(doc);
  k.python = std::move(python);
  return k;
}

template <typename Get>
KeySpec boolean(std::string group, std::string name, Get get, std::string doc) {
  KeySpec k = key(group, name, "bool", std::move(doc), "bool");
  k.read = [name, get](TableReader& r, Template& t) {
    if (auto v = r.boolean(name)) get(t) = *v;
  };
  k.write = [name, get](const Template& t, toml::table& out) { out.insert(name, get(const_cast<Template&>(t))); };
  return k;
}

// An int or a number (`Scalar`) in [min, max]; optional ones are written only when set
// and read as None when absent.
template <typename Scalar, typename Get>
KeySpec ranged(std::string group, std::string name, Scalar min, Scalar max, Get get, std::string doc) {
  using V = std::remove_reference_t<decltype(get(std::declval<Template&>()))>;
  constexpr bool optional = !std::is_same_v<V, Scalar>;
  const std::string py = std::is_same_v<Scalar, int> ? "int" : "float";
  KeySpec k = key(group, name, range_text(min, max), std::move(doc), optional ? py + " | None" : py);
  k.read = [name, min, max, get](TableReader& r, Template& t) {
    if constexpr (std::is_same_v<Scalar, int>) {
      if (auto v = r.integer(name, min, max)) get(t) = static_cast<int>(*v);
    } else {
      if (auto v = r.number(name, min, max)) get(t) = *v;
    }
  };
  k.write = [name, get](const Template& t, toml::table& out) {
    const auto& v = get(const_cast<Template&>(t));
    if constexpr (optional) {
      if (v) out.insert(name, *v);
    } else {
      out.insert(name, v);
    }
  };
  return k;
}
template <typename Get>
KeySpec integer(std::string group, std::string name, int min, int max, Get get, std::string doc) {
  return ranged<int>(std::move(group), std::move(name), min, max, get, std::move(doc));
}
template <typename Get>
KeySpec number(std::string group, std::string name, double min, double max, Get get, std::string doc) {
  return ranged<double>(std::move(group), std::move(name), min, max, get, std::move(doc));
}

template <typename Get>
KeySpec text(std::string group, std::string name, std::string values, Get get, std::string doc) {
  KeySpec k = key(group, name, std::move(values), std::move(doc), "str");
  k.read = [name, get](TableReader& r, Template& t) {
    if (auto v = r.string(name)) get(t) = *v;
  };
  k.write = [name, get](const Template& t, toml::table& out) { out.insert(name, get(const_cast<Template&>(t))); };
  return k;
}

template <typename Get>
KeySpec choice(std::string group, std::string name, std::vector<std::string> choices, Get get, std::string doc) {
  std::string values;
  for (const auto& c : choices) values += (values.empty() ? "" : " | ") + (c.empty() ? std::string("\"\"") : c);
  KeySpec k = key(group, name, values, std::move(doc), "str");
  k.read = [name, choices, get](TableReader& r, Template& t) {
    auto v = r.string(name);
    if (!v) return;
    if (std::find(choices.begin(), choices.end(), *v) == choices.end()) {
      std::string list;
      for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
      r.fail_at(name, ErrorCode::OutOfRange, fmt::format("\"{}\" is not one of {}", *v, list));
    }
    get(t) = *v;
  };
  k.write = [name, get](const Template& t, toml::table& out) { out.insert(name, get(const_cast<Template&>(t))); };
  return k;
}

// One of an enum's names (its table); codecs and containers read in any case.
template <typename E, typename Get>
KeySpec enumerated(std::string group, std::string name, bool fold_case, Get get, std::string doc) {
  KeySpec k = key(group, name, enum_names(E{}).list(" | "), std::move(doc), "str");
  k.read = [name, fold_case, get](TableReader& r, Template& t) {
    if (auto v = r.enumerated<E>(name, fold_case)) get(t) = *v;
  };
  k.write = [name, get](const Template& t, toml::table& out) { out.insert(name, std::string(to_string(get(const_cast<Template&>(t))))); };
  return k;
}

// A rate in kbit/s where 0 clears an inherited value, so `--set video.bitrate=0 --set
// video.crf=20` turns a bitrate preset into a quality-based one.
template <typename Get>
KeySpec kbits(std::string name, int64_t max, Get get, std::string doc) {
  KeySpec k = key("video", name, fmt::format("10..{}, 0 = none", max), std::move(doc), "int | None");
  k.read = [name, max, get](TableReader& r, Template& t) {
    auto v = r.integer(name, 0, max);
    if (!v) return;
    if (*v != 0 && *v < 10) r.fail_at(name, ErrorCode::OutOfRange, fmt::format("{} is out of range 10..{} (0 = none)", *v, max));
    get(t) = *v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  };
  k.write = [name, get](const Template& t, toml::table& out) {
    if (const auto& v = get(const_cast<Template&>(t))) out.insert(name, *v);
  };
  return k;
}

// Frame rates: 25, 29.97, "30000/1001". NTSC-style decimals map to their exact rationals.
Rational parse_fps(TableReader& r, std::string_view key) {
  const toml::node* n = r.raw(key);
  if (auto s = n->as_string()) {
    const std::string& text = s->get();
    auto slash = text.find('/');
    int num = 0, den = 1;
    bool ok = false;
    if (slash != std::string::npos) {
      auto r1 = std::from_chars(text.data(), text.data() + slash, num);
      auto r2 = std::from_chars(text.data() + slash + 1, text.data() + text.size(), den);
      ok = r1.ec == std::errc() && r1.ptr == text.data() + slash && r2.ec == std::errc() && r2.ptr == text.data() + text.size() &&
           den > 0;
    }
    if (!ok) r.fail_at(key, ErrorCode::InvalidKey, fmt::format("\"{}\" is not a frame rate (use 25, 29.97 or \"30000/1001\")", text));
    const double value = static_cast<double>(num) / den;
    if (!(value >= 1 && value <= 120)) r.fail_at(key, ErrorCode::OutOfRange, fmt::format("{} is out of range 1..120", text));
    return Rational{num, den};
  }
  const double value = *r.number(key, 1, 120);
  for (int base : {24, 30, 60, 120}) {
    const double ntsc = base * 1000.0 / 1001.0;
    if (std::abs(value - ntsc) < 0.006) return Rational{base * 1000, 1001};
  }
  if (std::floor(value) == value) return Rational{static_cast<int>(value), 1};
  return Rational{static_cast<int>(std::lround(value * 1000)), 1000};
}

std::vector<KeySpec> build() {
  std::vector<KeySpec> keys;
  auto add = [&](KeySpec k) { keys.push_back(std::move(k)); };

  add(text("", "name", "text", [](Template& t) -> std::string& { return t.name; }, "shown in results; default: the file name"));
  add(text("", "description", "text", [](Template& t) -> std::string& { return t.description; }, "free text"));

  add(enumerated<Container>("container", "format", true, [](Template& t) -> Container& { return t.container; },
                            "the output's container"));

  const std::string v = "video";
  add(enumerated<VideoCodec>(v, "codec", true, [](Template& t) -> VideoCodec& { return t.video.codec; },
                             "the encoder (copy keeps the source's packets)"));
  add(boolean(v, "remove", [](Template& t) -> bool& { return t.video.remove; }, "drop the video"));
  add(choice(v, "profile", {"", "baseline", "main", "high", "high10", "high422", "high444", "main10", "main444-8"},
             [](Template& t) -> std::string& { return t.video.profile; },
             "encoder profile (baseline ... high444 for H.264, main main10 main444-8 for H.265); \"\" = the encoder's default"));
  add(choice(v, "preset", {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"},
             [](Template& t) -> std::string& { return t.video.preset; }, "x264/x265 speed/efficiency preset"));
  add(integer(v, "crf", 0, 51, [](Template& t) -> std::optional<int>& { return t.video.crf; },
              "constant quality (23 when no other rate control is given)"));
  add(integer(v, "qp", 0, 51, [](Template& t) -> std::optional<int>& { return t.video.qp; }, "constant quantiser; 0 is lossless"));
  add(kbits("bitrate", 100000, [](Template& t) -> std::optional<int>& { return t.video.bitrate; }, "average bitrate, kbit/s"));
  add(kbits("maxrate", 100000, [](Template& t) -> std::optional<int>& { return t.video.maxrate; }, "VBV peak rate, kbit/s"));
  add(kbits("bufsize", 200000, [](Template& t) -> std::optional<int>& { return t.video.bufsize; }, "VBV buffer, kbit"));
  add(integer(v, "width", 16, 8192, [](Template& t) -> std::optional<int>& { return t.video.width; },
              "only width or height: the other follows the aspect ratio"));
  add(integer(v, "height", 16, 8192, [](Template& t) -> std::optional<int>& { return t.video.height; }, "the output's height"));
  {
    KeySpec k = key(v, "fps", "1..120: 25, 29.97, \"30000/1001\"", "output frame rate (None: the source's timing)",
                    "int | float | str | None");
    k.read = [](TableReader& r, Template& t) {
      if (r.raw("fps")) t.video.fps = parse_fps(r, "fps");
    };
    k.write = [](const Template& t, toml::table& out) {
      if (!t.video.fps) return;
      if (t.video.fps->den == 1) out.insert("fps", t.video.fps->num);
      else out.insert("fps", fmt::format("{}/{}", t.video.fps->num, t.video.fps->den));
    };
    add(std::move(k));
  }
  {
    KeySpec k = key(v, "gop", "frames 1..10000, or seconds \"0.1s\"..\"60s\"", "the longest keyframe interval", "int | str | None");
    k.read = [](TableReader& r, Template& t) {
      const toml::node* gop = r.raw("gop");
      if (!gop) return;
      if (auto s = gop->as_string()) {
        const std::string& text = s->get();
        double secs = 0;
        auto res = std::from_chars(text.data(), text.data() + text.size(), secs);
        if (res.ec != std::errc() || std::string_view(res.ptr) != "s")
          r.fail_at("gop", ErrorCode::InvalidKey, fmt::format("\"{}\" is not a GOP (use a frame count or seconds such as \"2s\")", text));
        if (!(secs >= 0.1 && secs <= 60)) r.fail_at("gop", ErrorCode::OutOfRange, fmt::format("{} is out of range 0.1s..60s", text));
        t.video.gop_seconds = secs;
      } else {
        t.video.gop_frames = static_cast<int>(*r.integer("gop", 1, 10000));
      }
    };
    k.write = [](const Template& t, toml::table& out) {
      if (t.video.gop_frames) out.insert("gop", *t.video.gop_frames);
      if (t.video.gop_seconds) out.insert("gop", fmt::format("{}s", *t.video.gop_seconds));
    };
    add(std::move(k));
  }
  add(text(v, "pix_fmt", "a libav pixel format, \"\"", [](Template& t) -> std::string& { return t.video.pix_fmt; },
           "pixel format; \"\" = the source's"));
  add(integer(v, "threads", 0, 64, [](Template& t) -> int& { return t.video.threads; }, "encoder threads, 0 = automatic"));
  {
    KeySpec k = key(v, "rotate", "0 | 90 | 180 | 270", "degrees clockwise, after the source is made upright", "int");
    k.read = [](TableReader& r, Template& t) {
      if (auto n = r.integer("rotate", 0, 270)) {
        if (*n % 90 != 0) r.fail_at("rotate", ErrorCode::OutOfRange, "expected 0, 90, 180 or 270 (degrees clockwise)");
        t.video.rotate = static_cast<int>(*n);
      }
    };
    k.write = [](const Template& t, toml::table& out) { out.insert("rotate", t.video.rotate); };
    add(std::move(k));
  }

  const std::string a = "audio";
  add(enumerated<AudioCodec>(a, "codec", true, [](Template& t) -> AudioCodec& { return t.audio.codec; }, "the encoder"));
  add(boolean(a, "remove", [](Template& t) -> bool& { return t.audio.remove; }, "drop the audio"));
  add(integer(a, "bitrate", 8, 1024, [](Template& t) -> std::optional<int>& { return t.audio.bitrate; },
              "kbit/s (None: 96 mono, 128 stereo)"));
  add(integer(a, "sample_rate", 8000, 192000, [](Template& t) -> std::optional<int>& { return t.audio.sample_rate; },
              "Hz (None: the source's, or the nearest the encoder supports)"));
  add(integer(a, "channels", 1, 2, [](Template& t) -> std::optional<int>& { return t.audio.channels; },
              "1 or 2 (None: the source's, at most 2)"));
  add(number(a, "loudness", -70, -5, [](Template& t) -> std::optional<double>& { return t.audio.loudness; },
             "EBU R128 integrated loudness to normalise to, LUFS (None: as it is)"));
  add(number(a, "true_peak", -9, 0, [](Template& t) -> double& { return t.audio.true_peak; }, "dBTP ceiling of the loudness gain"));

  const std::string tr = "trans";
  add(enumerated<RateMode>(tr, "mode", false, [](Template& t) -> RateMode& { return t.trans.mode; },
                           "rate control passes (twopass and cbr need video.bitrate)"));
  add(boolean(tr, "no_upscale", [](Template& t) -> bool& { return t.trans.no_upscale; }, "never enlarge the picture beyond the source"));
  add(boolean(tr, "cap_video_bitrate", [](Template& t) -> bool& { return t.trans.cap_video_bitrate; },
              "never exceed the source's video bitrate"));
  add(boolean(tr, "cap_audio_bitrate", [](Template& t) -> bool& { return t.trans.cap_audio_bitrate; },
              "never exceed the source's audio bitrate"));
  add(enumerated<AspectMode>(tr, "aspect", false, [](Template& t) -> AspectMode& { return t.trans.aspect; },
                             "when both width and height are given: fit, fill and cut, fit with bars, stretch"));

  const std::string m = "mux";
  add(number(m, "hls_segment_seconds", 1, 60, [](Template& t) -> double& { return t.mux.hls_segment_seconds; },
             "HLS target duration, seconds; keyframes are forced on this grid"));
  add(integer(m, "gif_loop", -1, 65535, [](Template& t) -> int& { return t.mux.gif_loop; }, "-1 play once, 0 forever, N repeats"));
  add(integer(m, "gif_final_delay", 0, 65535, [](Template& t) -> int& { return t.mux.gif_final_delay; },
              "centiseconds to hold the last frame"));
  add(boolean(m, "faststart", [](Template& t) -> bool& { return t.mux.faststart; }, "MP4/MOV: the index (moov) before the media data"));

  const std::string h = "hls";
  add(enumerated<HlsEncryption>(h, "encryption", false, [](Template& t) -> HlsEncryption& { return t.hls.encryption; },
                                "AES-128 encryption of every segment (m3u8 outputs)"));
  {
    KeySpec k = key(h, "key", "32 hex digits, \"\"", "a 128-bit AES key; \"\" = random keys", "str");
    k.read = [](TableReader& r, Template& t) {
      auto s = r.string("key");
      if (!s) return;
      try {
        // Decoded once, here: the plan carries the key's bytes.
        if (!s->empty()) t.hls.key = crypto::block_from_hex(*s, "key");
        else t.hls.key.reset();
      } catch (const Error&) {
        r.fail_at("key", ErrorCode::OutOfRange, "expected 32 hex digits (a 128-bit AES key)");
      }
    };
    k.write = [](const Template& t, toml::table& out) { out.insert("key", t.hls.key ? crypto::to_hex(*t.hls.key) : std::string()); };
    add(std::move(k));
  }
  {
    KeySpec k = key(h, "key_uri", "text with {key}, {index}", "the URI written into EXT-X-KEY; {key} = key file name, {index} = key number",
                    "str");
    k.read = [](TableReader& r, Template& t) {
      auto s = r.string("key_uri");
      if (!s) return;
      if (s->empty() || s->find_first_of("\"\r\n") != std::string::npos)
        r.fail_at("key_uri", ErrorCode::OutOfRange, "must be non-empty and hold no quote or line break");
      t.hls.key_uri = *s;
    };
    k.write = [](const Template& t, toml::table& out) { out.insert("key_uri", t.hls.key_uri); };
    add(std::move(k));
  }
  add(text(h, "key_dir", "a folder, \"\"", [](Template& t) -> std::string& { return t.hls.key_dir; },
           "where key files go: \"\" = beside the playlist, else a folder relative to the output's"));
  add(integer(h, "key_rotation", 0, 1000000, [](Template& t) -> int& { return t.hls.key_rotation; },
              "segments per key; 0 = one key for the whole output"));
  add(enumerated<HlsPlaylistType>(h, "playlist", false, [](Template& t) -> HlsPlaylistType& { return t.hls.playlist; },
                                  "event: the playlist grows while encoding"));
  add(enumerated<HlsSegmentFormat>(h, "segments", false, [](Template& t) -> HlsSegmentFormat& { return t.hls.segments; },
                                   "fmp4: CMAF fragments after one init segment"));
  add(boolean(h, "dash", [](Template& t) -> bool& { return t.hls.dash; }, "also an MPEG-DASH manifest (.mpd) over the same fMP4 segments"));
  return keys;
}

}  // namespace

const std::vector<KeySpec>& template_keys() {
  static const std::vector<KeySpec> keys = build();
  return keys;
}

const std::vector<std::string>& template_groups() {
  static const std::vector<std::string> groups = {"container", "video", "audio", "trans", "mux", "hls"};
  return groups;
}

const KeySpec* find_template_key(std::string_view dotted) {
  for (const auto& k : template_keys())
    if (k.dotted() == dotted) return &k;
  return nullptr;
}

}  // namespace gopcast::spec
