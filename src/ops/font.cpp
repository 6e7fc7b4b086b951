// Font lookup: the only place that includes fontconfig. Text watermarks name a font
// file or a family; drawtext is always given a file, so every worker and rank renders
// with the same one and a family that is not installed is an error, not a silent
// substitute.
#include <fontconfig/fontconfig.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <set>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "ops/watermark.hpp"

namespace gopcast::ops {

namespace {
struct PatternDeleter {
  void operator()(FcPattern* p) const { FcPatternDestroy(p); }
};
using PatternPtr = std::unique_ptr<FcPattern, PatternDeleter>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
}  // namespace

std::string find_font_file(const std::string& font, const std::string& origin) {
  const bool is_file = font.find('/') != std::string::npos || font.ends_with(".ttf") || font.ends_with(".otf") ||
                       font.ends_with(".ttc") || font.ends_with(".TTF") || font.ends_with(".OTF");
  if (is_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(font, ec))
      fail<SpecError>(ErrorCode::ResourceNotFound, "{}: font: {} does not exist", origin, font);
    return font;
  }
  if (!FcInit()) fail(ErrorCode::Internal, "{}: fontconfig: FcInit failed", origin);
  PatternPtr pattern(FcNameParse(reinterpret_cast<const FcChar8*>(font.c_str())));
  if (!pattern) fail<SpecError>(ErrorCode::OutOfRange, "{}: font: \"{}\" is not a fontconfig font name", origin, font);
  FcConfigSubstitute(nullptr, pattern.get(), FcMatchPattern);
  FcDefaultSubstitute(pattern.get());
  FcResult result = FcResultNoMatch;
  PatternPtr match(FcFontMatch(nullptr, pattern.get(), &result));
  const std::string wanted = lower(font.substr(0, font.find(':')));
  FcChar8* file = nullptr;
  bool same_family = false;
  if (match) {
    FcChar8* family = nullptr;
    for (int i = 0; FcPatternGetString(match.get(), FC_FAMILY, i, &family) == FcResultMatch; ++i)
      same_family = same_family || lower(reinterpret_cast<const char*>(family)) == wanted;
    FcPatternGetString(match.get(), FC_FILE, 0, &file);
  }
  if (!same_family || !file)
    fail<SpecError>(ErrorCode::ResourceNotFound, "{}: font: no font family \"{}\" is installed (fc-list lists them; or give a font file)",
                    origin, font);
  return reinterpret_cast<const char*>(file);
}

std::vector<char32_t> missing_glyphs(const std::string& family, std::string_view text) {
  // The text's code points, markup aside; the input is valid UTF-8 (subtitles are converted on reading).
  std::vector<char32_t> chars;
  std::set<char32_t> seen;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '<' && text.find('>', i) != std::string_view::npos) {
      i = text.find('>', i) + 1;
      continue;
    }
    if (c == '&' && text.find(';', i) != std::string_view::npos && text.find(';', i) - i <= 8) {
      i = text.find(';', i) + 1;
      continue;
    }
    const int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    char32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (int k = 1; k < n && i + static_cast<size_t>(k) < text.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(text[i + static_cast<size_t>(k)]) & 0x3f);
    i += static_cast<size_t>(n);
    if (cp > 0x20 && cp != 0x7f && seen.insert(cp).second) chars.push_back(cp);
  }
  if (chars.empty()) return {};
  if (!FcInit()) fail(ErrorCode::Internal, "fontconfig: FcInit failed");
  PatternPtr pattern(FcNameParse(reinterpret_cast<const FcChar8*>(family.c_str())));
  if (!pattern) return {};
  FcConfigSubstitute(nullptr, pattern.get(), FcMatchPattern);
  FcDefaultSubstitute(pattern.get());
  FcResult result = FcResultNoMatch;
  FcCharSet* covered = nullptr;
  FcFontSet* fonts = FcFontSort(nullptr, pattern.get(), FcTrue, &covered, &result);
  std::vector<char32_t> missing;
  for (char32_t cp : chars)
    if (!covered || !FcCharSetHasChar(covered, static_cast<FcChar32>(cp))) missing.push_back(cp);
  if (covered) FcCharSetDestroy(covered);
  if (fonts) FcFontSetDestroy(fonts);
  return missing;
}

}  // namespace gopcast::ops
