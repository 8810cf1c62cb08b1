// The CityLots-shaped events of bench/data/citylots (213,068 records of ~950 bytes), generated
// on first use, and rule sets over their fields: shared by the pattern and event-bus benchmarks.
#ifndef COURIER_BENCH_CITYLOTS_H_
#define COURIER_BENCH_CITYLOTS_H_

#include <fmt/format.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace citylots {

namespace fs = std::filesystem;

// $COURIER_CITYLOTS_DIR, else tmp/citylots in the build folder (this program is build/bench/...),
// never inside the source tree.
inline std::string DataDir() {
  const char* env = std::getenv("COURIER_CITYLOTS_DIR");
  if (env != nullptr) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  fs::path build = ec ? fs::current_path() : exe.parent_path().parent_path();
  return (build / "tmp" / "citylots").string();
}

inline const std::vector<std::string>& Events() {
  static const std::vector<std::string> events = [] {
    std::string dir = DataDir();
    std::string file = dir + "/citylots2-synth.json.gz";
    if (!fs::exists(file)) {
      fs::create_directories(dir);
      std::string cmd = fmt::format("python3 {}/citylots/gen_citylots_synth.py '{}' > /dev/null",
                                    COURIER_BENCH_DATA_DIR, dir);
      std::fprintf(stderr, "generating %s (about 25 s)\n", file.c_str());
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "generator failed\n");
    }
    std::vector<std::string> out;
    gzFile gz = gzopen(file.c_str(), "rb");
    if (gz == nullptr) return out;
    std::string line;
    char buf[1 << 16];
    while (gzgets(gz, buf, sizeof buf) != nullptr) {
      line.append(buf);
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        out.push_back(std::move(line));
        line.clear();
      }
    }
    if (!line.empty()) out.push_back(line);
    gzclose(gz);
    return out;
  }();
  return events;
}

// N rules of mixed kinds over the fields the events carry: exact MAPBLKLOT values, STREET
// prefixes, narrow numeric ranges on firstCoordinates.x and exact TO_ST values, drawn so that
// few of them match any one event. Matching time should stay flat as N grows from 10 to 100,000
// (what grows is the size of the indexes, not the work per event). `wrap` nests each pattern
// under that member (EventBridge events carry the CityLots record as their "detail").
inline std::vector<std::string> MixedPatterns(size_t n, std::string_view wrap = "") {
  std::mt19937_64 rng(42);
  std::vector<std::string> patterns;
  for (size_t i = 0; i < n; ++i) {
    std::string text;
    switch (i % 4) {
      case 0:
        text = fmt::format(R"({{"properties":{{"MAPBLKLOT":["{}"]}}}})", 1000000 + rng() % 7600000);
        break;
      case 1: {
        std::string p;
        for (int k = 0; k < 6; ++k) p.push_back(static_cast<char>('A' + rng() % 26));
        text = fmt::format(R"({{"properties":{{"STREET":[{{"prefix":"{}"}}]}}}})", p);
        break;
      }
      case 2: {
        double lo = -122.514 + static_cast<double>(rng() % 157000) * 1e-6;
        text = fmt::format(
            R"({{"geometry":{{"firstCoordinates":{{"x":[{{"numeric":[">",{:.6f},"<",{:.8f}]}}]}}}}}})",
            lo, lo + 1e-8);
        break;
      }
      default:
        text = fmt::format(R"({{"properties":{{"TO_ST":["{}"],"ST_TYPE":["ST"]}}}})",
                           40000 + rng() % 1000000);
        break;
    }
    patterns.push_back(wrap.empty() ? text : fmt::format(R"({{"{}":{}}})", wrap, text));
  }
  return patterns;
}

}  // namespace citylots

#endif  // COURIER_BENCH_CITYLOTS_H_
