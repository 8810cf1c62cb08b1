// A test hook in the middle of each hot queue operation, after its first atomic step and before
// its last, so that a test can park a thread there and check that every other thread still
// completes its operations (the property that makes the core lock-free). Unset it costs one
// relaxed load and a predictable branch.
#ifndef COURIER_SRC_QUEUE_PROGRESS_HOOK_H_
#define COURIER_SRC_QUEUE_PROGRESS_HOOK_H_

#include <atomic>

namespace courier::queue_internal {

// kGiveBack: a lane giving its memory back (MessageStore::GiveBackIfDrained), between taking
// its free stack and letting its slots go. kDeduplicate: a FIFO send's admission to the
// deduplication window (DedupWindow::AdmitAt), between claiming its record's room and linking it.
// kClearWindow: a purge's DedupWindow::Clear, between installing a shard's empty table and
// reading it (a race test's).
enum class ProgressPoint {
  kSend,
  kReceive,
  kDelete,
  kChangeVisibility,
  kGiveBack,
  kDeduplicate,
  kClearWindow
};

using ProgressHook = void (*)(ProgressPoint);
inline std::atomic<ProgressHook> progress_hook{nullptr};

inline void AtProgressPoint(ProgressPoint point) {
  if (ProgressHook hook = progress_hook.load(std::memory_order_relaxed)) [[unlikely]]
    hook(point);
}

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_PROGRESS_HOOK_H_
