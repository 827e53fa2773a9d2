// SPDX-License-Identifier: Apache-2.0
// The file sensor replays folders and manifests exactly, in a documented order, and ends clearly.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "palmvein/sensor.hpp"
#include "palmvein/synthetic.hpp"

using namespace palmvein;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

class FileSensorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("palmvein-file-sensor-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    SyntheticPalm palm({5, Hand::Left, 0}, 160, 120);
    SyntheticFrameSettings s;
    s.width = 160;
    s.height = 120;
    // Written out of name order: the sensor must sort.
    for (const char* name : {"b.png", "c.png", "a.png"}) {
      frames_[name] = palm.render(frames_.size(), s);
      write_image(dir_ / name, frames_[name]);
    }
    std::ofstream(dir_ / "notes.txt") << "not an image\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::map<std::string, Image> frames_;
};

DeviceFault fault_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DeviceError& e) {
    return e.fault();
  }
  ADD_FAILURE() << "no DeviceError thrown";
  return DeviceFault::Io;
}

}  // namespace

TEST_F(FileSensorTest, ReplaysAFolderInNameOrderThenEnds) {
  auto sensor = open_sensor("file:" + dir_.string());
  EXPECT_EQ(sensor->info().driver, "file");
  EXPECT_EQ(sensor->capabilities().width, 160);
  sensor->start();
  for (const char* name : {"a.png", "b.png", "c.png"}) {
    const Frame f = sensor->grab(5s);
    EXPECT_TRUE(f.image == frames_[name]) << name;
  }
  try {
    sensor->grab(5s);
    FAIL() << "expected the end of the stream";
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.fault(), DeviceFault::Removed);
    EXPECT_NE(std::string(e.what()).find("end of stream"), std::string::npos) << e.what();
  }
}

TEST_F(FileSensorTest, LoopsWhenAsked) {
  auto sensor = open_sensor("file:" + dir_.string() + "?loop=1");
  sensor->start();
  for (int i = 0; i < 3; ++i) sensor->grab(5s);
  const Frame again = sensor->grab(5s);
  EXPECT_TRUE(again.image == frames_["a.png"]);
  EXPECT_EQ(again.counter, 3u);
}

TEST_F(FileSensorTest, ReplaysAManifestInRowOrder) {
  std::ofstream(dir_ / "MANIFEST.csv") << "path,subject,hand,band,sample,session,kind\n"
                                          "c.png,001,L,940,01,1,full-hand\n"
                                          "a.png,001,L,940,02,1,full-hand\n";
  auto sensor = open_sensor("file:" + (dir_ / "MANIFEST.csv").string());
  sensor->start();
  EXPECT_TRUE(sensor->grab(5s).image == frames_["c.png"]);
  EXPECT_TRUE(sensor->grab(5s).image == frames_["a.png"]);
  EXPECT_EQ(fault_of([&] { sensor->grab(5s); }), DeviceFault::Removed);
}

TEST_F(FileSensorTest, ASingleImage) {
  auto sensor = open_sensor("file:" + (dir_ / "b.png").string());
  sensor->start();
  EXPECT_TRUE(sensor->grab(5s).image == frames_["b.png"]);
}

TEST_F(FileSensorTest, ClearErrors) {
  EXPECT_EQ(fault_of([&] { open_sensor("file:" + (dir_ / "missing").string()); }), DeviceFault::NotFound);
  fs::create_directories(dir_ / "empty");
  EXPECT_EQ(fault_of([&] { open_sensor("file:" + (dir_ / "empty").string()); }), DeviceFault::NotFound);
  std::ofstream(dir_ / "bad.csv") << "file,subject\nx.png,1\n";
  EXPECT_THROW(open_sensor("file:" + (dir_ / "bad.csv").string()), InvalidArgument);
  EXPECT_THROW(open_sensor("file:" + dir_.string() + "?loop=maybe"), InvalidArgument);
  EXPECT_THROW(open_sensor("file:"), InvalidArgument);
  auto sensor = open_sensor("file:" + dir_.string());
  EXPECT_EQ(fault_of([&] { sensor->set_exposure(1000, 1); }), DeviceFault::Unsupported);
  EXPECT_EQ(fault_of([&] { sensor->set_illumination(940, 1); }), DeviceFault::Unsupported);
  // A corrupt file in the stream is an Io error naming the frame.
  std::ofstream(dir_ / "d.png") << "not a png";
  auto broken = open_sensor("file:" + dir_.string());
  broken->start();
  for (int i = 0; i < 3; ++i) broken->grab(5s);
  EXPECT_EQ(fault_of([&] { broken->grab(5s); }), DeviceFault::Io);
}

TEST_F(FileSensorTest, PacedReplayTimesOutAndCancels) {
  auto sensor = open_sensor("file:" + dir_.string() + "?fps=0.1");
  sensor->start();
  sensor->grab(5s);
  EXPECT_EQ(fault_of([&] { sensor->grab(20ms); }), DeviceFault::Timeout);
  sensor->cancel();
  EXPECT_EQ(fault_of([&] { sensor->grab(60s); }), DeviceFault::Cancelled);
}
