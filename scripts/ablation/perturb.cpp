// SPDX-License-Identifier: Apache-2.0
// Issue #7 ablations: writes a copy of a split manifest (from split_manifest.py) whose session-2
// images are perturbed, into a SCRATCH folder (never into the repository: the images' licence
// forbids it). Session 1 stays as it is, so cross-session pairs are clean-vs-perturbed.
//   g++ -O2 -std=c++17 perturb.cpp -o perturb $(pkg-config --cflags --libs opencv4)
//   perturb HALF.csv OUTDIR            one of six perturbations per image (by its index):
//     p0 gamma 0.6, p1 gamma 1.7, p2 contrast x0.5 + 38 grey levels, p3 left-to-right illumination
//     ramp x0.45..1.35, p4 centre crop 86 % (ROI kind; full-hand: gamma 0.8 x0.8), p5 blur 1.2 + noise 3
//   PK=4 CS=0.93 perturb HALF.csv OUTDIR   every session-2 image: centre crop to 93 % (scale test)
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>
#include <filesystem>
#include <random>
#include <cstdlib>
namespace fs = std::filesystem;
static std::vector<std::string> split(const std::string& s) { std::vector<std::string> v; std::stringstream ss(s); std::string t; while (std::getline(ss, t, ',')) v.push_back(t); return v; }
int main(int argc, char** argv) {
  // pert IN.csv OUTDIR
  std::ifstream in(argv[1]); fs::path out(argv[2]); fs::create_directories(out);
  fs::path src = fs::path(argv[1]).parent_path();
  std::ofstream m(out / "MANIFEST.csv");
  std::string line; std::getline(in, line); if (!line.empty() && line.back()==0x0d) line.pop_back(); m << line << "\n";
  auto h = split(line); int ip=-1, is=-1, ik=-1;
  for (int i=0;i<(int)h.size();++i){ if(h[i]=="path")ip=i; if(h[i]=="session")is=i; if(h[i]=="kind")ik=i; }
  int n = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back()=='\r') line.pop_back();
    if (line.empty()) continue;
    auto f = split(line);
    fs::path p = src / f[ip];
    cv::Mat g = cv::imread(p.string(), cv::IMREAD_GRAYSCALE);
    if (g.empty()) { std::cerr << "cannot read " << p << "\n"; return 1; }
    std::string name = "img" + std::to_string(n++) + ".png";
    if (f[is] == "2") {
      int k = std::getenv("PK") ? std::atoi(std::getenv("PK")) : (n * 7919) % 6;
      const double cs = std::getenv("CS") ? std::atof(std::getenv("CS")) : 0.86;
      cv::Mat fl; g.convertTo(fl, CV_32F, 1.0/255);
      std::mt19937 rng(n);
      if (k == 0) cv::pow(fl, 0.6, fl);
      else if (k == 1) cv::pow(fl, 1.7, fl);
      else if (k == 2) fl = fl * 0.5 + 0.15;
      else if (k == 3) { for (int y=0;y<fl.rows;++y) for(int x=0;x<fl.cols;++x) fl.at<float>(y,x) *= 0.45f + 0.9f * x / fl.cols; }
      else if (k == 4) {
        if (f[ik] == "roi") { int cw = g.cols*cs, ch = g.rows*cs; fl = fl(cv::Rect((g.cols-cw)/2,(g.rows-ch)/2,cw,ch)).clone(); }
        else cv::pow(fl, 0.8, fl), fl *= 0.8;
      } else { cv::GaussianBlur(fl, fl, cv::Size(), 1.2); cv::Mat nz(fl.size(), CV_32F); cv::randn(nz, 0, 3.0/255); fl += nz; }
      fl.convertTo(g, CV_8U, 255);
      name = "p" + std::to_string(k) + "_" + name;
    }
    cv::imwrite((out / name).string(), g);
    f[ip] = name;
    for (int i=0;i<(int)f.size();++i) m << (i?",":"") << f[i];
    m << "\n";
  }
  return 0;
}
