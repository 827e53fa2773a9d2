// SPDX-License-Identifier: Apache-2.0
// Issue #7: what a scale search in the matcher would give, simulated without touching the matcher.
// Writes into a SCRATCH folder (never the repository): every session-1 image of a split half at 5
// scales (v0 as is, v1/v2 centre crops 93 %/86 %, v3/v4 shrunk to 93 %/86 % with a black border,
// which the features mask as outside), and every session-2 image as probe q_ (as is, or with QC=0.86
// cropped like a tighter third-party ROI). scale_search_sim.py then takes, for each probe and
// enrolled image, the best score over the allowed versions.
//   g++ -O2 -std=c++17 scale_search_sim.cpp -o scale_search_sim $(pkg-config --cflags --libs opencv4)
//   QC=0.86 scale_search_sim HALF.csv OUTDIR MAX_PALMS
//   palmvein eval --manifest OUTDIR/MANIFEST.csv --scores OUTDIR.csv --report OUTDIR.json
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>
#include <filesystem>
#include <cstdlib>
namespace fs = std::filesystem;
static std::vector<std::string> split(const std::string& s) { std::vector<std::string> v; std::stringstream ss(s); std::string t; while (std::getline(ss, t, ',')) v.push_back(t); return v; }
static cv::Mat crop(const cv::Mat& g, double c) { int w = g.cols*c, h = g.rows*c; return g(cv::Rect((g.cols-w)/2,(g.rows-h)/2,w,h)).clone(); }
static cv::Mat shrink(const cv::Mat& g, double c) { cv::Mat s; cv::resize(g, s, cv::Size(), c, c, cv::INTER_AREA); cv::Mat out(g.size(), CV_8U, cv::Scalar(0)); s.copyTo(out(cv::Rect((g.cols-s.cols)/2,(g.rows-s.rows)/2,s.cols,s.rows))); return out; }
int main(int argc, char** argv) {
  std::ifstream in(argv[1]); fs::path out(argv[2]); int maxsub = std::atoi(argv[3]); fs::create_directories(out);
  fs::path src = fs::path(argv[1]).parent_path();
  std::ofstream m(out / "MANIFEST.csv");
  std::string line; std::getline(in, line); if (!line.empty() && line.back()==0x0d) line.pop_back(); m << line << "\n";
  auto h = split(line); int ip=0, is=0, isub=1; for (int i=0;i<(int)h.size();++i){ if(h[i]=="session")is=i; }
  int n = 0; std::vector<std::string> subs;
  while (std::getline(in, line)) {
    if (line.empty()) continue; if (line.back()==0x0d) line.pop_back();
    auto f = split(line);
    if (std::find(subs.begin(), subs.end(), f[isub]) == subs.end()) subs.push_back(f[isub]);
    if ((int)subs.size() > maxsub) break;
    cv::Mat g = cv::imread((src / f[ip]).string(), cv::IMREAD_GRAYSCALE);
    ++n;
    std::vector<std::pair<std::string, cv::Mat>> outs;
    if (f[is] == "2") outs.push_back({"q_img" + std::to_string(n) + ".png", std::getenv("QC") ? crop(g, std::atof(std::getenv("QC"))) : g});
    else { outs.push_back({"v0_img" + std::to_string(n) + ".png", g}); outs.push_back({"v1_img" + std::to_string(n) + ".png", crop(g, 0.93)});
      outs.push_back({"v2_img" + std::to_string(n) + ".png", crop(g, 0.86)}); outs.push_back({"v3_img" + std::to_string(n) + ".png", shrink(g, 0.93)});
      outs.push_back({"v4_img" + std::to_string(n) + ".png", shrink(g, 0.86)}); }
    for (auto& [name, im] : outs) { cv::imwrite((out / name).string(), im); f[ip] = name; for (int i=0;i<(int)f.size();++i) m << (i?",":"") << f[i]; m << "\n"; }
  }
}
