#include "courier/hub.h"

#include <fmt/format.h>

#include "courier/detail/hub_registry.h"
#include "courier/service.h"
#include "courier/status.h"

namespace courier {
namespace {

// Filled by ServiceRegistrar objects during static initialization.
std::map<std::string, ServiceFactory, std::less<>>& ServiceFactories() {
  static auto* factories = new std::map<std::string, ServiceFactory, std::less<>>();
  return *factories;
}

}  // namespace

ServiceRegistrar::ServiceRegistrar(std::string_view name, ServiceFactory factory) {
  ServiceFactories()[std::string(name)] = factory;
}

Hub::Hub() : Hub(Environment::Default()) {}

Hub::Hub(Environment environment) : environment_(std::move(environment)) {
  if (!environment_.clock) environment_.clock = std::make_shared<SystemClock>();
  if (!environment_.executor) environment_.executor = std::make_shared<ThreadPoolExecutor>();
  if (!environment_.storage) environment_.storage = Environment::DefaultStorage();
  for (const auto& [name, factory] : ServiceFactories()) services_[name] = factory(*this);
}

Hub::~Hub() {
  for (auto& [name, service] : services_) service->Shutdown();
  // Handles may outlive the hub: each then answers as a deleted resource does.
  detail::MutexLock lock(&mu_);
  for (auto& [arn, resource] : resources_) resource->MarkDeleted();
}

std::string Hub::Arn(std::string_view service, std::string_view resource) const {
  return fmt::format("arn:aws:{}:{}:{}:{}", service, environment_.region, environment_.account,
                     resource);
}

absl::Status Hub::Recover() {
  for (auto& [name, service] : services_) COURIER_RETURN_IF_ERROR(service->Recover());
  return absl::OkStatus();
}

Service* Hub::FindService(std::string_view name) const {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Json> Invoke(Hub& hub, std::string_view service, std::string_view operation,
                            const Json& request, const Caller& caller) {
  Service* s = hub.FindService(service);
  if (s == nullptr) {
    return AwsErrorF("InvalidAction",
                     "The action {} is not valid for this endpoint: no service '{}' is linked "
                     "into this program.",
                     operation, service);
  }
  Caller who = caller;
  if (who.account.empty()) who.account = hub.environment().account;
  if (who.region.empty()) who.region = hub.environment().region;
  if (who.principal_arn.empty())
    who.principal_arn = fmt::format("arn:aws:iam::{}:root", who.account);
  return s->Invoke(operation, request, who);
}

std::shared_ptr<Resource> Hub::FindResource(std::string_view arn) const {
  detail::MutexLock lock(&mu_);
  auto it = resources_.find(arn);
  return it == resources_.end() ? nullptr : it->second;
}

std::shared_ptr<MessageSink> Hub::FindSink(std::string_view arn) const {
  return std::dynamic_pointer_cast<MessageSink>(FindResource(arn));
}

absl::Status Hub::AddResource(std::shared_ptr<Resource> resource) {
  detail::MutexLock lock(&mu_);
  auto [it, inserted] = resources_.try_emplace(resource->arn(), resource);
  if (!inserted) {
    return absl::AlreadyExistsError(fmt::format("{} already exists", resource->arn()));
  }
  return absl::OkStatus();
}

std::shared_ptr<Resource> Hub::RemoveResource(std::string_view arn) {
  detail::MutexLock lock(&mu_);
  auto it = resources_.find(arn);
  if (it == resources_.end()) return nullptr;
  std::shared_ptr<Resource> removed = std::move(it->second);
  resources_.erase(it);
  return removed;
}

std::vector<std::shared_ptr<Resource>> Hub::ListResources(std::string_view arn_prefix) const {
  std::vector<std::shared_ptr<Resource>> out;
  {
    detail::MutexLock lock(&mu_);
    for (auto it = resources_.lower_bound(arn_prefix);
         it != resources_.end() && std::string_view(it->first).starts_with(arn_prefix); ++it) {
      out.push_back(it->second);
    }
  }
  return out;
}

namespace detail {
absl::Status AddResource(Hub& hub, std::shared_ptr<Resource> resource) {
  return hub.AddResource(std::move(resource));
}
std::shared_ptr<Resource> RemoveResource(Hub& hub, std::string_view arn) {
  return hub.RemoveResource(arn);
}
}  // namespace detail

}  // namespace courier
