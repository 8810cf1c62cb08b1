// Mobile push (platform applications and their endpoints) and the SMS sandbox's phone numbers:
// the parts of SNS that name devices and numbers rather than topics. Deliveries to them land
// in outboxes (SnsService::Outbox), as every endpoint outside AWS does.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/sns.h"
#include "courier/status.h"
#include "topic/sns_state.h"

namespace courier {

using topic_internal::InvalidParameter;
namespace {

constexpr std::array<std::string_view, 11> kPlatforms = {
    "ADM",   "APNS",          "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "GCM",
    "MACOS", "MACOS_SANDBOX", "MPNS",         "WNS"};

constexpr std::array<std::string_view, 11> kApplicationAttributes = {
    "PlatformCredential",     "PlatformPrincipal",      "EventEndpointCreated",
    "EventEndpointDeleted",   "EventEndpointUpdated",   "EventDeliveryFailure",
    "SuccessFeedbackRoleArn", "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate",
    "ApplePlatformTeamID",    "ApplePlatformBundleID"};

absl::Status ApplicationNotFound() {
  return AwsError("NotFound", "PlatformApplication does not exist");
}
absl::Status EndpointNotFound() { return AwsError("NotFound", "Endpoint does not exist"); }

bool Contains(auto& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// E.164: a plus and up to 15 digits.
bool ValidPhoneNumber(std::string_view p) {
  if (!p.starts_with('+')) return false;
  p.remove_prefix(1);
  return !p.empty() && p.size() <= 15 &&
         std::all_of(p.begin(), p.end(), [](unsigned char c) { return std::isdigit(c); });
}

absl::Status CheckApplicationAttributes(const SnsAttributeMap& attributes) {
  for (const auto& [name, value] : attributes) {
    if (!Contains(kApplicationAttributes, name)) {
      return InvalidParameter(fmt::format("Attributes Reason: Invalid attribute name: {}", name));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEndpointAttributes(const SnsAttributeMap& attributes) {
  for (const auto& [name, value] : attributes) {
    if (name != "CustomUserData" && name != "Enabled" && name != "Token") {
      return InvalidParameter(fmt::format("Attributes Reason: Invalid attribute name: {}", name));
    }
    if (name == "Enabled" && value != "true" && value != "false") {
      return InvalidParameter("Attributes Reason: Enabled must be true or false");
    }
    if (name == "Token" && value.empty()) return InvalidParameter("Attributes Reason: Token");
  }
  return absl::OkStatus();
}

// What GetPlatformApplicationAttributes answers: never the credentials.
SnsAttributeMap Visible(const SnsAttributeMap& attributes) {
  SnsAttributeMap out = attributes;
  out.erase("PlatformCredential");
  out.erase("PlatformPrincipal");
  out.emplace("Enabled", "true");
  return out;
}

}  // namespace

// ---- Platform applications ----------------------------------------------------------------------

absl::StatusOr<std::string> SnsService::CreatePlatformApplication(
    std::string_view name, std::string_view platform, const SnsAttributeMap& attributes) {
  const bool name_ok = !name.empty() && name.size() <= 256 &&
                       std::all_of(name.begin(), name.end(), [](unsigned char c) {
                         return std::isalnum(c) || c == '_' || c == '-' || c == '.';
                       });
  if (!name_ok) return InvalidParameter("Name");
  if (!Contains(kPlatforms, platform)) return InvalidParameter("Platform");
  COURIER_RETURN_IF_ERROR(CheckApplicationAttributes(attributes));
  if (!attributes.contains("PlatformCredential")) {
    return InvalidParameter("Attributes Reason: PlatformCredential attribute is required");
  }
  const std::string arn = hub_.Arn("sns", fmt::format("app/{}/{}", platform, name));
  std::lock_guard lock(state_->outbox_mu);
  topic_internal::PlatformApplication& app = state_->applications[arn];
  app.name = std::string(name);
  app.platform = std::string(platform);
  app.attributes = attributes;  // creating it again replaces its attributes
  return arn;
}

absl::StatusOr<SnsAttributeMap> SnsService::GetPlatformApplicationAttributes(
    std::string_view arn) const {
  std::lock_guard lock(state_->outbox_mu);
  auto it = state_->applications.find(arn);
  if (it == state_->applications.end()) return ApplicationNotFound();
  return Visible(it->second.attributes);
}

absl::Status SnsService::SetPlatformApplicationAttributes(std::string_view arn,
                                                          const SnsAttributeMap& attributes) {
  COURIER_RETURN_IF_ERROR(CheckApplicationAttributes(attributes));
  std::lock_guard lock(state_->outbox_mu);
  auto it = state_->applications.find(arn);
  if (it == state_->applications.end()) return ApplicationNotFound();
  for (const auto& [k, v] : attributes) it->second.attributes[k] = v;
  return absl::OkStatus();
}

std::vector<PlatformResource> SnsService::ListPlatformApplications() const {
  std::lock_guard lock(state_->outbox_mu);
  std::vector<PlatformResource> out;
  for (const auto& [arn, app] : state_->applications) {
    out.push_back({.arn = arn, .attributes = Visible(app.attributes)});
  }
  return out;
}

absl::Status SnsService::DeletePlatformApplication(std::string_view arn) {
  std::lock_guard lock(state_->outbox_mu);
  if (auto it = state_->applications.find(arn); it != state_->applications.end()) {
    state_->applications.erase(it);
  }
  std::erase_if(state_->endpoint_registry,
                [&](const auto& e) { return e.second.application_arn == arn; });
  return absl::OkStatus();
}

// ---- Endpoints ----------------------------------------------------------------------------------

absl::StatusOr<std::string> SnsService::CreatePlatformEndpoint(std::string_view application_arn,
                                                               std::string_view token,
                                                               std::string_view custom_user_data,
                                                               const SnsAttributeMap& attributes) {
  if (token.empty()) return InvalidParameter("Token");
  COURIER_RETURN_IF_ERROR(CheckEndpointAttributes(attributes));
  SnsAttributeMap wanted = attributes;
  wanted["Token"] = std::string(token);
  if (!custom_user_data.empty()) wanted["CustomUserData"] = std::string(custom_user_data);
  wanted.emplace("Enabled", "true");
  std::lock_guard lock(state_->outbox_mu);
  auto app = state_->applications.find(application_arn);
  if (app == state_->applications.end()) return ApplicationNotFound();
  for (const auto& [arn, e] : state_->endpoint_registry) {
    auto t = e.attributes.find("Token");
    if (e.application_arn != application_arn || t == e.attributes.end() || t->second != token) {
      continue;
    }
    if (e.attributes != wanted) {
      return InvalidParameter(
          fmt::format("Token Reason: Endpoint {} already exists with the same Token, but different "
                      "attributes.",
                      arn));
    }
    return arn;
  }
  const std::string arn = hub_.Arn("sns", fmt::format("endpoint/{}/{}/{}", app->second.platform,
                                                      app->second.name, detail::NewUuid()));
  state_->endpoint_registry[arn] = {.application_arn = std::string(application_arn),
                                    .attributes = std::move(wanted)};
  return arn;
}

absl::StatusOr<SnsAttributeMap> SnsService::GetEndpointAttributes(std::string_view arn) const {
  std::lock_guard lock(state_->outbox_mu);
  auto it = state_->endpoint_registry.find(arn);
  if (it == state_->endpoint_registry.end()) return EndpointNotFound();
  return it->second.attributes;
}

absl::Status SnsService::SetEndpointAttributes(std::string_view arn,
                                               const SnsAttributeMap& attributes) {
  COURIER_RETURN_IF_ERROR(CheckEndpointAttributes(attributes));
  std::lock_guard lock(state_->outbox_mu);
  auto it = state_->endpoint_registry.find(arn);
  if (it == state_->endpoint_registry.end()) return EndpointNotFound();
  for (const auto& [k, v] : attributes) it->second.attributes[k] = v;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PlatformResource>> SnsService::ListEndpointsByPlatformApplication(
    std::string_view application_arn) const {
  std::lock_guard lock(state_->outbox_mu);
  if (!state_->applications.contains(application_arn)) return ApplicationNotFound();
  std::vector<PlatformResource> out;
  for (const auto& [arn, e] : state_->endpoint_registry) {
    if (e.application_arn == application_arn) out.push_back({arn, e.attributes});
  }
  return out;
}

absl::Status SnsService::DeleteEndpoint(std::string_view arn) {
  std::lock_guard lock(state_->outbox_mu);
  if (auto it = state_->endpoint_registry.find(arn); it != state_->endpoint_registry.end()) {
    state_->endpoint_registry.erase(it);
  }
  return absl::OkStatus();
}

// ---- SMS sandbox --------------------------------------------------------------------------------

absl::Status SnsService::CreateSmsSandboxPhoneNumber(std::string_view phone_number,
                                                     std::string_view language_code) {
  if (!ValidPhoneNumber(phone_number)) return InvalidParameter("PhoneNumber");
  constexpr std::array<std::string_view, 13> kLanguages = {
      "en-US", "en-GB", "es-419", "es-ES", "de-DE", "fr-CA", "fr-FR",
      "it-IT", "ja-JP", "pt-BR",  "kr-KR", "zh-CN", "zh-TW"};
  if (!language_code.empty() && !Contains(kLanguages, language_code)) {
    return InvalidParameter("LanguageCode");
  }
  const std::string code = fmt::format("{:06d}", detail::NewRandomUuid().lo % 1000000);
  std::lock_guard lock(state_->outbox_mu);
  state_->sandbox[std::string(phone_number)] = {.status = "Pending", .code = code};
  state_->direct[std::string(phone_number)].push_back(
      {.protocol = "sms",
       .endpoint = std::string(phone_number),
       .type = "Notification",
       .message_id = MessageId(detail::NewUuid()),
       .subject = {},
       .body = fmt::format("Your Amazon SNS verification code is: {}", code),
       .time = hub_.clock().Now()});
  return absl::OkStatus();
}

absl::Status SnsService::VerifySmsSandboxPhoneNumber(std::string_view phone_number,
                                                     std::string_view one_time_password) {
  std::lock_guard lock(state_->outbox_mu);
  auto it = state_->sandbox.find(phone_number);
  if (it == state_->sandbox.end()) {
    return AwsError("ResourceNotFound", "The phone number is not in the SMS sandbox");
  }
  if (it->second.code != one_time_password) {
    return AwsError("VerificationException", "Invalid one-time password");
  }
  it->second.status = "Verified";
  return absl::OkStatus();
}

absl::Status SnsService::DeleteSmsSandboxPhoneNumber(std::string_view phone_number) {
  std::lock_guard lock(state_->outbox_mu);
  auto it = state_->sandbox.find(phone_number);
  if (it == state_->sandbox.end()) {
    return AwsError("ResourceNotFound", "The phone number is not in the SMS sandbox");
  }
  state_->sandbox.erase(it);
  return absl::OkStatus();
}

std::vector<SandboxPhoneNumber> SnsService::ListSmsSandboxPhoneNumbers() const {
  std::lock_guard lock(state_->outbox_mu);
  std::vector<SandboxPhoneNumber> out;
  for (const auto& [number, n] : state_->sandbox) out.push_back({number, n.status});
  return out;
}

}  // namespace courier
