// Font lookup: the only place that includes fontconfig. Text watermarks name a font
// file or a family; drawtext is always given a file, so every worker and rank renders
// with the same one and a family that is not installed is an error, not a silent
// substitute.
#include <fontconfig/fontconfig.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

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

}  // namespace gopcast::ops
