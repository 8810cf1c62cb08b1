// The process's memory as Linux reports it, for the benchmarks that measure a queue's memory.
#ifndef COURIER_BENCH_RSS_H_
#define COURIER_BENCH_RSS_H_

#include <fstream>
#include <string>

// A field of /proc/self/status in KiB ("VmHWM:" the peak RSS, "VmRSS:" the current one).
inline long StatusKib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  }
  return -1;
}

inline double StatusMib(const std::string& field) {
  return static_cast<double>(StatusKib(field)) / 1024.0;
}

// Starts a new peak at the current RSS (Linux: writing 5 to clear_refs resets VmHWM), so that
// what earlier benchmarks of the run touched does not count.
inline void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

#endif  // COURIER_BENCH_RSS_H_
