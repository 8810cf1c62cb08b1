#include "courier/blob_store.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "courier/detail/uuid.h"
#include "courier/status.h"

namespace courier {
namespace {

absl::Status NoSuchKey(std::string_view bucket, std::string_view key) {
  return AwsErrorF("NoSuchKey", "The specified key does not exist. ({}/{})", bucket, key);
}

// A bucket or key that is one safe path component.
absl::Status CheckName(std::string_view what, std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos || name.size() > 1024) {
    return AwsErrorF("InvalidArgument", "The {} \"{}\" is not valid for a directory blob store.",
                     what, name);
  }
  return absl::OkStatus();
}

absl::Status Internal(std::string_view what, const std::filesystem::path& path, int err) {
  return AwsErrorF("InternalError", "{} {}: {}", what, path.string(), std::strerror(err));
}

}  // namespace

absl::Status MemoryBlobStore::Put(std::string_view bucket, std::string_view key,
                                  std::string_view data) {
  auto blob = std::make_shared<const std::string>(data);
  std::lock_guard lock(mu_);
  blobs_[{std::string(bucket), std::string(key)}] = std::move(blob);
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryBlobStore::Get(std::string_view bucket, std::string_view key) {
  std::shared_ptr<const std::string> blob;
  {
    std::lock_guard lock(mu_);
    auto it = blobs_.find({std::string(bucket), std::string(key)});
    if (it == blobs_.end()) return NoSuchKey(bucket, key);
    blob = it->second;
  }
  return *blob;  // copied outside the lock
}

absl::Status MemoryBlobStore::Delete(std::string_view bucket, std::string_view key) {
  std::shared_ptr<const std::string> doomed;  // freed outside the lock
  std::lock_guard lock(mu_);
  auto it = blobs_.find({std::string(bucket), std::string(key)});
  if (it != blobs_.end()) {
    doomed = std::move(it->second);
    blobs_.erase(it);
  }
  return absl::OkStatus();
}

size_t MemoryBlobStore::Count() {
  std::lock_guard lock(mu_);
  return blobs_.size();
}

absl::StatusOr<std::shared_ptr<DirectoryBlobStore>> DirectoryBlobStore::Open(std::string root) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec || !std::filesystem::is_directory(root)) {
    return AwsErrorF("InternalError", "Cannot create blob directory {}: {}", root, ec.message());
  }
  return std::shared_ptr<DirectoryBlobStore>(new DirectoryBlobStore(std::move(root)));
}

absl::Status DirectoryBlobStore::Put(std::string_view bucket, std::string_view key,
                                     std::string_view data) {
  COURIER_RETURN_IF_ERROR(CheckName("bucket", bucket));
  COURIER_RETURN_IF_ERROR(CheckName("key", key));
  const std::filesystem::path dir = std::filesystem::path(root_) / std::string(bucket);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("Cannot create", dir, ec.value());
  const std::filesystem::path final_path = dir / std::string(key);
  const std::filesystem::path tmp = dir / fmt::format(".{}.{}", key, detail::NewUuid());
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) return Internal("Cannot open", tmp, errno);
    const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
    const int err = errno;
    if (std::fclose(f) != 0 || !ok) {
      std::filesystem::remove(tmp, ec);
      return Internal("Cannot write", tmp, ok ? errno : err);
    }
  }
  std::filesystem::rename(tmp, final_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Internal("Cannot rename into", final_path, ec.value());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DirectoryBlobStore::Get(std::string_view bucket, std::string_view key) {
  COURIER_RETURN_IF_ERROR(CheckName("bucket", bucket));
  COURIER_RETURN_IF_ERROR(CheckName("key", key));
  const std::filesystem::path path =
      std::filesystem::path(root_) / std::string(bucket) / std::string(key);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return NoSuchKey(bucket, key);
    return Internal("Cannot open", path, errno);
  }
  std::string data;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) data.append(buffer, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Internal("Cannot read", path, EIO);
  return data;
}

absl::Status DirectoryBlobStore::Delete(std::string_view bucket, std::string_view key) {
  COURIER_RETURN_IF_ERROR(CheckName("bucket", bucket));
  COURIER_RETURN_IF_ERROR(CheckName("key", key));
  std::error_code ec;
  std::filesystem::remove(std::filesystem::path(root_) / std::string(bucket) / std::string(key),
                          ec);
  if (ec) return Internal("Cannot delete", std::filesystem::path(key), ec.value());
  return absl::OkStatus();
}

size_t DirectoryBlobStore::Count() {
  size_t n = 0;
  std::error_code ec;
  for (const auto& bucket : std::filesystem::directory_iterator(root_, ec)) {
    if (!bucket.is_directory()) continue;
    for (const auto& file : std::filesystem::directory_iterator(bucket.path(), ec)) {
      if (file.is_regular_file() && file.path().filename().string()[0] != '.') ++n;
    }
  }
  return n;
}

}  // namespace courier
