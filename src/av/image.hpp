#pragma once
// Still images: one packed RGB picture encoded as a JPEG (libav's mjpeg) or PNG file.
#include <cstdint>
#include <filesystem>
#include <string>

#include "av/handles.hpp"

namespace gopcast::av {

enum class ImageCodec { Jpeg, Png };

// The bytes of an image file for `width` x `height` rgb24 pixels (3 * width bytes per
// row, no padding). JPEG: 4:2:0, full range, BT.601, `quality` 1..100 mapped onto the
// encoder's qscale 31..2 (the ffmpeg tool's `-q:v`); PNG ignores `quality` (lossless).
std::string encode_image(const uint8_t* rgb, int width, int height, ImageCodec codec, int quality);

// Image files read (watermarks): a still image that libavformat's image demuxers
// read (PNG, JPEG, BMP, WebP, TIFF...). Missing files raise ResourceNotFound; anything
// else (text, a video, an empty file) ResourceContentBad.
struct ImageSize {
  int width = 0;
  int height = 0;
};
ImageSize probe_image(const std::filesystem::path& path);
// The decoded picture in its own pixel format (alpha kept).
FramePtr read_image(const std::filesystem::path& path);

// Whether libavutil reads `text` as a colour ("white", "#ff8800", "0xff8800").
bool is_colour(const std::string& text);

// qscale (2 best .. 31 worst) for a quality of 1..100: pure, for docs and tests.
int jpeg_qscale(int quality);

}  // namespace gopcast::av
