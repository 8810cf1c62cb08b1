// Durable storage across a crash: a child process sends, receives and deletes on a queue kept in
// a SQLite file, then kills itself with SIGKILL (no destructor runs, nothing is flushed at exit).
// The parent reopens the file and finds exactly what the child was told had happened: the
// message it deleted is gone, the one it holds is still in flight, and the child's receipt
// handle still deletes it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqlite_storage.h"
#include "courier/sqs.h"

namespace {

courier::Environment OnFile(const std::string& file) {
  courier::Environment env = courier::Environment::Default();
  env.storage = courier::SqliteStorage::Open(file).value();
  return env;
}

// The child's life: every call below returns once its record is on disk.
[[noreturn]] void Child(const std::string& file, int handle_pipe) {
  courier::Hub hub(OnFile(file));
  auto orders = Sqs(hub).CreateQueue("orders").value();
  for (const char* body : {"order 1", "order 2", "order 3"}) {
    orders->SendMessage({.body = body}).value();
  }
  auto got =
      orders->ReceiveMessage({.max_number_of_messages = 2, .visibility_timeout = absl::Hours(1)})
          .value();
  assert(got.size() == 2);
  assert(orders->DeleteMessage(got[0].receipt_handle).ok());
  std::printf("child: sent 3, deleted \"%s\", holds \"%s\"; now SIGKILL\n", got[0].body.c_str(),
              got[1].body.c_str());
  std::fflush(stdout);
  const std::string handle(got[1].receipt_handle.value());
  assert(write(handle_pipe, handle.data(), handle.size()) == static_cast<ssize_t>(handle.size()));
  raise(SIGKILL);
  std::abort();  // not reached
}

}  // namespace

int main() {
  std::string dir_pattern =
      (std::filesystem::temp_directory_path() / "courier-example-XXXXXX").string();
  const std::filesystem::path dir = mkdtemp(dir_pattern.data());
  const std::string file = (dir / "orders.db").string();

  int pipe_ends[2];
  assert(pipe(pipe_ends) == 0);
  const pid_t child = fork();
  assert(child >= 0);
  if (child == 0) {
    close(pipe_ends[0]);
    Child(file, pipe_ends[1]);
  }
  close(pipe_ends[1]);
  std::string handle;
  char buffer[512];
  for (ssize_t n; (n = read(pipe_ends[0], buffer, sizeof buffer)) > 0;) handle.append(buffer, n);
  int status = 0;
  assert(waitpid(child, &status, 0) == child);
  assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  {
    courier::Hub hub(OnFile(file));
    assert(hub.Recover().ok());
    auto orders = Sqs(hub).GetQueue("orders").value();
    auto visible = orders->ReceiveMessage({.max_number_of_messages = 10}).value();
    assert(visible.size() == 1);  // one deleted, one still in flight for the hour
    std::printf("parent: reopened the file: \"%s\" is waiting, one is in flight\n",
                visible[0].body.c_str());
    assert(orders->DeleteMessage(courier::ReceiptHandle(handle)).ok());  // the child's handle
    assert(orders->DeleteMessage(visible[0].receipt_handle).ok());
    auto counts = orders
                      ->GetQueueAttributes(
                          {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"})
                      .value();
    assert(counts.at("ApproximateNumberOfMessages") == "0");
    assert(counts.at("ApproximateNumberOfMessagesNotVisible") == "0");
    std::printf("parent: the child's receipt handle deleted the message it held\n");
  }
  std::filesystem::remove_all(dir);
}
