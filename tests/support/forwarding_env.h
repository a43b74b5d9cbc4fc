// ForwardingEnv and ForwardingFile: an Env and a File that pass every call on to another, so
// that a test's recording or refusing Env overrides only the calls it watches.
#ifndef MQSTORE_TESTS_SUPPORT_FORWARDING_ENV_H_
#define MQSTORE_TESTS_SUPPORT_FORWARDING_ENV_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mqstore/env.h"

namespace mqstore::test {

class ForwardingFile : public File {
 public:
  explicit ForwardingFile(std::unique_ptr<File> file)
      : File(file->path()), file_(std::move(file)) {}
  Status Read(uint64_t offset, size_t n, char* scratch, size_t* bytes_read) override {
    return file_->Read(offset, n, scratch, bytes_read);
  }
  Status Write(uint64_t offset, std::string_view data) override {
    return file_->Write(offset, data);
  }
  Status Sync() override { return file_->Sync(); }
  Status Allocate(uint64_t size) override { return file_->Allocate(size); }
  Status Truncate(uint64_t size) override { return file_->Truncate(size); }
  Status ZeroRange(uint64_t offset, uint64_t len) override { return file_->ZeroRange(offset, len); }
  void DropCache(uint64_t offset, uint64_t len) override { file_->DropCache(offset, len); }
  Status WriteBack(uint64_t offset, uint64_t len) override { return file_->WriteBack(offset, len); }
  void StartWriteBack(uint64_t offset, uint64_t len) override {
    file_->StartWriteBack(offset, len);
  }
  Result<uint64_t> Size() override { return file_->Size(); }
  Result<std::unique_ptr<MappedRegion>> Map(size_t len, bool writable) override {
    return file_->Map(len, writable);
  }

 protected:
  File* base() { return file_.get(); }

 private:
  std::unique_ptr<File> file_;
};

class ForwardingEnv : public Env {
 public:
  explicit ForwardingEnv(std::unique_ptr<Env> base) : base_(std::move(base)) {}
  Env* base() { return base_.get(); }
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    return base_->OpenFile(path, mode);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  Status CreateDir(const std::string& dir) override { return base_->CreateDir(dir); }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RemoveDir(const std::string& dir) override { return base_->RemoveDir(dir); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Result<DiskSpace> GetDiskSpace(const std::string& path) override {
    return base_->GetDiskSpace(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 private:
  std::unique_ptr<Env> base_;
};

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_SUPPORT_FORWARDING_ENV_H_
