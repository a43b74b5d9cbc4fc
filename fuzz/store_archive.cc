#include "store_archive.h"

#include <algorithm>
#include <cstring>

namespace mqstore::fuzz {
namespace {

bool TakeU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(in->data());
  *v = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  in->remove_prefix(4);
  return true;
}

void PutU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// A relative path the loader may create: no empty, "." or ".." parts, no NUL.
bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.find('\0') != std::string_view::npos) return false;
  while (true) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

Status DumpTree(Env* env, const std::string& root, const std::string& rel, std::string* out) {
  std::string abs = rel.empty() ? root : root + "/" + rel;
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(abs));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string child_rel = rel.empty() ? name : rel + "/" + name;
    std::string child_abs = root + "/" + child_rel;
    if (env->GetChildren(child_abs).ok()) {  // a directory
      AppendArchiveDir(child_rel, out);
      MQ_RETURN_IF_ERROR(DumpTree(env, root, child_rel, out));
      continue;
    }
    if (rel.empty() && name == "lock") continue;
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(child_abs, OpenMode::kReadOnly));
    MQ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
    std::string contents(size, '\0');
    size_t n = 0;
    MQ_RETURN_IF_ERROR(file->Read(0, contents.size(), contents.data(), &n));
    contents.resize(n);
    AppendArchiveFile(child_rel, contents, out);
  }
  return Status::OK();
}

}  // namespace

std::vector<ArchiveEntry> ParseArchive(std::string_view input) {
  std::vector<ArchiveEntry> entries;
  uint64_t total = 0;
  while (!input.empty() && entries.size() < kMaxArchiveEntries) {
    uint32_t path_len = 0, file_size = 0, data_len = 0;
    if (!TakeU32(&input, &path_len) || path_len > kMaxArchivePathBytes || path_len > input.size()) {
      break;
    }
    std::string_view path = input.substr(0, path_len);
    input.remove_prefix(path_len);
    if (!TakeU32(&input, &file_size) || !TakeU32(&input, &data_len) || data_len > file_size ||
        data_len > input.size() || file_size > kMaxArchiveFileBytes ||
        total + file_size > kMaxArchiveTotalBytes) {
      break;
    }
    ArchiveEntry e;
    e.directory = !path.empty() && path.back() == '/';
    if (e.directory) path.remove_suffix(1);
    e.path = std::string(path);
    if (!e.directory) {
      e.file_size = file_size;
      e.data = input.substr(0, data_len);
      total += file_size;
    }
    input.remove_prefix(data_len);
    entries.push_back(std::move(e));
  }
  return entries;
}

void AppendArchiveFile(std::string_view path, std::string_view contents, std::string* archive) {
  size_t data_len = contents.size();
  while (data_len > 0 && contents[data_len - 1] == '\0') --data_len;
  PutU32(static_cast<uint32_t>(path.size()), archive);
  archive->append(path);
  PutU32(static_cast<uint32_t>(contents.size()), archive);
  PutU32(static_cast<uint32_t>(data_len), archive);
  archive->append(contents.substr(0, data_len));
}

void AppendArchiveDir(std::string_view path, std::string* archive) {
  PutU32(static_cast<uint32_t>(path.size() + 1), archive);
  archive->append(path);
  archive->push_back('/');
  PutU32(0, archive);
  PutU32(0, archive);
}

Result<size_t> LoadArchive(std::string_view input, Env* env, const std::string& dir) {
  MQ_RETURN_IF_ERROR(env->CreateDir(dir));
  size_t created = 0;
  for (const ArchiveEntry& e : ParseArchive(input)) {
    if (!IsSafeRelativePath(e.path)) continue;
    std::string path = dir + "/" + e.path;
    if (env->FileExists(path)) continue;
    // A parent that is a file would make the tree something no file system holds.
    bool parent_is_file = false;
    for (std::string p = ParentOf(path); p.size() > dir.size(); p = ParentOf(p)) {
      if (env->FileExists(p) && !env->GetChildren(p).ok()) parent_is_file = true;
    }
    if (parent_is_file) continue;
    if (e.directory) {
      MQ_RETURN_IF_ERROR(env->CreateDir(path));
      ++created;
      continue;
    }
    MQ_RETURN_IF_ERROR(env->CreateDir(ParentOf(path)));
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kCreate));
    // One allocation of the exact size: a mapping of the file then ends where its bytes do,
    // so AddressSanitizer sees a read past the end of a file.
    MQ_RETURN_IF_ERROR(file->Allocate(e.file_size));
    MQ_RETURN_IF_ERROR(file->Write(0, e.data));
    MQ_RETURN_IF_ERROR(file->Sync());
    MQ_RETURN_IF_ERROR(env->SyncDir(ParentOf(path)));
    ++created;
  }
  return created;
}

Result<std::string> DumpArchive(Env* env, const std::string& dir) {
  std::string out;
  MQ_RETURN_IF_ERROR(DumpTree(env, dir, "", &out));
  return out;
}

}  // namespace mqstore::fuzz
