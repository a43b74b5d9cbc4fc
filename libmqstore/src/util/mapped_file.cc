#include "util/mapped_file.h"

#include "util/zeros.h"

namespace mqstore {

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<std::shared_ptr<MappedFile>> MappedFile::Create(Env* env, const std::string& path,
                                                       int64_t base, uint64_t size) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kCreate));
  // A leftover file at this path (from a crash) must not lend its bytes to the new one.
  Status s = file->Truncate(0);
  if (s.ok()) s = file->Allocate(size);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = env->SyncDir(DirName(path));
  if (!s.ok()) {
    file.reset();
    env->RemoveFile(path).IgnoreError();  // do not leave a half-made file behind
    return s;
  }
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<MappedRegion> region, file->Map(size, true));
  // A new file's pages are filled by writing, never read from the disk first: one page per
  // fault, not a readahead's large folio (DropCache turns readahead back on).
  region->SetReadAhead(0, size, false);
  return std::shared_ptr<MappedFile>(new MappedFile(env, path, std::move(region), base, size));
}

Result<std::shared_ptr<MappedFile>> MappedFile::Open(Env* env, const std::string& path,
                                                     int64_t base, uint64_t size, bool writable) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                      env->OpenFile(path, writable ? OpenMode::kReadWrite : OpenMode::kReadOnly));
  MQ_ASSIGN_OR_RETURN(uint64_t actual, file->Size());
  if (actual != size) {
    return Status::Corruption(path + " is " + std::to_string(actual) + " bytes; expected " +
                              std::to_string(size));
  }
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<MappedRegion> region, file->Map(size, writable));
  return std::shared_ptr<MappedFile>(new MappedFile(env, path, std::move(region), base, size));
}

Result<std::shared_ptr<File>> MappedFile::Writer() {
  std::lock_guard<std::mutex> l(writer_mu_);
  if (!writer_) {
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env_->OpenFile(path_, OpenMode::kReadWrite));
    writer_ = std::move(file);
  }
  return writer_;  // a copy: CloseWriter may run while it is in use
}

Status MappedFile::Write(uint64_t pos, std::string_view data) {
  if (pos + data.size() > size_) {
    return Status::InvalidArgument("write of " + std::to_string(data.size()) + " bytes at " +
                                   std::to_string(pos) + " past the end of " + path_);
  }
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<File> file, Writer());
  return file->Write(pos, data);
}

Status MappedFile::WriteThenZeros(uint64_t pos, std::string_view data, size_t zeros) {
  if (zeros == 0) return Write(pos, data);
  if (zeros > kAlignedZerosBytes || pos + data.size() + zeros > size_) {
    return Status::InvalidArgument("write of " + std::to_string(data.size()) + " bytes and " +
                                   std::to_string(zeros) + " zeros at " + std::to_string(pos) +
                                   " past the end of " + path_);
  }
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<File> file, Writer());
  return file->WriteGather(pos, data, AlignedZeros().substr(0, zeros));
}

Status MappedFile::SyncFile() {
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<File> file, Writer());
  return file->Sync();
}

void MappedFile::StartWriteBack(uint64_t from, uint64_t to) {
  constexpr uint64_t kPage = 4096;
  from = from / kPage * kPage;
  to = to / kPage * kPage;
  if (to <= from) return;
  Release(from, to);
  Result<std::shared_ptr<File>> file = Writer();
  if (file.ok()) (*file)->StartWriteBack(from, to - from);  // a hint: Sync sees a failed disk
}

void MappedFile::DropCache(uint64_t from, uint64_t to) {
  if (to <= from) return;
  // What is read here from now on comes from the disk, mostly in order.
  SetReadAhead(from, to, true);
  std::shared_ptr<File> file;
  {
    std::lock_guard<std::mutex> l(writer_mu_);
    file = writer_;
  }
  if (!file) {
    // The advice applies to the file's cache, whichever descriptor gives it. A file removed
    // meanwhile has no cache left to drop.
    auto opened = env_->OpenFile(path_, OpenMode::kReadOnly);
    if (!opened.ok()) return;
    file = std::move(opened).value();
  }
  file->DropCache(from, to - from);
}

void MappedFile::CloseWriter() {
  std::lock_guard<std::mutex> l(writer_mu_);
  writer_.reset();
}

Status MappedFile::ZeroFromAndSync(uint64_t pos) {
  if (pos >= size_) return Status::OK();
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env_->OpenFile(path_, OpenMode::kReadWrite));
  MQ_RETURN_IF_ERROR(file->ZeroRange(pos, size_ - pos));
  return file->Sync();
}

}  // namespace mqstore
