#include "courier/key_provider.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "courier/detail/aes_gcm.h"
#include "courier/environment.h"
#include "courier/status.h"

namespace courier {
namespace {

constexpr std::array<std::pair<KeyError, std::string_view>, 8> kExceptionNames = {{
    {KeyError::kNotFound, "NotFoundException"},
    {KeyError::kDisabled, "DisabledException"},
    {KeyError::kInvalidState, "KMSInvalidStateException"},
    {KeyError::kInvalidKeyUsage, "InvalidKeyUsageException"},
    {KeyError::kInvalidCiphertext, "InvalidCiphertextException"},
    {KeyError::kAccessDenied, "AccessDeniedException"},
    {KeyError::kOptInRequired, "OptInRequired"},
    {KeyError::kThrottled, "ThrottlingException"},
}};

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool IsAliasName(std::string_view alias) {
  if (!alias.starts_with("alias/") || alias.size() == 6 || alias.size() > 256) return false;
  for (char c : alias.substr(6)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '/' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<KeyMaterial> ParseHexKey(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  KeyMaterial key;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < key.size(); ++i) {
    const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return key;
}

// What a wrapped data key is bound to: the key, the version that wrapped it, the context.
std::string WrapContext(std::string_view key_arn, uint32_t version, std::string_view context) {
  return fmt::format("courier-data-key\n{}\n{}\n{}", key_arn, version, context);
}

constexpr uint8_t kWrapFormat = 1;

// The words of a line, split at blanks (spaces, tabs, a carriage return).
std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (i < line.size()) {
    while (i < line.size() && blank(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !blank(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

KeyMaterial RandomKeyMaterial() { return detail::RandomKey256(); }

std::string_view KmsExceptionName(KeyError error) {
  for (const auto& [e, name] : kExceptionNames) {
    if (e == error) return name;
  }
  return "KMSInternalException";
}

absl::Status KeyProviderError(KeyError error, std::string_view message) {
  return AwsError(KmsExceptionName(error), message);
}

std::optional<KeyError> KeyErrorOf(const absl::Status& status) {
  const std::string_view name = ErrorName(status);
  for (const auto& [e, n] : kExceptionNames) {
    if (n == name) return e;
  }
  return std::nullopt;
}

InMemoryKeyProvider::InMemoryKeyProvider(std::string region, std::string account)
    : region_(std::move(region)), account_(std::move(account)) {
  // The services' own, there from the start so that they are also found by key ARN (in what
  // was sealed under them before a restart).
  std::lock_guard lock(mu_);
  AddManagedLocked("alias/aws/sqs");
  AddManagedLocked("alias/aws/sns");
}

void InMemoryKeyProvider::AddManagedLocked(std::string_view alias) {
  // An AWS managed key exists in every account from its first use. Its material is derived
  // from its name, region and account, so that it is the same in every process.
  const std::string seed =
      fmt::format("courier-aws-managed-key\n{}\n{}\n{}", region_, account_, alias);
  const detail::Key256 id = detail::Sha256Key(seed + "\nid");
  std::string managed = fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-8{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}"
      "{:02x}{:02x}",
      id[0], id[1], id[2], id[3], id[4], id[5], id[6] & 15, id[7], id[8] & 15, id[9], id[10],
      id[11], id[12], id[13], id[14], id[15]);
  keys_[managed].versions = {detail::Sha256Key(seed)};
  aliases_.emplace(std::string(alias), std::move(managed));
}

std::string InMemoryKeyProvider::KeyArn(std::string_view key_id) const {
  return fmt::format("arn:aws:kms:{}:{}:key/{}", region_, account_, key_id);
}

absl::Status InMemoryKeyProvider::AddKey(std::string_view key_id, const KeyMaterial& material,
                                         KeyUsage usage) {
  if (!IsUuid(key_id)) {
    return absl::InvalidArgumentError(fmt::format("A key id is a UUID, not '{}'", key_id));
  }
  std::lock_guard lock(mu_);
  auto [it, fresh] = keys_.try_emplace(std::string(key_id));
  if (!fresh) return absl::AlreadyExistsError(fmt::format("Key {} exists", key_id));
  it->second.versions.push_back(material);
  it->second.usage = usage;
  return absl::OkStatus();
}

absl::Status InMemoryKeyProvider::AddAlias(std::string_view alias, std::string_view key_id) {
  if (!IsAliasName(alias) || alias.starts_with("alias/aws/")) {
    return absl::InvalidArgumentError(fmt::format(
        "'{}' is not an alias name of one's own (alias/<name>, not alias/aws/)", alias));
  }
  std::lock_guard lock(mu_);
  if (!keys_.contains(key_id)) return KeyProviderError(KeyError::kNotFound, KeyArn(key_id));
  aliases_[std::string(alias)] = std::string(key_id);
  return absl::OkStatus();
}

absl::Status InMemoryKeyProvider::RotateKey(std::string_view key_id, const KeyMaterial& material) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return KeyProviderError(KeyError::kNotFound, KeyArn(key_id));
  it->second.versions.push_back(material);
  return absl::OkStatus();
}

absl::Status InMemoryKeyProvider::SetKeyState(std::string_view key_id, KeyState state) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return KeyProviderError(KeyError::kNotFound, KeyArn(key_id));
  it->second.state = state;
  return absl::OkStatus();
}

absl::Status InMemoryKeyProvider::RemoveKey(std::string_view key_id) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return KeyProviderError(KeyError::kNotFound, KeyArn(key_id));
  keys_.erase(it);
  std::erase_if(aliases_, [&](const auto& a) { return a.second == key_id; });
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::string, InMemoryKeyProvider::Key*>> InMemoryKeyProvider::FindLocked(
    std::string_view key_id) {
  std::string_view name = key_id;
  if (name.starts_with("arn:")) {
    // arn:aws:kms:<region>:<account>:key/<uuid> or ...:alias/<name>, of this region and account.
    const std::string prefix = fmt::format("arn:aws:kms:{}:{}:", region_, account_);
    if (!name.starts_with(prefix)) {
      return KeyProviderError(KeyError::kNotFound, fmt::format("Invalid arn {}", key_id));
    }
    name.remove_prefix(prefix.size());
    if (name.starts_with("key/")) {
      name.remove_prefix(4);
      if (!IsUuid(name)) {
        return KeyProviderError(KeyError::kNotFound, fmt::format("Invalid keyId '{}'", key_id));
      }
    } else if (!name.starts_with("alias/")) {
      return KeyProviderError(KeyError::kNotFound, fmt::format("Invalid arn {}", key_id));
    }
  }
  std::string uuid;
  if (name.starts_with("alias/")) {
    auto alias = aliases_.find(name);
    if (alias == aliases_.end() && name.starts_with("alias/aws/") && IsAliasName(name)) {
      AddManagedLocked(name);
      alias = aliases_.find(name);
    }
    if (alias == aliases_.end()) {
      return KeyProviderError(
          KeyError::kNotFound,
          fmt::format("Alias arn:aws:kms:{}:{}:{} is not found.", region_, account_, name));
    }
    uuid = alias->second;
  } else if (IsUuid(name)) {
    uuid = std::string(name);
  } else {
    return KeyProviderError(KeyError::kNotFound, fmt::format("Invalid keyId '{}'", key_id));
  }
  auto it = keys_.find(uuid);
  if (it == keys_.end()) {
    return KeyProviderError(KeyError::kNotFound,
                            fmt::format("Key '{}' does not exist", KeyArn(uuid)));
  }
  return std::pair<std::string, Key*>(KeyArn(uuid), &it->second);
}

absl::Status InMemoryKeyProvider::Usable(const std::string& arn, const Key& key) {
  switch (key.state) {
    case KeyState::kDisabled:
      return KeyProviderError(KeyError::kDisabled, fmt::format("{} is disabled.", arn));
    case KeyState::kPendingDeletion:
      return KeyProviderError(KeyError::kInvalidState, fmt::format("{} is pending deletion.", arn));
    case KeyState::kEnabled:
      break;
  }
  if (key.usage != KeyUsage::kEncryptDecrypt) {
    return KeyProviderError(
        KeyError::kInvalidKeyUsage,
        fmt::format("{} key usage is SIGN_VERIFY, which does not allow encryption.", arn));
  }
  return absl::OkStatus();
}

absl::StatusOr<DataKey> InMemoryKeyProvider::GenerateDataKey(std::string_view key_id,
                                                             std::string_view context) {
  std::lock_guard lock(mu_);
  auto found = FindLocked(key_id);
  if (!found.ok()) return found.status();
  auto& [arn, key] = *found;
  if (absl::Status usable = Usable(arn, *key); !usable.ok()) return usable;
  DataKey out{.key_arn = arn, .plaintext = detail::RandomKey256(), .wrapped = {}};
  const auto version = static_cast<uint32_t>(key->versions.size() - 1);
  out.wrapped.push_back(static_cast<char>(kWrapFormat));
  for (int shift = 0; shift < 32; shift += 8) {
    out.wrapped.push_back(static_cast<char>(version >> shift & 0xff));
  }
  detail::SealAes256Gcm(
      key->versions.back(), WrapContext(arn, version, context),
      std::string_view(reinterpret_cast<const char*>(out.plaintext.data()), out.plaintext.size()),
      out.wrapped);
  return out;
}

absl::StatusOr<KeyMaterial> InMemoryKeyProvider::Decrypt(std::string_view key_arn,
                                                         std::string_view wrapped,
                                                         std::string_view context) {
  std::lock_guard lock(mu_);
  auto found = FindLocked(key_arn);
  if (!found.ok()) return found.status();
  auto& [arn, key] = *found;
  if (key->state != KeyState::kEnabled) return Usable(arn, *key);
  auto invalid = [&] {
    return KeyProviderError(
        KeyError::kInvalidCiphertext,
        fmt::format("The data key cannot be decrypted with {}: it was wrapped by another key, "
                    "or for another resource, or altered",
                    arn));
  };
  if (wrapped.size() < 5 || static_cast<uint8_t>(wrapped[0]) != kWrapFormat) return invalid();
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i) {
    version |= uint32_t{static_cast<uint8_t>(wrapped[1 + i])} << (8 * i);
  }
  if (version >= key->versions.size()) return invalid();
  std::optional<std::string> plain = detail::OpenAes256Gcm(
      key->versions[version], WrapContext(arn, version, context), wrapped.substr(5));
  if (!plain || plain->size() != KeyMaterial().size()) return invalid();
  KeyMaterial out;
  std::memcpy(out.data(), plain->data(), out.size());
  return out;
}

absl::StatusOr<std::string> InMemoryKeyProvider::ResolveKey(std::string_view key_id) {
  std::lock_guard lock(mu_);
  auto found = FindLocked(key_id);
  if (!found.ok()) return found.status();
  auto& [arn, key] = *found;
  if (absl::Status usable = Usable(arn, *key); !usable.ok()) return usable;
  return arn;
}

absl::StatusOr<std::shared_ptr<InMemoryKeyProvider>> ParseKeyFile(std::string_view text,
                                                                  std::string region,
                                                                  std::string account) {
  auto keys = std::make_shared<InMemoryKeyProvider>(std::move(region), std::move(account));
  int number = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++number;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const std::vector<std::string_view> words = Words(line);
    if (words.empty()) continue;
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(fmt::format("Key file line {}: {}", number, why));
    };
    absl::Status done;
    if (words[0] == "key" && words.size() == 3) {
      std::optional<KeyMaterial> material = ParseHexKey(words[2]);
      if (!material) return bad("a key's material is 64 hex digits (256 bits)");
      done = keys->AddKey(words[1], *material);
      if (absl::IsAlreadyExists(done)) done = keys->RotateKey(words[1], *material);
    } else if (words[0] == "alias" && words.size() == 3) {
      done = keys->AddAlias(words[1], words[2]);
    } else if (words[0] == "disabled" && words.size() == 2) {
      done = keys->SetKeyState(words[1], InMemoryKeyProvider::KeyState::kDisabled);
    } else {
      return bad("expected 'key <uuid> <hex>', 'alias alias/<name> <uuid>' or 'disabled <uuid>'");
    }
    if (!done.ok()) return bad(std::string(done.message()));
  }
  return keys;
}

absl::StatusOr<std::shared_ptr<InMemoryKeyProvider>> LoadKeyFile(const std::string& path,
                                                                 std::string region,
                                                                 std::string account) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("Key file {} cannot be read", path));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseKeyFile(text.str(), std::move(region), std::move(account));
}

std::shared_ptr<KeyProvider> KeyProviderOf(const Environment& environment) {
  if (environment.keys != nullptr) return environment.keys;
  return std::make_shared<InMemoryKeyProvider>(environment.region, environment.account);
}

}  // namespace courier
