// The Lambda service: registered functions by ARN in the hub, and its operation table (Invoke).
#include <fmt/format.h>

#include "courier/detail/hub_registry.h"
#include "courier/hub.h"
#include "courier/lambda.h"
#include "courier/service.h"
#include "courier/status.h"

namespace courier {

// The hub's "lambda" service: owns the typed API and answers AWS's operation table.
class LambdaOperations final : public Service {
 public:
  explicit LambdaOperations(Hub& hub) : lambda_(hub) {}
  std::string_view name() const override { return "lambda"; }
  // Invoke {"FunctionName", "Payload"} -> {"StatusCode": 200, "Payload", "ExecutedVersion"}; a
  // handler's error is Lambda's unhandled function error ({"FunctionError": "Unhandled",
  // "Payload": {"errorType", "errorMessage"}}), as AWS reports it with status 200.
  absl::StatusOr<Json> Invoke(std::string_view operation, const Json& request,
                              const Caller&) override {
    if (operation != "Invoke") {
      return AwsErrorF("UnknownOperationException", "Unknown operation {}", operation);
    }
    const JsonObject* fields = request.if_object();
    const Json* name = fields ? fields->if_contains("FunctionName") : nullptr;
    if (name == nullptr || !name->is_string()) {
      return AwsError("InvalidParameterValueException", "FunctionName is required");
    }
    std::shared_ptr<Function> fn = lambda_.FindFunction(name->get_string());
    if (fn == nullptr) {
      return AwsErrorF("ResourceNotFoundException", "Function not found: {}",
                       std::string_view(name->get_string()));
    }
    const Json* payload = fields->if_contains("Payload");
    absl::StatusOr<Json> result = fn->Invoke(payload ? *payload : Json(JsonObject()));
    JsonObject out{{"StatusCode", 200}, {"ExecutedVersion", "$LATEST"}};
    if (result.ok()) {
      out["Payload"] = *std::move(result);
    } else {
      out["FunctionError"] = "Unhandled";
      out["Payload"] = JsonObject{{"errorType", FunctionErrorName(result.status())},
                                  {"errorMessage", FunctionErrorCause(result.status())}};
    }
    return Json(std::move(out));
  }
  LambdaService& typed() { return lambda_; }

 private:
  LambdaService lambda_;
};

namespace {

const ServiceRegistrar kRegistrar("lambda", [](Hub& hub) -> std::unique_ptr<Service> {
  return std::make_unique<LambdaOperations>(hub);
});

constexpr size_t kMaxNameLength = 64;

bool ValidFunctionName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace
COURIER_SERVICE_ANCHOR(lambda);

LambdaService& Lambda(Hub& hub) {
  // Registered above, so every hub of a program that links this file has it.
  return static_cast<LambdaOperations*>(hub.FindService("lambda"))->typed();
}

std::string LambdaService::ArnOf(std::string_view name) const {
  return hub_.Arn("lambda", fmt::format("function:{}", name));
}

absl::StatusOr<std::shared_ptr<Function>> LambdaService::Add(std::string_view name,
                                                             std::shared_ptr<Function> fn) {
  if (absl::Status st = detail::AddResource(hub_, fn); !st.ok()) {
    return AwsErrorF("ResourceConflictException", "Function already exist: {}", name);
  }
  return fn;
}

absl::StatusOr<std::shared_ptr<Function>> LambdaService::RegisterFunction(std::string_view name,
                                                                          FunctionHandler handler) {
  if (!ValidFunctionName(name)) {
    return InvalidParameterValue(fmt::format("Invalid function name: '{}'", name));
  }
  return Add(name, std::make_shared<Function>(std::string(name), ArnOf(name), std::move(handler)));
}

absl::StatusOr<std::shared_ptr<Function>> LambdaService::RegisterAsyncFunction(
    std::string_view name, AsyncFunctionHandler handler) {
  if (!ValidFunctionName(name)) {
    return InvalidParameterValue(fmt::format("Invalid function name: '{}'", name));
  }
  return Add(name, std::make_shared<Function>(std::string(name), ArnOf(name), std::move(handler)));
}

std::shared_ptr<Function> LambdaService::FindFunction(std::string_view name_or_arn) const {
  if (!name_or_arn.starts_with("arn:")) {
    return std::dynamic_pointer_cast<Function>(hub_.FindResource(ArnOf(name_or_arn)));
  }
  if (auto fn = std::dynamic_pointer_cast<Function>(hub_.FindResource(name_or_arn))) return fn;
  // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
  const size_t at = name_or_arn.find(":function:");
  if (at == std::string_view::npos) return nullptr;
  std::string_view rest = name_or_arn.substr(at + std::string_view(":function:").size());
  rest = rest.substr(0, rest.find(':'));
  return std::dynamic_pointer_cast<Function>(hub_.FindResource(ArnOf(rest)));
}

}  // namespace courier
