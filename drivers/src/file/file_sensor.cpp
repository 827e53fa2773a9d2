// SPDX-License-Identifier: Apache-2.0
// The file sensor: replays a folder of images (sorted by file name), a data-set manifest (rows in
// manifest order, paths relative to the manifest) or one image as a frame stream. At the end of the
// stream grab() throws DeviceError(Removed) ("end of stream") unless ?loop=1 replays from the start.
// Frames are the decoded files, unchanged (16-bit files stay 16-bit).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "evaluation/manifest_csv.hpp"
#include "internal/bounded_read.hpp"
#include "internal/csv.hpp"
#include "driver_table.hpp"
#include "wait_gate.hpp"

namespace palmvein::drivers {
namespace {

namespace fs = std::filesystem;

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".pgm" || ext == ".tif" ||
         ext == ".tiff";
}

// The images a data-set manifest lists, in its order: the `path` column (relative to the manifest's
// folder) read by the one manifest/CSV reader (quoted fields, CRLF, BOM; rows checked against the
// header). Only `path` is needed: replaying does not care who the palms are.
std::vector<fs::path> manifest_paths(const fs::path& manifest, const std::string& uri) {
  std::vector<std::uint8_t> bytes;
  try {
    bytes = io::read_file_bounded(manifest, io::kMaxTextInputBytes, "manifest");
  } catch (const IoError& e) {
    throw DeviceError(DeviceFault::NotFound, "file sensor '" + uri + "': " + e.what());
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::vector<fs::path> paths;
  try {
    internal::CsvTableReader table(text, "file sensor '" + uri + "': manifest '" + manifest.string() + "'",
                                   std::string(internal::kManifestHeader));
    const std::size_t path = table.column("path");
    std::vector<std::string> row;
    while (table.next(row)) {
      if (row[path].empty()) throw FormatError(table.at() + ": empty path");
      paths.push_back(manifest.parent_path() / row[path]);
    }
  } catch (const FormatError& e) {
    throw InvalidArgument(e.what());  // a bad URI target, as for the other sensors' URI errors
  }
  return paths;
}

class FileSensor final : public Sensor {
 public:
  explicit FileSensor(const SensorUri& uri) {
    uri.reject_unknown_keys({"loop", "fps"});
    loop_ = uri.get_bool("loop", false);
    fps_ = uri.get_double("fps", 0, 0, 1000);
    name_ = "file sensor '" + uri.text + "'";
    if (uri.path.empty()) throw InvalidArgument("sensor URI '" + uri.text + "': file: needs a folder, manifest or image path");
    const fs::path path(uri.path);
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      for (const auto& entry : fs::directory_iterator(path, ec))
        if (entry.is_regular_file() && is_image_name(entry.path())) paths_.push_back(entry.path());
      std::sort(paths_.begin(), paths_.end());
      if (paths_.empty()) throw DeviceError(DeviceFault::NotFound, name_ + ": no images (png, jpg, bmp, pgm, tif) in the folder");
    } else if (fs::is_regular_file(path, ec)) {
      if (path.extension() == ".csv") paths_ = manifest_paths(path, uri.text);
      else if (is_image_name(path)) paths_.push_back(path);
      else throw InvalidArgument(name_ + ": not a folder, a .csv manifest or an image file");
      if (paths_.empty()) throw DeviceError(DeviceFault::NotFound, name_ + ": the manifest lists no images");
    } else {
      throw DeviceError(DeviceFault::NotFound, name_ + ": no such file or folder");
    }
    first_ = load(0);  // validates the first file and fixes the capabilities
    info_.uri = uri.text;
    info_.driver = "file";
    info_.name = "image replay (" + std::to_string(paths_.size()) + " frames)";
    info_.serial = "";
    info_.firmware = "";
  }

  SensorInfo info() const override { return info_; }

  SensorCapabilities capabilities() const override {
    SensorCapabilities caps;
    caps.width = first_.width();
    caps.height = first_.height();
    caps.bit_depth = first_.significant_bits();
    caps.max_fps = fps_;
    return caps;
  }

  void start() override {
    gate_.clear();
    std::lock_guard lock(mutex_);
    if (streaming_) return;
    streaming_ = true;
    clock_start_ = WaitGate::Clock::now();
    since_start_ = 0;
  }

  void stop() override {
    std::lock_guard lock(mutex_);
    streaming_ = false;
  }

  Frame grab(std::chrono::milliseconds timeout) override {
    const auto deadline = WaitGate::deadline_after(timeout);
    std::size_t index = 0;
    WaitGate::Clock::time_point due;
    {
      std::lock_guard lock(mutex_);
      if (!streaming_) throw DeviceError(DeviceFault::Io, name_ + ": grab() called before start()");
      if (next_ >= paths_.size() && !loop_)
        throw DeviceError(DeviceFault::Removed, name_ + ": end of stream after " + std::to_string(paths_.size()) +
                                                    " frames (add ?loop=1 to replay)");
      index = next_ % paths_.size();
      due = fps_ > 0 ? clock_start_ + std::chrono::duration_cast<WaitGate::Clock::duration>(
                                          std::chrono::duration<double>(since_start_ / fps_))
                     : WaitGate::Clock::time_point::min();
    }
    if (!gate_.wait(due, deadline, name_))
      throw DeviceError(DeviceFault::Timeout, name_ + ": no frame within " + std::to_string(timeout.count()) + " ms");
    Frame frame;
    frame.image = index == 0 ? first_ : load(index);
    frame.timestamp = WaitGate::Clock::now();
    std::lock_guard lock(mutex_);
    frame.counter = next_;
    ++next_;
    ++since_start_;
    return frame;
  }

  void cancel() override { gate_.cancel(); }

  void set_illumination(int, int) override {
    throw DeviceError(DeviceFault::Unsupported, name_ + ": replayed images have no illumination control");
  }
  void set_exposure(std::uint32_t, float) override {
    throw DeviceError(DeviceFault::Unsupported, name_ + ": replayed images have no exposure control");
  }

 private:
  Image load(std::size_t index) const {
    try {
      return read_image(paths_[index]);
    } catch (const Error& e) {
      throw DeviceError(DeviceFault::Io, name_ + ": frame " + std::to_string(index) + ": " + e.what());
    }
  }

  SensorInfo info_;
  std::string name_;
  std::vector<fs::path> paths_;
  Image first_;
  bool loop_ = false;
  double fps_ = 0;
  WaitGate gate_;
  std::mutex mutex_;
  bool streaming_ = false;
  std::size_t next_ = 0;
  std::uint64_t since_start_ = 0;
  WaitGate::Clock::time_point clock_start_{};
};

}  // namespace

std::unique_ptr<Sensor> open_file(const SensorUri& uri) { return std::make_unique<FileSensor>(uri); }

}  // namespace palmvein::drivers
