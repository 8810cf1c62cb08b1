// The ASL interpreter: states, the JSONPath/JSONata data flow, Retry/Catch, Map and Parallel.
#include <cmath>

#include "courier/detail/uuid.h"
#include "courier/function.h"
#include "courier/step_functions.h"
#include "states/execution_impl.h"
#include "states/intrinsics.h"
#include "states/json_util.h"
#include "states/jsonata.h"

namespace courier::states_internal {

constexpr size_t kPayloadLimit = 262144;

// ---------------------------------------------------------------------------------------------
// Failures.

Failure Failure::From(const absl::Status& status) {
  Failure f;
  f.error = FunctionErrorName(status);
  f.cause = FunctionErrorCause(status);
  return f;
}

const std::string& Failure::name() const {
  static const std::string kEmpty;
  return error ? *error : kEmpty;
}

Json Failure::ErrorOutput() const {
  JsonObject o;
  o["Error"] = error ? *error : "";
  o["Cause"] = cause ? *cause : "";
  return o;
}

namespace {

bool Matches(const std::vector<std::string>& names, const Failure& f) {
  const std::string& e = f.name();
  if (e == "States.Runtime") return false;  // never retried or caught
  for (const auto& n : names) {
    if (n == e) return true;
    if (n == "States.ALL" && e != "States.DataLimitExceeded") return true;
    if (n == "States.TaskFailed" && e != "States.Timeout" && e != "States.DataLimitExceeded") {
      return true;
    }
    if (n == "States.HeartbeatTimeout" && f.heartbeat) return true;
  }
  return false;
}

// Indexed by StateType.
constexpr std::string_view kEnteredTypes[] = {
    "PassStateEntered",    "TaskStateEntered", "ChoiceStateEntered",   "WaitStateEntered",
    "SucceedStateEntered", "FailStateEntered", "ParallelStateEntered", "MapStateEntered"};
constexpr std::string_view kExitedTypes[] = {
    "PassStateExited",    "TaskStateExited", "ChoiceStateExited",   "WaitStateExited",
    "SucceedStateExited", "FailStateExited", "ParallelStateExited", "MapStateExited"};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The environment expressions of a frame see.

class FrameEnv final : public Env {
 public:
  FrameEnv(ExecutionImpl& x, Frame& f) : x_(x), f_(f) {}

  const Json* item_value = nullptr;
  int64_t item_index = 0;
  const Json* result = nullptr;
  const Json* error_output = nullptr;
  const Json* states_input = nullptr;  // JSONata $states.input (defaults to the raw input)

  const Json& Context() override {
    if (!context_) context_ = Build();
    return *context_;
  }

  const Json* Variable(std::string_view name) override {
    if (name == "states" && f_.state >= 0 && f_.scope->states[f_.state].jsonata) {
      if (!states_) {
        JsonObject o;
        o["input"] = states_input ? *states_input : f_.input;
        o["context"] = Context();
        if (result) o["result"] = *result;
        if (error_output) o["errorOutput"] = *error_output;
        states_ = Json(std::move(o));
      }
      return &*states_;
    }
    for (Frame* f = &f_; f; f = f->parent) {
      if (auto* v = f->vars.if_contains(name)) return v;
    }
    return nullptr;
  }

  absl::Time Now() override { return x_.clock_->Now(); }

 private:
  Json Build() {
    JsonObject ctx;
    JsonObject exec;
    exec["Id"] = x_.arn_;
    exec["Input"] = x_.input_;
    exec["Name"] = x_.name_;
    exec["RoleArn"] = x_.role_arn_;
    exec["StartTime"] = FormatTimestamp(x_.start_);
    exec["RedriveCount"] = 0;
    ctx["Execution"] = std::move(exec);
    ctx["StateMachine"] = JsonObject{{"Id", x_.machine_arn_}, {"Name", x_.machine_name_}};
    if (f_.state >= 0) {
      const State& s = f_.scope->states[f_.state];
      JsonObject st;
      st["EnteredTime"] = FormatTimestamp(f_.entered);
      st["Name"] = s.name;
      if (s.type == StateType::kTask || s.type == StateType::kMap ||
          s.type == StateType::kParallel) {
        st["RetryCount"] = f_.retry_count;
      }
      ctx["State"] = std::move(st);
    }
    if (!f_.task_token.empty()) ctx["Task"] = JsonObject{{"Token", f_.task_token}};
    if (item_value) {
      ctx["Map"] = JsonObject{{"Item", JsonObject{{"Index", item_index}, {"Value", *item_value}}}};
    }
    return ctx;
  }

  ExecutionImpl& x_;
  Frame& f_;
  std::optional<Json> context_;
  std::optional<Json> states_;
};

// ---------------------------------------------------------------------------------------------
// Data flow helpers.

namespace {

absl::StatusOr<Json> ApplyInputPath(const State& s, const Json& raw) {
  if (s.input_path_null) return Json(JsonObject());
  if (!s.input_path || s.input_path->is_root()) return raw;
  auto v = s.input_path->Evaluate(raw);
  if (!v) {
    return RuntimeError(
        fmt::format("Invalid path '{}' : No results for path: $['{}']", s.input_path->text(),
                    s.input_path->segments().empty() ? "" : s.input_path->segments().back().name));
  }
  return *std::move(v);
}

absl::StatusOr<Json> ApplyOutputPath(const State& s, Json value) {
  if (s.output_path_null) return Json(JsonObject());
  if (!s.output_path || s.output_path->is_root()) return value;
  auto v = s.output_path->Evaluate(value);
  if (!v) {
    return RuntimeError(fmt::format(
        "Invalid path '{}' : No results for path: $['{}']", s.output_path->text(),
        s.output_path->segments().empty() ? "" : s.output_path->segments().back().name));
  }
  return *std::move(v);
}

absl::StatusOr<Json> ApplyResultPath(const ResultPathSpec& rp, Json raw, Json result) {
  if (rp.discard) return raw;
  if (!rp.path) return result;
  if (!rp.path->Write(raw, std::move(result))) {
    return StatesError("States.ResultPathMatchFailure",
                       fmt::format("Unable to apply ResultPath '{}' to input '{}'", rp.path->text(),
                                   ToJsonText(raw)));
  }
  return raw;
}

absl::Status CheckSize(const Json& v, std::string_view what, const std::string& state) {
  if (JsonLargerThan(v, kPayloadLimit)) {
    return StatesError("States.DataLimitExceeded",
                       fmt::format("The state/task '{}' returned a result with a size exceeding "
                                   "the maximum number of bytes service limit ({})",
                                   state, what));
  }
  return absl::OkStatus();
}

// A non-negative integer read from a NumberSource; `what` names the field in messages.
absl::StatusOr<std::optional<int64_t>> ReadNumber(const NumberSource& src, const Json& input,
                                                  Env& env, std::string_view what,
                                                  bool allow_zero = true) {
  if (src.value) return std::optional<int64_t>(static_cast<int64_t>(*src.value));
  const Json* v = nullptr;
  std::optional<Json> holder;
  std::string origin;
  if (src.path) {
    v = FindPath(*src.path, input, env);
    origin = src.path->text();
    if (!v) {
      return RuntimeError(
          fmt::format("The {}Path field references a path that does not exist: "
                      "{}",
                      what, origin));
    }
  } else if (src.expr) {
    auto r = EvaluateTemplate(*src.expr, input, env);
    if (!r.ok()) return r.status();
    holder = *std::move(r);
    v = &*holder;
    origin = "the JSONata expression";
  } else {
    return std::optional<int64_t>();
  }
  auto i = AsInteger(*v);
  if (!v->is_number() || !i || *i < 0 || (!allow_zero && *i == 0)) {
    std::string msg = fmt::format("The {} value from {} must be a {} integer, got {}", what, origin,
                                  allow_zero ? "non-negative" : "positive", ToJsonText(*v));
    return src.expr ? StatesError("States.QueryEvaluationError", msg) : RuntimeError(msg);
  }
  return std::optional<int64_t>(*i);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ExecutionImpl: lifecycle.

ExecutionImpl::ExecutionImpl(StateMachine& machine, std::shared_ptr<const Plan> plan,
                             std::string name, std::string arn, Json input)
    : machine_arn_(machine.arn()),
      machine_name_(machine.name()),
      role_arn_(machine.options().role_arn),
      type_(machine.type()),
      hub_(machine.hub()),
      plan_(std::move(plan)),
      clock_(hub_.environment().clock),
      executor_(hub_.environment().executor),
      name_(std::move(name)),
      arn_(std::move(arn)),
      input_(std::move(input)),
      start_(clock_->Now()),
      keep_history_(type_ == StateMachineType::kStandard) {
  if (keep_history_) log_ = TaskTokens(hub_).log();
}

ExecutionImpl::~ExecutionImpl() {
  if (execution_timer_) clock_->Cancel(execution_timer_);
}

void ExecutionImpl::Detach() {
  std::lock_guard lock(mail_mu_);
  detached_ = true;
  mailbox_.clear();
}

void ExecutionImpl::Start() {
  if (keep_history_) {
    Record(nullptr, "ExecutionStarted", JsonObject{{"roleArn", role_arn_}}, nullptr, Data::kInput,
           &input_);
  }
  ScheduleTimeout();
  root_ = std::make_shared<Frame>();
  root_->scope = plan_->root.get();
  root_->last_event = 1;
  Post([self = shared_from_this()] {
    Frame& f = *self->root_;
    f.pending = true;
    f.pending_index = f.scope->start;
    f.pending_input = self->input_;
    self->Run(f);
  });
}

void ExecutionImpl::ScheduleTimeout() {
  int64_t limit = type_ == StateMachineType::kStandard ? 365LL * 24 * 3600 : 300;
  if (plan_->timeout_seconds) limit = std::min(limit, *plan_->timeout_seconds);
  std::weak_ptr<ExecutionImpl> weak = weak_from_this();
  execution_timer_ = clock_->ScheduleAt(start_ + absl::Seconds(limit), [weak] {
    if (auto self = weak.lock()) {
      self->Post([self] {
        self->execution_timer_ = 0;
        if (self->done()) return;
        self->CancelFrame(*self->root_);
        self->EndExecution(ExecutionStatus::kTimedOut, std::nullopt, "States.Timeout",
                           std::nullopt);
      });
    }
  });
}

// ---- Recovery --------------------------------------------------------------------------------

void ExecutionImpl::RestoreStart(absl::Time start) { start_ = start; }

void ExecutionImpl::RestoreEvent(ExecutionEvent event) {
  RawEvent e;
  e.type = restored_text_.emplace_back(std::move(event.type));
  e.previous = event.previous;
  e.timestamp = absl::FromUnixNanos(event.timestamp_ns);
  if (event.state) e.name = &restored_text_.emplace_back(std::move(*event.state));
  e.kind = event.kind == 1 ? Data::kInput : event.kind == 2 ? Data::kOutput : Data::kNone;
  e.index = event.index;
  e.data = std::move(event.data);
  e.details = std::move(event.details);
  const bool entered = e.type.ends_with("StateEntered"), exited = e.type.ends_with("StateExited");
  int64_t id;
  {
    std::lock_guard lock(info_mu_);
    id = AppendEventLocked(e);
  }
  if (!event.top) return;
  // The top-level Task's token is good until the task ends or its state does.
  if (entered || exited || e.type.ends_with("Succeeded") || e.type.ends_with("Failed") ||
      e.type.ends_with("TimedOut")) {
    restored_token_.clear();
  }
  if (e.name == nullptr) return;
  if (entered) {
    resume_at_ = TopState{.name = *e.name,
                          .input = ParseJson(e.data).value_or(Json()),
                          .entered = e.timestamp,
                          .event = id};
  } else if (exited && resume_at_ && resume_at_->name == *e.name) {
    resume_at_->exited = true;
    resume_at_->output = ParseJson(e.data).value_or(Json());
    resume_at_->event = id;
    // Variables are kept as their JSON text (assignedVariables).
    if (const JsonObject* d = e.details.if_object()) {
      if (const Json* assigned = d->if_contains("assignedVariables");
          assigned && assigned->is_object()) {
        for (const auto& [k, v] : assigned->get_object()) {
          if (v.is_string()) restored_vars_[k] = ParseJson(v.get_string()).value_or(Json());
        }
      }
    }
  }
}

void ExecutionImpl::RestoreEnd(ExecutionStatus status, absl::Time stop, std::optional<Json> output,
                               std::optional<std::string> error, std::optional<std::string> cause) {
  std::lock_guard lock(info_mu_);
  status_ = status;
  stop_ = stop;
  output_ = std::move(output);
  error_ = std::move(error);
  cause_ = std::move(cause);
}

void ExecutionImpl::Resume() {
  ScheduleTimeout();
  root_ = std::make_shared<Frame>();
  root_->scope = plan_->root.get();
  root_->vars = std::move(restored_vars_);
  {
    std::lock_guard lock(info_mu_);
    root_->last_event = static_cast<int64_t>(history_size_);
  }
  Post([self = shared_from_this()] {
    Frame& f = *self->root_;
    const std::optional<TopState>& at = self->resume_at_;
    auto found = at ? f.scope->index.find(at->name) : f.scope->index.end();
    if (!at || found == f.scope->index.end()) {  // nothing entered yet
      f.pending = true;
      f.pending_index = f.scope->start;
      f.pending_input = self->input_;
      self->Run(f);
      return;
    }
    const int index = found->second;
    const State& s = f.scope->states[index];
    f.last_event = at->event;
    if (at->exited && s.type != StateType::kChoice) {
      // Exited, the next state not entered yet: take the transition it took.
      f.state = index;
      if (s.end || s.next < 0) {
        self->FinishFrame(f, at->output, std::nullopt);
        return;
      }
      f.pending = true;
      f.pending_index = s.next;
      f.pending_input = at->output;
      self->Run(f);
      return;
    }
    // In progress (or a Choice to decide again): run it again, without a second StateEntered.
    f.state = index;
    f.input = at->input;
    f.entered = at->entered;
    f.retry_count = 0;
    f.retry_counts.assign(s.retry.size(), 0);
    f.resumed_token = std::move(self->restored_token_);
    auto keep = self->FrameRef(f);
    f.in_run = true;
    self->Execute(f);
    f.in_run = false;
    self->Run(f);
  });
}

void ExecutionImpl::Post(absl::AnyInvocable<void()> fn) {
  {
    std::lock_guard lock(mail_mu_);
    if (detached_) return;
    mailbox_.push_back(std::move(fn));
    if (draining_) return;
    draining_ = true;
  }
  if (auto executor = executor_.lock())
    executor->Submit([self = shared_from_this()] { self->Drain(); });
}

void ExecutionImpl::Drain() {
  std::vector<absl::AnyInvocable<void()>> batch;
  for (int rounds = 0;; ++rounds) {
    {
      std::lock_guard lock(mail_mu_);
      if (mailbox_.empty() || detached_) {
        draining_ = false;
        return;
      }
      if (rounds == 64) {  // be fair to other executions sharing the executor
        if (auto executor = executor_.lock())
          executor->Submit([self = shared_from_this()] { self->Drain(); });
        return;
      }
      batch.swap(mailbox_);
    }
    for (auto& fn : batch) fn();
    batch.clear();
  }
}

bool ExecutionImpl::done() const {
  std::lock_guard lock(info_mu_);
  return status_ != ExecutionStatus::kRunning;
}

std::optional<absl::Time> ExecutionImpl::stop_time() const {
  std::lock_guard lock(info_mu_);
  return stop_;
}

ExecutionStatus ExecutionImpl::status() const {
  std::lock_guard lock(info_mu_);
  return status_;
}

const std::string& ExecutionImpl::state_machine_arn() const { return machine_arn_; }

ExecutionDescription ExecutionImpl::Describe() const {
  ExecutionDescription d;
  d.execution_arn = arn_;
  d.state_machine_arn = machine_arn_;
  d.name = name_;
  d.start_date = start_;
  d.input = input_;
  std::lock_guard lock(info_mu_);
  d.status = status_;
  d.stop_date = stop_;
  d.output = output_;
  d.error = error_;
  d.cause = cause_;
  return d;
}

std::vector<HistoryEvent> ExecutionImpl::History() const {
  std::lock_guard lock(info_mu_);
  std::vector<HistoryEvent> out;
  out.reserve(history_size_);
  size_t i = 0;
  for (const auto& segment : history_) {
    for (const RawEvent& r : segment) {
      HistoryEvent e;
      e.id = static_cast<int64_t>(++i);
      e.previous_event_id = r.previous;
      e.timestamp = r.timestamp;
      e.type = std::string(r.type);
      JsonObject d = r.details.is_object() ? r.details.get_object() : JsonObject();
      if (r.name) d["name"] = *r.name;
      if (r.index >= 0) d["index"] = r.index;
      if (r.kind != Data::kNone) {
        std::string_view key = r.kind == Data::kInput ? "input" : "output";
        d[key] = r.data;
        d[std::string(key) + "Details"] = JsonObject{{"truncated", false}};
      }
      e.details = std::move(d);
      out.push_back(std::move(e));
    }
  }
  return out;
}

absl::Status ExecutionImpl::Stop(std::string_view error, std::string_view cause) {
  std::optional<std::string> e, c;
  if (!error.empty()) e = std::string(error);
  if (!cause.empty()) c = std::string(cause);
  auto stop = [self = shared_from_this(), e, c] {
    if (self->done()) return;
    self->RecordAborted(*self->root_);
    self->CancelFrame(*self->root_);
    self->EndExecution(ExecutionStatus::kAborted, std::nullopt, e, c);
  };
  bool inline_run = false;
  {
    std::lock_guard lock(mail_mu_);
    if (detached_) return absl::OkStatus();
    if (!draining_) {
      draining_ = true;
      inline_run = true;
    }
  }
  if (inline_run) {  // take the strand now: StopExecution is synchronous in AWS
    stop();
    Drain();
  } else {
    Post(std::move(stop));
  }
  return absl::OkStatus();
}

ExecutionDescription ExecutionImpl::Await(absl::Duration timeout) {
  absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : clock_->Now() + timeout;
  clock_->WaitUntil(deadline, done_signal_, [this] { return done(); });
  return Describe();
}

void ExecutionImpl::OnDone(std::function<void(const ExecutionDescription&)> fn) {
  Post([self = shared_from_this(), fn = std::move(fn)]() mutable {
    if (self->done()) {
      fn(self->Describe());
    } else {
      self->on_done_.push_back(std::move(fn));
    }
  });
}

int64_t ExecutionImpl::Record(Frame* f, std::string_view type, Json details,
                              const std::string* name, Data kind, const Json* data, int64_t index) {
  if (!keep_history_) return 0;
  RawEvent e;
  e.type = type;
  e.timestamp = clock_->Now();
  e.name = name;
  e.kind = kind;
  e.index = index;
  if (data) AppendJsonText(*data, e.data);
  e.details = std::move(details);
  std::lock_guard lock(info_mu_);
  e.previous = f ? f->last_event : static_cast<int64_t>(history_size_);
  if (log_ != nullptr) {
    log_->Append(
        ExecutionEvent{.arn = arn_,
                       .type = std::string(e.type),
                       .previous = e.previous,
                       .timestamp_ns = absl::ToUnixNanos(e.timestamp),
                       .state = e.name ? std::optional<std::string>(*e.name) : std::nullopt,
                       .kind = e.kind == Data::kInput    ? 1
                               : e.kind == Data::kOutput ? 2
                                                         : 0,
                       .data = e.data,
                       .index = e.index,
                       .details = e.details,
                       .top = f == nullptr || f == root_.get()});
  }
  const int64_t id = AppendEventLocked(std::move(e));
  if (f) f->last_event = id;
  return id;
}

int64_t ExecutionImpl::AppendEventLocked(RawEvent e) {
  if (history_.empty() || history_.back().size() == history_.back().capacity()) {
    size_t capacity = history_.empty() ? 2 : std::min<size_t>(8, 2 * history_.back().capacity());
    history_.emplace_back().reserve(capacity);
  }
  history_.back().push_back(std::move(e));
  return static_cast<int64_t>(++history_size_);
}

void ExecutionImpl::EndExecution(ExecutionStatus status, std::optional<Json> output,
                                 std::optional<std::string> error,
                                 std::optional<std::string> cause) {
  if (execution_timer_) {
    clock_->Cancel(execution_timer_);
    execution_timer_ = 0;
  }
  JsonObject d;
  if (error) d["error"] = *error;
  if (cause) d["cause"] = *cause;
  switch (status) {
    case ExecutionStatus::kSucceeded:
      Record(root_.get(), "ExecutionSucceeded", nullptr, nullptr, Data::kOutput, &*output);
      break;
    case ExecutionStatus::kFailed:
      Record(root_.get(), "ExecutionFailed", d);
      break;
    case ExecutionStatus::kTimedOut:
      Record(root_.get(), "ExecutionTimedOut", d);
      break;
    case ExecutionStatus::kAborted:
      Record(root_.get(), "ExecutionAborted", d);
      break;
    default:
      break;
  }
  {
    std::lock_guard lock(info_mu_);
    status_ = status;
    stop_ = clock_->Now();
    output_ = std::move(output);
    // DescribeExecution of a timed-out execution carries no error (AWS); its history event does.
    if (status != ExecutionStatus::kTimedOut) {
      error_ = std::move(error);
      cause_ = std::move(cause);
    }
    if (log_ != nullptr) {
      log_->Append(ExecutionEnded{
          .arn = arn_,
          .status = std::string(ExecutionStatusName(status)),
          .stop_ns = absl::ToUnixNanos(*stop_),
          .output = output_ ? std::optional<std::string>(ToJsonText(*output_)) : std::nullopt,
          .error = error_,
          .cause = cause_});
    }
  }
  done_signal_.Notify();
  auto callbacks = std::move(on_done_);
  on_done_.clear();
  if (!callbacks.empty()) {
    ExecutionDescription d = Describe();
    for (auto& fn : callbacks) fn(d);
  }
}

std::string ExecutionImpl::StateName(const Frame& f) const {
  return f.state >= 0 ? f.scope->states[f.state].name : "";
}

std::shared_ptr<Frame> ExecutionImpl::FrameRef(Frame& f) { return f.shared_from_this(); }

void ExecutionImpl::ClearWait(Frame& f) {
  ++f.seq;
  for (Clock::TimerId id : f.timers) clock_->Cancel(id);
  f.timers.clear();
  f.heartbeat_seconds = 0;
  f.heartbeat_timer = 0;
  if (!f.task_token.empty()) {
    TaskTokens(hub_).Drop(f.task_token);
    f.task_token.clear();
  }
}

void ExecutionImpl::CancelFrame(Frame& f) {
  ClearWait(f);
  f.finished = true;
  f.pending = false;
  if (f.fan) {
    for (auto& c : f.fan->children) {
      if (c && !c->finished) CancelFrame(*c);
    }
  }
}

Clock::TimerId ExecutionImpl::ScheduleResume(Frame& f, absl::Time when,
                                             std::function<void(Frame&)> fn) {
  std::weak_ptr<ExecutionImpl> weak_x = weak_from_this();
  std::weak_ptr<Frame> weak_f = FrameRef(f);
  uint64_t seq = f.seq;
  Clock::TimerId id = clock_->ScheduleAt(when, [weak_x, weak_f, seq, fn = std::move(fn)] {
    auto x = weak_x.lock();
    if (!x) return;
    x->Post([x, weak_f, seq, fn] {
      auto f = weak_f.lock();
      if (!f || f->seq != seq || f->finished || x->done()) return;
      fn(*f);
      x->Run(*f);
    });
  });
  f.timers.push_back(id);
  return id;
}

// ---------------------------------------------------------------------------------------------
// The driving loop.

void ExecutionImpl::Run(Frame& f) {
  if (f.in_run) return;
  auto keep = FrameRef(f);
  f.in_run = true;
  while (f.pending && !f.finished && !done()) {
    f.pending = false;
    EnterState(f, f.pending_index, std::move(f.pending_input));
  }
  f.in_run = false;
}

void ExecutionImpl::EnterState(Frame& f, int index, Json input) {
  const State& s = f.scope->states[index];
  f.state = index;
  f.input = std::move(input);
  f.entered = clock_->Now();
  f.retry_count = 0;
  f.retry_counts.assign(s.retry.size(), 0);
  if (keep_history_) {
    Record(&f, kEnteredTypes[static_cast<int>(s.type)], nullptr, &s.name, Data::kInput, &f.input);
  }
  Execute(f);
}

void ExecutionImpl::ExitState(Frame& f, Json output, int next) {
  const State& s = f.scope->states[f.state];
  if (absl::Status st = CheckSize(output, "output", s.name); !st.ok()) {
    FinishFrame(f, st, Failure::From(st));
    return;
  }
  if (keep_history_) {
    Json details;
    if (!f.assigned.empty()) {
      details = JsonObject{{"assignedVariables", std::move(f.assigned)},
                           {"assignedVariablesDetails", JsonObject{{"truncated", false}}}};
      f.assigned = JsonObject();
    }
    Record(&f, kExitedTypes[static_cast<int>(s.type)], std::move(details), &s.name, Data::kOutput,
           &output);
  }
  if (next < 0) {
    FinishFrame(f, std::move(output), std::nullopt);
    return;
  }
  f.pending = true;
  f.pending_index = next;
  f.pending_input = std::move(output);
  if (!f.in_run) Run(f);
}

void ExecutionImpl::FinishFrame(Frame& f, absl::StatusOr<Json> result,
                                std::optional<Failure> failure) {
  if (f.finished) return;
  ClearWait(f);
  f.finished = true;
  f.pending = false;
  if (f.owner) {
    ChildDone(f, std::move(result), std::move(failure));
    return;
  }
  if (failure) {
    EndExecution(ExecutionStatus::kFailed, std::nullopt, failure->error, failure->cause);
  } else {
    EndExecution(ExecutionStatus::kSucceeded, *std::move(result), std::nullopt, std::nullopt);
  }
}

absl::Status ExecutionImpl::ApplyAssign(Frame& f, const std::optional<Template>& assign,
                                        const Json& input, const Json* result,
                                        const Json* error_output) {
  if (!assign) return absl::OkStatus();
  FrameEnv env(*this, f);
  env.result = result;
  env.error_output = error_output;
  JsonObject values;
  for (const auto& [k, t] : assign->kind == Template::kLiteral
                                ? std::vector<std::pair<std::string, Template>>{}
                                : assign->fields) {
    auto v = EvaluateTemplate(t, input, env);
    if (!v.ok()) return v.status();
    values[k] = *std::move(v);
  }
  if (assign->kind == Template::kLiteral && assign->literal.is_object()) {
    for (const auto& [k, v] : assign->literal.get_object()) values[k] = v;
  }
  if (JsonLargerThan(Json(values), kPayloadLimit)) {
    return StatesError("States.DataLimitExceeded", "The assigned variables exceed 256 KiB");
  }
  for (auto& [k, v] : values) {
    if (keep_history_) f.assigned[k] = ToJsonText(v);  // StateExited's assignedVariables
    f.vars[k] = std::move(v);
  }
  return absl::OkStatus();
}

// Result → ResultSelector → Assign → ResultPath → OutputPath (JSONPath), or Assign/Output with
// $states.result (JSONata).
absl::StatusOr<Json> ExecutionImpl::FinishResult(Frame& f, Json raw_input, Json result,
                                                 const Json& assign_input) {
  const State& s = f.scope->states[f.state];
  if (s.jsonata) {
    FrameEnv env(*this, f);
    env.result = &result;
    Json output;
    if (s.output) {
      COURIER_ASSIGN_OR_RETURN(output, EvaluateTemplate(*s.output, raw_input, env));
    } else {
      output = result;
    }
    COURIER_RETURN_IF_ERROR(ApplyAssign(f, s.assign, raw_input, &result, nullptr));
    return output;
  }
  Json selected;
  if (s.result_selector) {
    FrameEnv env(*this, f);
    COURIER_ASSIGN_OR_RETURN(selected, EvaluateTemplate(*s.result_selector, result, env));
  }
  COURIER_RETURN_IF_ERROR(
      ApplyAssign(f, s.assign, assign_input.is_null() ? result : assign_input, nullptr, nullptr));
  COURIER_ASSIGN_OR_RETURN(
      Json out, ApplyResultPath(s.result_path, std::move(raw_input),
                                s.result_selector ? std::move(selected) : std::move(result)));
  return ApplyOutputPath(s, std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Choice rules.

namespace {

bool StringMatches(std::string_view s, std::string_view p) {
  // '*' matches any run; "\*" and "\\" are literal. Iterative with backtracking to the last star.
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  auto literal_at = [&](size_t i, char* c) -> size_t {  // returns pattern advance, 0 = star
    if (p[i] == '\\' && i + 1 < p.size()) {
      *c = p[i + 1];
      return 2;
    }
    if (p[i] == '*') return 0;
    *c = p[i];
    return 1;
  };
  while (si < s.size()) {
    if (pi < p.size()) {
      char c;
      size_t adv = literal_at(pi, &c);
      if (adv == 0) {
        star_p = ++pi;
        star_s = si;
        continue;
      }
      if (c == s[si]) {
        pi += adv;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

int Compare(double a, double b) { return a < b ? -1 : (a > b ? 1 : 0); }

bool CmpResult(ChoiceRule::Op op, int c) {
  switch (op) {
    case ChoiceRule::kStringEquals:
    case ChoiceRule::kNumericEquals:
    case ChoiceRule::kTimestampEquals:
      return c == 0;
    case ChoiceRule::kStringLessThan:
    case ChoiceRule::kNumericLessThan:
    case ChoiceRule::kTimestampLessThan:
      return c < 0;
    case ChoiceRule::kStringGreaterThan:
    case ChoiceRule::kNumericGreaterThan:
    case ChoiceRule::kTimestampGreaterThan:
      return c > 0;
    case ChoiceRule::kStringLessThanEquals:
    case ChoiceRule::kNumericLessThanEquals:
    case ChoiceRule::kTimestampLessThanEquals:
      return c <= 0;
    default:
      return c >= 0;
  }
}

}  // namespace

static absl::StatusOr<bool> EvalRule(const ChoiceRule& r, const Json& input, Env& env) {
  switch (r.op) {
    case ChoiceRule::kAnd:
      for (const auto& c : r.children) {
        COURIER_ASSIGN_OR_RETURN(bool b, EvalRule(c, input, env));
        if (!b) return false;
      }
      return true;
    case ChoiceRule::kOr:
      for (const auto& c : r.children) {
        COURIER_ASSIGN_OR_RETURN(bool b, EvalRule(c, input, env));
        if (b) return true;
      }
      return false;
    case ChoiceRule::kNot: {
      COURIER_ASSIGN_OR_RETURN(bool b, EvalRule(r.children[0], input, env));
      return !b;
    }
    case ChoiceRule::kCondition: {
      if (!r.condition) return r.operand.is_bool() && r.operand.get_bool();
      auto v = EvaluateJsonata(*r.condition, env);
      if (!v.ok()) return v.status();
      if (!*v || !(*v)->is_bool()) {
        return StatesError("States.QueryEvaluationError",
                           "The Condition of a choice rule must evaluate to a boolean");
      }
      return (*v)->get_bool();
    }
    default:
      break;
  }
  std::optional<Json> holder;
  const Json* v = nullptr;
  if (r.variable->definite()) {
    v = FindPath(*r.variable, input, env);
  } else {
    holder = EvaluatePath(*r.variable, input, env);
    if (holder) v = &*holder;
  }
  if (r.op == ChoiceRule::kIsPresent) return (v != nullptr) == r.operand.get_bool();
  if (!v) {
    return RuntimeError(
        fmt::format("Invalid path '{}': The choice state's condition path "
                    "references an invalid value.",
                    r.variable->text()));
  }
  bool want = r.operand.is_bool() ? r.operand.get_bool() : true;
  switch (r.op) {
    case ChoiceRule::kIsNull:
      return v->is_null() == want;
    case ChoiceRule::kIsNumeric:
      return v->is_number() == want;
    case ChoiceRule::kIsString:
      return v->is_string() == want;
    case ChoiceRule::kIsBoolean:
      return v->is_bool() == want;
    case ChoiceRule::kIsTimestamp:
      return (v->is_string() && ParseTimestamp(v->get_string()).has_value()) == want;
    default:
      break;
  }
  const Json* operand = &r.operand;
  if (r.operand_is_path) {
    operand = FindPath(*r.operand_path, input, env);
    if (!operand) {
      return RuntimeError(
          fmt::format("Invalid path '{}': The choice state's condition path "
                      "references an invalid value.",
                      r.operand_path->text()));
    }
  }
  switch (r.op) {
    case ChoiceRule::kStringMatches:
      return v->is_string() && StringMatches(v->get_string(), operand->get_string());
    case ChoiceRule::kBooleanEquals:
      return v->is_bool() && operand->is_bool() && v->get_bool() == operand->get_bool();
    case ChoiceRule::kStringEquals:
    case ChoiceRule::kStringLessThan:
    case ChoiceRule::kStringGreaterThan:
    case ChoiceRule::kStringLessThanEquals:
    case ChoiceRule::kStringGreaterThanEquals: {
      if (!v->is_string() || !operand->is_string()) return false;
      int c = std::string_view(v->get_string()).compare(std::string_view(operand->get_string()));
      return CmpResult(r.op, c < 0 ? -1 : (c > 0 ? 1 : 0));
    }
    case ChoiceRule::kNumericEquals:
    case ChoiceRule::kNumericLessThan:
    case ChoiceRule::kNumericGreaterThan:
    case ChoiceRule::kNumericLessThanEquals:
    case ChoiceRule::kNumericGreaterThanEquals: {
      if (!v->is_number() || !operand->is_number()) return false;
      if (v->is_int64() && operand->is_int64()) {
        int64_t a = v->get_int64(), b = operand->get_int64();
        return CmpResult(r.op, a < b ? -1 : (a > b ? 1 : 0));
      }
      return CmpResult(r.op, Compare(AsDouble(*v), AsDouble(*operand)));
    }
    default: {  // timestamps
      if (!v->is_string()) return false;
      auto a = ParseTimestamp(v->get_string());
      std::optional<absl::Time> b = r.timestamp;
      if (r.operand_is_path) {
        b = operand->is_string() ? ParseTimestamp(operand->get_string()) : std::nullopt;
      }
      if (!a || !b) return false;
      return CmpResult(r.op, *a < *b ? -1 : (*a > *b ? 1 : 0));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// States.

void ExecutionImpl::Execute(Frame& f) {
  const State& s = f.scope->states[f.state];
  auto fail = [&](const absl::Status& st) {
    Failure failure = Failure::From(st);
    if (s.type == StateType::kTask || s.type == StateType::kMap || s.type == StateType::kParallel) {
      HandleError(f, std::move(failure));
    } else {
      NoteEvaluationFailure(f, failure);
      FinishFrame(f, st, std::move(failure));
    }
  };
#define STEP(lhs, expr)      \
  auto _r_##lhs = (expr);    \
  if (!_r_##lhs.ok()) {      \
    fail(_r_##lhs.status()); \
    return;                  \
  }                          \
  lhs = *std::move(_r_##lhs)

  switch (s.type) {
    case StateType::kPass: {
      if (s.jsonata) {
        FrameEnv env(*this, f);
        Json out;
        if (s.output) {
          STEP(out, EvaluateTemplate(*s.output, f.input, env));
        } else {
          out = f.input;
        }
        if (absl::Status st = ApplyAssign(f, s.assign, f.input, nullptr, nullptr); !st.ok()) {
          return fail(st);
        }
        return ExitState(f, std::move(out), s.next);
      }
      Json effective;
      STEP(effective, ApplyInputPath(s, f.input));
      if (s.parameters) {
        FrameEnv env(*this, f);
        STEP(effective, EvaluateTemplate(*s.parameters, effective, env));
      }
      Json result = s.result ? *s.result : std::move(effective);
      if (!s.assign && !s.result_path.discard && !s.result_path.path && !s.output_path &&
          !s.output_path_null) {
        return ExitState(f, std::move(result), s.next);  // the common fast path
      }
      Json out;
      STEP(out, FinishResult(f, f.input, std::move(result), Json()));
      return ExitState(f, std::move(out), s.next);
    }
    case StateType::kSucceed:
    case StateType::kChoice: {
      Json effective;
      if (s.jsonata) {
        effective = f.input;
      } else {
        STEP(effective, ApplyInputPath(s, f.input));
      }
      int next = -1;
      const ChoiceRule* matched = nullptr;
      if (s.type == StateType::kChoice) {
        FrameEnv env(*this, f);
        for (const auto& rule : s.choices) {
          bool hit;
          STEP(hit, EvalRule(rule, effective, env));
          if (hit) {
            matched = &rule;
            break;
          }
        }
        if (matched) {
          next = matched->next;
        } else if (s.default_next >= 0) {
          next = s.default_next;
        } else {
          return fail(StatesError("States.NoChoiceMatched",
                                  fmt::format("No Matches! at state '{}'", s.name)));
        }
      }
      Json out;
      if (s.jsonata) {
        FrameEnv env(*this, f);
        const std::optional<Template>& output = matched ? matched->output : s.output;
        if (output) {
          STEP(out, EvaluateTemplate(*output, f.input, env));
        } else {
          out = f.input;
        }
      } else {
        STEP(out, ApplyOutputPath(s, effective));
      }
      // A matching rule's Assign applies; the state's own Assign when Default is taken.
      const std::optional<Template>& assign = matched ? matched->assign : s.assign;
      if (absl::Status st = ApplyAssign(f, assign, effective, nullptr, nullptr); !st.ok()) {
        return fail(st);
      }
      if (s.type == StateType::kSucceed) {
        if (absl::Status st = CheckSize(out, "output", s.name); !st.ok()) return fail(st);
        if (keep_history_) {
          Record(&f, "SucceedStateExited", nullptr, &s.name, Data::kOutput, &out);
        }
        return FinishFrame(f, std::move(out), std::nullopt);
      }
      return ExitState(f, std::move(out), next);
    }
    case StateType::kFail: {
      Failure failure;
      failure.error = s.error;
      failure.cause = s.cause;
      FrameEnv env(*this, f);
      if (s.error_expr) {
        Json v;
        STEP(v, EvaluateTemplate(*s.error_expr, f.input, env));
        failure.error = v.is_string() ? std::string(v.get_string()) : ToJsonText(v);
      }
      if (s.cause_expr) {
        Json v;
        STEP(v, EvaluateTemplate(*s.cause_expr, f.input, env));
        failure.cause = v.is_string() ? std::string(v.get_string()) : ToJsonText(v);
      }
      return FinishFrame(f, absl::UnknownError("failed"), std::move(failure));
    }
    case StateType::kWait: {
      Json effective;
      FrameEnv env(*this, f);
      if (s.jsonata) {
        effective = f.input;
      } else {
        STEP(effective, ApplyInputPath(s, f.input));
      }
      // From when the state was entered: a Wait resumed after a recovery keeps its deadline.
      absl::Time now = f.entered;
      absl::Time until = now;
      if (s.wait_seconds.present()) {
        std::optional<int64_t> secs;
        STEP(secs, ReadNumber(s.wait_seconds, effective, env, "Seconds"));
        until = now + absl::Seconds(secs.value_or(0));
      } else if (s.wait_timestamp) {
        until = *s.wait_timestamp;
      } else {
        const Json* v = nullptr;
        Json holder;
        std::string origin;
        if (s.wait_timestamp_path) {
          v = FindPath(*s.wait_timestamp_path, effective, env);
          origin = s.wait_timestamp_path->text();
          if (!v) {
            return fail(RuntimeError(fmt::format(
                "The TimestampPath field references a path that does not exist: {}", origin)));
          }
        } else {
          STEP(holder, EvaluateTemplate(*s.wait_timestamp_expr, f.input, env));
          v = &holder;
        }
        std::optional<absl::Time> t;
        if (v->is_string()) t = ParseTimestamp(v->get_string());
        if (!t) {
          std::string msg = fmt::format(
              "An error occurred while executing the state '{}'. The TimestampPath parameter "
              "does not reference a valid ISO-8601 extended offset date-time format string: "
              "{} == {}",
              s.name, origin, v->is_string() ? std::string(v->get_string()) : ToJsonText(*v));
          return fail(s.jsonata ? StatesError("States.QueryEvaluationError", msg)
                                : RuntimeError(msg));
        }
        until = *t;
      }
      auto finish = [this, &s](Frame& fr, Json eff) {
        Json out;
        if (s.jsonata) {
          FrameEnv env(*this, fr);
          if (s.output) {
            auto r = EvaluateTemplate(*s.output, fr.input, env);
            if (!r.ok()) return FinishFrame(fr, r.status(), Failure::From(r.status()));
            out = *std::move(r);
          } else {
            out = fr.input;
          }
        } else {
          auto r = ApplyOutputPath(s, eff);
          if (!r.ok()) return FinishFrame(fr, r.status(), Failure::From(r.status()));
          out = *std::move(r);
        }
        if (absl::Status st = ApplyAssign(fr, s.assign, eff, nullptr, nullptr); !st.ok()) {
          return FinishFrame(fr, st, Failure::From(st));
        }
        ExitState(fr, std::move(out), s.next);
      };
      if (until <= clock_->Now()) return finish(f, std::move(effective));
      f.hold = std::move(effective);
      ScheduleResume(f, until, [finish](Frame& fr) { finish(fr, std::move(fr.hold)); });
      return;
    }
    case StateType::kTask: {
      FrameEnv env(*this, f);
      if (s.resource.ends_with(".waitForTaskToken")) {
        std::string resumed = std::exchange(f.resumed_token, {});
        const bool fresh = resumed.empty();
        f.task_token = TaskTokens(hub_).NewToken(
            {.execution = weak_from_this(), .frame = FrameRef(f), .seq = f.seq},
            std::move(resumed));
        if (fresh && log_ != nullptr && &f == root_.get()) {
          log_->Append(TaskTokenIssued{arn_, f.task_token});
        }
      }
      Json payload;
      if (s.jsonata) {
        if (s.arguments) {
          STEP(payload, EvaluateTemplate(*s.arguments, f.input, env));
        } else {
          payload = f.input;
        }
      } else {
        Json effective;
        STEP(effective, ApplyInputPath(s, f.input));
        if (s.parameters) {
          STEP(payload, EvaluateTemplate(*s.parameters, effective, env));
        } else {
          payload = std::move(effective);
        }
      }
      if (absl::Status st = CheckSize(payload, "input", s.name); !st.ok()) return fail(st);
      return StartTask(f, std::move(payload));
    }
    case StateType::kParallel:
    case StateType::kMap: {
      Json effective;
      if (s.jsonata) {
        if (s.type == StateType::kParallel && s.arguments) {
          FrameEnv env(*this, f);
          STEP(effective, EvaluateTemplate(*s.arguments, f.input, env));
        } else {
          effective = f.input;
        }
      } else {
        STEP(effective, ApplyInputPath(s, f.input));
        if (s.type == StateType::kParallel && s.parameters) {
          FrameEnv env(*this, f);
          STEP(effective, EvaluateTemplate(*s.parameters, effective, env));
        }
      }
      return StartFanOut(f, std::move(effective));
    }
  }
#undef STEP
}

void ExecutionImpl::StartTask(Frame& f, Json payload) {
  const State& s = f.scope->states[f.state];
  FrameEnv env(*this, f);
  auto timeout = ReadNumber(s.timeout_seconds, f.input, env, "TimeoutSeconds", false);
  auto heartbeat = ReadNumber(s.heartbeat_seconds, f.input, env, "HeartbeatSeconds", false);
  if (!timeout.ok() || !heartbeat.ok()) {
    absl::Status st = !timeout.ok() ? timeout.status() : heartbeat.status();
    return HandleError(f, Failure::From(st));
  }
  bool lambda = IsLambdaArn(s.resource);
  if (keep_history_) {
    if (lambda) {
      JsonObject d{{"resource", s.resource},
                   {"input", ToJsonText(payload)},
                   {"inputDetails", JsonObject{{"truncated", false}}}};
      if (*timeout) d["timeoutInSeconds"] = **timeout;
      Record(&f, "LambdaFunctionScheduled", std::move(d));
      Record(&f, "LambdaFunctionStarted", JsonObject());
    } else {
      std::string_view r = s.resource;
      std::string_view rest =
          r.substr(std::min(r.size(), std::string_view("arn:aws:states:::").size()));
      size_t colon = rest.find(':');
      JsonObject d{
          {"resourceType", std::string(rest.substr(0, colon))},
          {"resource", std::string(colon == std::string_view::npos ? "" : rest.substr(colon + 1))},
          {"region", hub_.environment().region},
          {"parameters", ToJsonText(payload)}};
      if (*timeout) d["timeoutInSeconds"] = **timeout;
      if (*heartbeat) d["heartbeatInSeconds"] = **heartbeat;
      Record(&f, "TaskScheduled", d);
      Record(&f, "TaskStarted",
             JsonObject{{"resourceType", d["resourceType"]}, {"resource", d["resource"]}});
    }
  }
  std::weak_ptr<ExecutionImpl> weak_x = weak_from_this();
  std::weak_ptr<Frame> weak_f = FrameRef(f);
  uint64_t seq = f.seq;
  auto on_timeout = [this, lambda](Frame& fr, bool heartbeat) {
    Failure failure;
    failure.error = "States.Timeout";
    failure.heartbeat = heartbeat;
    if (keep_history_) {
      JsonObject d{{"error", "States.Timeout"}};
      Record(&fr, lambda ? "LambdaFunctionTimedOut" : "TaskTimedOut", std::move(d));
    }
    if (!fr.task_token.empty()) TaskTokens(hub_).MarkTimedOut(fr.task_token);
    ClearWait(fr);
    HandleError(fr, std::move(failure));
  };
  if (*timeout) {
    ScheduleResume(f, clock_->Now() + absl::Seconds(**timeout),
                   [on_timeout](Frame& fr) { on_timeout(fr, false); });
  }
  if (*heartbeat) {
    f.heartbeat_seconds = **heartbeat;
    f.on_heartbeat_timeout = [on_timeout](Frame& fr) { on_timeout(fr, true); };
    f.heartbeat_timer =
        ScheduleResume(f, clock_->Now() + absl::Seconds(**heartbeat), f.on_heartbeat_timeout);
  }
  TaskCall call{.resource = s.resource,
                .payload = std::move(payload),
                .task_token = f.task_token,
                .execution = shared_from_this()};
  InvokeResource(hub_, call, [weak_x, weak_f, seq](absl::StatusOr<Json> result) {
    if (auto x = weak_x.lock()) x->CompleteTask(weak_f, seq, std::move(result));
  });
}

void ExecutionImpl::CompleteTask(std::weak_ptr<Frame> weak_f, uint64_t seq,
                                 absl::StatusOr<Json> result) {
  Post([self = shared_from_this(), weak_f, seq, result = std::move(result)]() mutable {
    auto f = weak_f.lock();
    if (!f || f->seq != seq || f->finished || self->done()) return;
    self->ClearWait(*f);
    self->TaskResult(*f, std::move(result));
    self->Run(*f);
  });
}

void ExecutionImpl::Heartbeat(std::weak_ptr<Frame> weak_f, uint64_t seq) {
  Post([self = shared_from_this(), weak_f, seq] {
    auto f = weak_f.lock();
    if (!f || f->seq != seq || f->finished || self->done() || f->heartbeat_seconds <= 0) return;
    // Re-arm the heartbeat timer from now; the task's own timeout keeps its deadline.
    self->clock_->Cancel(f->heartbeat_timer);
    std::erase(f->timers, f->heartbeat_timer);
    f->heartbeat_timer = self->ScheduleResume(
        *f, self->clock_->Now() + absl::Seconds(f->heartbeat_seconds), f->on_heartbeat_timeout);
  });
}

void ExecutionImpl::TaskResult(Frame& f, absl::StatusOr<Json> result) {
  const State& s = f.scope->states[f.state];
  bool lambda = IsLambdaArn(s.resource);
  if (!result.ok()) {
    Failure failure = Failure::From(result.status());
    if (keep_history_) {
      JsonObject d;
      if (!lambda) {
        d["resourceType"] = "states";
        d["resource"] = s.resource;
      }
      if (failure.error) d["error"] = *failure.error;
      if (failure.cause) d["cause"] = *failure.cause;
      Record(&f, lambda ? "LambdaFunctionFailed" : "TaskFailed", std::move(d));
    }
    return HandleError(f, std::move(failure));
  }
  if (absl::Status st = CheckSize(*result, "result", s.name); !st.ok()) {
    return HandleError(f, Failure::From(st));
  }
  if (keep_history_) {
    Record(&f, lambda ? "LambdaFunctionSucceeded" : "TaskSucceeded",
           lambda ? Json(nullptr) : Json(JsonObject{{"resource", s.resource}}), nullptr,
           Data::kOutput, &*result);
  }
  auto out = FinishResult(f, f.input, *std::move(result), Json());
  if (!out.ok()) return HandleError(f, Failure::From(out.status()));
  ExitState(f, *std::move(out), s.next);
}

void ExecutionImpl::NoteEvaluationFailure(Frame& f, const Failure& failure) {
  if (!keep_history_ || failure.name() != "States.QueryEvaluationError") return;
  JsonObject d{{"error", failure.name()}, {"state", f.scope->states[f.state].name}};
  if (failure.cause) d["cause"] = *failure.cause;
  Record(&f, "EvaluationFailed", std::move(d));
}

// StopExecution: the states still running get their Aborted events, innermost first.
void ExecutionImpl::RecordAborted(Frame& f) {
  if (f.finished || f.state < 0) return;
  if (f.fan) {
    for (auto& c : f.fan->children) {
      if (c) RecordAborted(*c);
    }
  }
  const State& s = f.scope->states[f.state];
  switch (s.type) {
    case StateType::kTask:
      Record(&f, "TaskStateAborted", nullptr, &s.name);
      break;
    case StateType::kWait:
      Record(&f, "WaitStateAborted", nullptr, &s.name);
      break;
    case StateType::kMap:
      if (f.fan) Record(&f, "MapStateAborted");
      break;
    case StateType::kParallel:
      if (f.fan) Record(&f, "ParallelStateAborted");
      break;
    default:
      break;
  }
}

void ExecutionImpl::HandleError(Frame& f, Failure failure) {
  const State& s = f.scope->states[f.state];
  ClearWait(f);
  NoteEvaluationFailure(f, failure);
  if (failure.name() != "States.Runtime") {
    for (size_t i = 0; i < s.retry.size(); ++i) {
      const Retrier& r = s.retry[i];
      if (!Matches(r.errors, failure)) continue;
      if (f.retry_counts[i] < r.max_attempts) {
        double delay = r.interval_seconds * std::pow(r.backoff_rate, f.retry_counts[i]);
        if (r.max_delay_seconds) delay = std::min(delay, *r.max_delay_seconds);
        if (r.full_jitter) {
          delay *= static_cast<double>(detail::RandomBits() % 1000000) / 1000000.0;
        }
        ++f.retry_counts[i];
        ++f.retry_count;
        ScheduleResume(f, clock_->Now() + absl::Seconds(delay), [this](Frame& fr) { Execute(fr); });
        return;
      }
      break;  // the first matching retrier decides
    }
    for (const Catcher& c : s.catches) {
      if (!Matches(c.errors, failure)) continue;
      Json error_output = failure.ErrorOutput();
      Json out;
      if (s.jsonata) {
        FrameEnv env(*this, f);
        env.error_output = &error_output;
        if (c.output) {
          auto r = EvaluateTemplate(*c.output, f.input, env);
          if (!r.ok()) return FinishFrame(f, r.status(), Failure::From(r.status()));
          out = *std::move(r);
        } else {
          out = error_output;
        }
      } else {
        auto r = ApplyResultPath(c.result_path, f.input, error_output);
        if (!r.ok()) return FinishFrame(f, r.status(), Failure::From(r.status()));
        out = *std::move(r);
      }
      if (absl::Status st = ApplyAssign(f, c.assign, error_output, nullptr, &error_output);
          !st.ok()) {
        return FinishFrame(f, st, Failure::From(st));
      }
      return ExitState(f, std::move(out), c.next);
    }
  }
  FinishFrame(f, absl::UnknownError("failed"), std::move(failure));
}

// ---------------------------------------------------------------------------------------------
// Map and Parallel.

void ExecutionImpl::StartFanOut(Frame& f, Json effective) {
  const State& s = f.scope->states[f.state];
  auto fan = std::make_unique<FanOut>();
  fan->is_map = s.type == StateType::kMap;
  FrameEnv env(*this, f);
  auto fail = [&](absl::Status st) { HandleError(f, Failure::From(st)); };
  size_t total;
  if (fan->is_map) {
    Json items;
    if (s.jsonata) {
      if (s.items_expr) {
        auto r = EvaluateTemplate(*s.items_expr, f.input, env);
        if (!r.ok()) return fail(r.status());
        items = *std::move(r);
      } else {
        items = f.input;
      }
      if (!items.is_array()) {
        return fail(StatesError("States.QueryEvaluationError",
                                fmt::format("The Items of the Map state '{}' must be an array, "
                                            "got {}",
                                            s.name, JsonTypeName(items))));
      }
    } else {
      if (s.items_path) {
        const Json* v = FindPath(*s.items_path, effective, env);
        std::optional<Json> holder;
        if (!s.items_path->definite()) {
          holder = EvaluatePath(*s.items_path, effective, env);
          v = holder ? &*holder : nullptr;
        }
        if (!v) {
          return fail(RuntimeError(fmt::format(
              "Invalid path '{}' : No results for path: the ItemsPath of the Map state '{}'",
              s.items_path->text(), s.name)));
        }
        items = *v;
      } else {
        items = effective;
      }
      if (!items.is_array()) {
        return fail(RuntimeError(fmt::format(
            "Map state input must be an array: the ItemsPath '{}' of the Map state '{}' "
            "selected a value of type {}",
            s.items_path ? s.items_path->text() : "$", s.name, JsonTypeName(items))));
      }
    }
    fan->items = std::move(items.get_array());
    fan->selector_input = std::move(effective);
    total = fan->items.size();
    auto mc = ReadNumber(s.max_concurrency, f.input, env, "MaxConcurrency");
    if (!mc.ok()) return fail(mc.status());
    fan->limit = (*mc && **mc > 0) ? static_cast<size_t>(**mc) : total;
    // An inline Map runs at most 40 iterations at once.
    if (!s.distributed) fan->limit = std::min<size_t>(fan->limit, 40);
    auto tc = ReadNumber(s.tolerated_failure_count, f.input, env, "ToleratedFailureCount");
    if (!tc.ok()) return fail(tc.status());
    if (*tc) fan->tolerated_count = static_cast<double>(**tc);
    if (s.tolerated_failure_percentage.present()) {
      if (s.tolerated_failure_percentage.value) {
        fan->tolerated_percentage = *s.tolerated_failure_percentage.value;
      } else {
        const Json* v = nullptr;
        std::optional<Json> holder;
        if (s.tolerated_failure_percentage.path) {
          v = FindPath(*s.tolerated_failure_percentage.path, f.input, env);
        } else {
          auto r = EvaluateTemplate(*s.tolerated_failure_percentage.expr, f.input, env);
          if (!r.ok()) return fail(r.status());
          holder = *std::move(r);
          v = &*holder;
        }
        if (!v || !v->is_number() || AsDouble(*v) < 0 || AsDouble(*v) > 100) {
          return fail(
              RuntimeError("ToleratedFailurePercentage must be a number between 0 and 100"));
        }
        fan->tolerated_percentage = AsDouble(*v);
      }
    }
    Record(&f, "MapStateStarted", JsonObject{{"length", static_cast<int64_t>(total)}});
  } else {
    total = s.branches.size();
    fan->limit = total;
    fan->selector_input = std::move(effective);
    Record(&f, "ParallelStateStarted", JsonObject());
  }
  fan->children.resize(total);
  fan->results.resize(total);
  f.fan = std::move(fan);
  Pump(f);
}

void ExecutionImpl::Pump(Frame& f) {
  if (!f.fan || f.fan->pumping) return;
  FanOut& fan = *f.fan;
  const State& s = f.scope->states[f.state];
  fan.pumping = true;
  size_t total = fan.children.size();
  while (!fan.over && fan.running < fan.limit && fan.next < total && !done()) {
    size_t i = fan.next++;
    ++fan.running;
    auto child = std::make_shared<Frame>();
    child->parent = &f;
    child->owner = &fan;
    child->child_index = i;
    child->last_event = f.last_event;
    fan.children[i] = child;
    Json input;
    if (fan.is_map) {
      child->scope = s.processor.get();
      if (keep_history_) {
        Record(child.get(), "MapIterationStarted", nullptr, &s.name, Data::kNone, nullptr,
               static_cast<int64_t>(i));
      }
      if (s.parameters) {
        FrameEnv env(*this, f);
        env.item_value = &fan.items[i];
        env.item_index = static_cast<int64_t>(i);
        auto r = EvaluateTemplate(*s.parameters, fan.selector_input, env);
        if (!r.ok()) {
          fan.over = true;
          fan.failure = Failure::From(r.status());
          child->finished = true;
          break;
        }
        input = *std::move(r);
      } else {
        input = std::move(fan.items[i]);  // a retry of the Map state re-reads the items
      }
    } else {
      child->scope = s.branches[i].get();
      input = fan.selector_input;
    }
    child->pending = true;
    child->pending_index = child->scope->start;
    child->pending_input = std::move(input);
    Run(*child);
  }
  fan.pumping = false;
  if (fan.over || fan.done == total) FanOutDone(f);
}

void ExecutionImpl::ChildDone(Frame& child, absl::StatusOr<Json> result,
                              std::optional<Failure> failure) {
  FanOut& fan = *child.owner;
  Frame& parent = *child.parent;
  const State& s = parent.scope->states[parent.state];
  --fan.running;
  ++fan.done;
  if (fan.is_map && keep_history_) {
    Record(&child, failure ? "MapIterationFailed" : "MapIterationSucceeded", nullptr, &s.name,
           Data::kNone, nullptr, static_cast<int64_t>(child.child_index));
  }
  if (failure) {
    ++fan.failed;
    bool tolerant = fan.tolerated_count || fan.tolerated_percentage;
    if (!tolerant) {
      if (!fan.over) {
        fan.over = true;
        fan.failure = std::move(failure);
      }
    } else {
      fan.results[child.child_index] = failure->ErrorOutput();
      double total = static_cast<double>(fan.children.size());
      bool over_count = fan.tolerated_count && fan.failed > *fan.tolerated_count;
      bool over_pct = fan.tolerated_percentage &&
                      100.0 * static_cast<double>(fan.failed) / total > *fan.tolerated_percentage;
      if (!fan.tolerated_count) over_count = over_pct;
      if (!fan.tolerated_percentage) over_pct = over_count;
      if ((over_count && over_pct) && !fan.over) {
        fan.over = true;
        Failure f;
        f.error = "States.ExceedToleratedFailureThreshold";
        f.cause = fmt::format(
            "The specified tolerated failure threshold was exceeded: {} of {} "
            "iterations failed",
            fan.failed, fan.children.size());
        fan.failure = std::move(f);
      }
    }
  } else {
    fan.results[child.child_index] = *std::move(result);
  }
  if (!fan.pumping) Pump(parent);
}

void ExecutionImpl::FanOutDone(Frame& f) {
  std::unique_ptr<FanOut> fan = std::move(f.fan);
  const State& s = f.scope->states[f.state];
  if (fan->over) {
    for (auto& c : fan->children) {
      if (c && !c->finished) {
        CancelFrame(*c);
        if (fan->is_map && keep_history_) {
          Record(c.get(), "MapIterationAborted", nullptr, &s.name, Data::kNone, nullptr,
                 static_cast<int64_t>(c->child_index));
        }
      }
    }
    Record(&f, fan->is_map ? "MapStateFailed" : "ParallelStateFailed", JsonObject());
    return HandleError(f, std::move(*fan->failure));
  }
  JsonArray results;
  results.reserve(fan->results.size());
  for (auto& r : fan->results) results.push_back(r ? std::move(*r) : Json());
  Record(&f, fan->is_map ? "MapStateSucceeded" : "ParallelStateSucceeded", JsonObject());
  auto out = FinishResult(f, f.input, Json(std::move(results)), Json());
  if (!out.ok()) return HandleError(f, Failure::From(out.status()));
  ExitState(f, *std::move(out), s.next);
}

}  // namespace courier::states_internal
