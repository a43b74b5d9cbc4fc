#include "inspect/mapped_store_file.h"

namespace mqstore {

Result<std::shared_ptr<MappedStoreFile>> MappedStoreFile::Open(Env* env, const std::string& path) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kReadOnly));
  MQ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::unique_ptr<MappedRegion> region;
  if (size > 0) {  // mmap refuses a zero length
    MQ_ASSIGN_OR_RETURN(region, file->Map(static_cast<size_t>(size), /*writable=*/false));
  }
  return std::shared_ptr<MappedStoreFile>(new MappedStoreFile(std::move(file), std::move(region)));
}

Result<std::shared_ptr<const MappedStoreFile>> FileCache::Get(const std::string& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<MappedStoreFile> file, MappedStoreFile::Open(env_, path));
  files_.emplace(path, file);
  return std::shared_ptr<const MappedStoreFile>(std::move(file));
}

}  // namespace mqstore
