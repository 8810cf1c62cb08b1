// StateMachine::ToDot / ToMermaid: the definition as a flowchart, optionally coloured by what an
// execution's history says happened to each state.
#include <map>

#include "courier/state_machine.h"
#include "states/plan.h"

namespace courier {
namespace {

using states_internal::Scope;
using states_internal::State;
using states_internal::StateType;

enum class Mark { kNone, kRunning, kSucceeded, kFailed, kCaught, kRetried };

// What happened to each state (by name), from the history.
std::map<std::string, Mark> Marks(const Execution* execution) {
  std::map<std::string, Mark> marks;
  if (!execution) return marks;
  struct Info {
    int entered = 0, exited = 0, failures = 0, scheduled = 0;
  };
  std::map<std::string, Info> info;
  std::map<int64_t, std::string> state_of;  // event id → state it belongs to
  for (const HistoryEvent& e : execution->History()) {
    std::string state;
    if (e.DetailsKey() == "stateEnteredEventDetails" ||
        e.DetailsKey() == "stateExitedEventDetails") {
      state = std::string(e.details.at("name").as_string());
    } else if (auto it = state_of.find(e.previous_event_id); it != state_of.end()) {
      state = it->second;
    }
    state_of[e.id] = state;
    if (state.empty()) continue;
    Info& i = info[state];
    const std::string& t = e.type;
    if (t.ends_with("StateEntered")) ++i.entered;
    if (t.ends_with("StateExited")) ++i.exited;
    if (t == "FailStateEntered" || t.ends_with("Failed") || t.ends_with("TimedOut")) {
      if (t != "MapIterationFailed") ++i.failures;
    }
    if (t.ends_with("Scheduled")) ++i.scheduled;
  }
  for (const auto& [name, i] : info) {
    Mark m = Mark::kRunning;
    if (i.exited > 0) {
      m = i.failures == 0            ? Mark::kSucceeded
          : i.scheduled > i.failures ? Mark::kRetried
                                     : Mark::kCaught;
    } else if (i.failures > 0) {
      m = Mark::kFailed;
    }
    marks[name] = m;
  }
  if (execution->done() && execution->Describe().status == ExecutionStatus::kFailed) {
    for (auto& [name, m] : marks) {
      if (m == Mark::kRunning) m = Mark::kFailed;
    }
  }
  return marks;
}

const char* Fill(Mark m) {
  switch (m) {
    case Mark::kNone:
      return "white";
    case Mark::kRunning:
      return "#fff59d";
    case Mark::kSucceeded:
      return "#c8e6c9";
    case Mark::kFailed:
      return "#ffcdd2";
    case Mark::kCaught:
      return "#ffe0b2";
    case Mark::kRetried:
      return "#bbdefb";
  }
  return "white";
}

const char* ClassName(Mark m) {
  switch (m) {
    case Mark::kNone:
      return "";
    case Mark::kRunning:
      return "running";
    case Mark::kSucceeded:
      return "succeeded";
    case Mark::kFailed:
      return "failed";
    case Mark::kCaught:
      return "caught";
    case Mark::kRetried:
      return "retried";
  }
  return "";
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string MermaidText(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"') {
      out += "#quot;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

struct Edge {
  std::string from, to, label;
  bool dashed = false;
  bool error = false;
};

class Graph {
 public:
  explicit Graph(std::map<std::string, Mark> marks) : marks_(std::move(marks)) {}

  // Walks a scope; returns the id of its start node. `prefix` keeps ids unique across scopes.
  void Walk(const Scope& scope, const std::string& prefix, const std::string& end_id) {
    auto id = [&](int i) { return prefix + "s" + std::to_string(i); };
    for (const State& s : scope.states) {
      Node n{id(s.index), s.name, std::string(states_internal::StateTypeName(s.type)), prefix, {}};
      auto it = marks_.find(s.name);
      n.mark = it == marks_.end() ? Mark::kNone : it->second;
      nodes_.push_back(n);
      if (s.next >= 0) edges_.push_back({n.id, id(s.next), "", false, false});
      if (s.end || s.type == StateType::kSucceed)
        edges_.push_back({n.id, end_id, "", false, false});
      if (s.type == StateType::kFail) edges_.push_back({n.id, end_id, "fail", true, true});
      for (size_t r = 0; r < s.choices.size(); ++r) {
        if (s.choices[r].next >= 0) {
          edges_.push_back(
              {n.id, id(s.choices[r].next), "rule " + std::to_string(r + 1), false, false});
        }
      }
      if (s.default_next >= 0) edges_.push_back({n.id, id(s.default_next), "Default", true, false});
      for (const auto& c : s.catches) {
        std::string label = "Catch";
        for (const auto& e : c.errors) label += " " + e;
        edges_.push_back({n.id, id(c.next), label, true, true});
      }
      if (!s.retry.empty()) edges_.push_back({n.id, n.id, "Retry", true, false});
      std::vector<const Scope*> inner;
      for (const auto& b : s.branches) inner.push_back(b.get());
      if (s.processor) inner.push_back(s.processor.get());
      for (size_t k = 0; k < inner.size(); ++k) {
        std::string sub = n.id + "_" + std::to_string(k) + "_";
        clusters_.push_back({sub,
                             s.type == StateType::kMap
                                 ? "Map " + s.name
                                 : s.name + " branch " + std::to_string(k + 1),
                             nodes_.size()});
        size_t cluster = clusters_.size() - 1;
        std::string inner_end = sub + "end";
        Walk(*inner[k], sub, inner_end);
        clusters_[cluster].last_node = nodes_.size();
        edges_.push_back({n.id, sub + "s" + std::to_string(inner[k]->start), "", true, false});
        inner_ends_.push_back(inner_end);
      }
    }
  }

  std::string Dot(const std::string& name, int start) const {
    std::string out = "digraph \"" + Escape(name) + "\" {\n";
    out +=
        "  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, "
        "fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n";
    out += "  start [shape=circle, label=\"\", fillcolor=black, width=0.25];\n";
    out += "  finish [shape=doublecircle, label=\"\", fillcolor=black, width=0.2];\n";
    out += "  start -> s" + std::to_string(start) + ";\n";
    size_t c = 0;
    std::vector<size_t> open;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      while (!open.empty() && clusters_[open.back()].last_node <= i) {
        open.pop_back();
        out += std::string(2 * open.size() + 2, ' ') + "}\n";
      }
      while (c < clusters_.size() && clusters_[c].first_node == i) {
        out += std::string(2 * open.size() + 2, ' ') + "subgraph cluster_" + clusters_[c].id +
               " {\n" + std::string(2 * open.size() + 4, ' ') + "label=\"" +
               Escape(clusters_[c].label) + "\"; style=dashed;\n";
        out += std::string(2 * open.size() + 4, ' ') + clusters_[c].id +
               "end [shape=doublecircle, label=\"\", fillcolor=gray, width=0.15];\n";
        open.push_back(c++);
      }
      const Node& n = nodes_[i];
      out += std::string(2 * open.size() + 2, ' ') + n.id + " [label=\"" + Escape(n.name) + "\\n(" +
             n.type + ")\"";
      if (n.mark != Mark::kNone) out += std::string(", fillcolor=\"") + Fill(n.mark) + "\"";
      if (n.type == "Choice") out += ", shape=diamond, style=filled";
      out += "];\n";
    }
    while (!open.empty()) {
      open.pop_back();
      out += std::string(2 * open.size() + 2, ' ') + "}\n";
    }
    for (const Edge& e : edges_) {
      out += "  " + e.from + " -> " + e.to;
      std::vector<std::string> attrs;
      if (!e.label.empty()) attrs.push_back("label=\"" + Escape(e.label) + "\"");
      if (e.dashed) attrs.push_back("style=dashed");
      if (e.error) attrs.push_back("color=red");
      if (!attrs.empty()) {
        out += " [";
        for (size_t k = 0; k < attrs.size(); ++k) out += (k ? ", " : "") + attrs[k];
        out += "]";
      }
      out += ";\n";
    }
    out += "}\n";
    return out;
  }

  std::string Mermaid(int start) const {
    std::string out = "flowchart TD\n";
    out += "  start((\" \")) --> s" + std::to_string(start) + "\n";
    out += "  finish(((\" \")))\n";
    size_t c = 0;
    std::vector<size_t> open;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      while (!open.empty() && clusters_[open.back()].last_node <= i) {
        open.pop_back();
        out += std::string(2 * open.size() + 2, ' ') + "end\n";
      }
      while (c < clusters_.size() && clusters_[c].first_node == i) {
        out += std::string(2 * open.size() + 2, ' ') + "subgraph " + clusters_[c].id + "[\"" +
               MermaidText(clusters_[c].label) + "\"]\n";
        out += std::string(2 * open.size() + 4, ' ') + clusters_[c].id + "end(((\" \")))\n";
        open.push_back(c++);
      }
      const Node& n = nodes_[i];
      std::string label = "\"" + MermaidText(n.name) + "<br/><i>" + n.type + "</i>\"";
      out += std::string(2 * open.size() + 2, ' ') + n.id +
             (n.type == "Choice" ? "{" + label + "}" : "(" + label + ")") + "\n";
    }
    while (!open.empty()) {
      open.pop_back();
      out += std::string(2 * open.size() + 2, ' ') + "end\n";
    }
    for (const Edge& e : edges_) {
      std::string arrow = e.dashed ? "-.->" : "-->";
      if (!e.label.empty()) {
        arrow = e.dashed ? "-. \"" + MermaidText(e.label) + "\" .->"
                         : "-- \"" + MermaidText(e.label) + "\" -->";
      }
      out += "  " + e.from + " " + arrow + " " + e.to + "\n";
    }
    bool any = false;
    for (const Node& n : nodes_) any = any || n.mark != Mark::kNone;
    if (any) {
      for (Mark m :
           {Mark::kRunning, Mark::kSucceeded, Mark::kFailed, Mark::kCaught, Mark::kRetried}) {
        out += std::string("  classDef ") + ClassName(m) + " fill:" + Fill(m) + "\n";
      }
      for (const Node& n : nodes_) {
        if (n.mark != Mark::kNone) out += "  class " + n.id + " " + ClassName(n.mark) + "\n";
      }
    }
    return out;
  }

 private:
  struct Node {
    std::string id, name, type, prefix;
    Mark mark = Mark::kNone;
  };
  struct Cluster {
    std::string id, label;
    size_t first_node = 0;
    size_t last_node = 0;  // one past
  };
  std::map<std::string, Mark> marks_;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<Cluster> clusters_;
  std::vector<std::string> inner_ends_;
};

}  // namespace

std::string StateMachine::ToDot(const Execution* execution) const {
  auto p = plan();
  Graph g(Marks(execution));
  g.Walk(*p->root, "", "finish");
  return g.Dot(name(), p->root->start);
}

std::string StateMachine::ToMermaid(const Execution* execution) const {
  auto p = plan();
  Graph g(Marks(execution));
  g.Walk(*p->root, "", "finish");
  return g.Mermaid(p->root->start);
}

}  // namespace courier
