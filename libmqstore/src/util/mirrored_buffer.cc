#include "util/mirrored_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mqstore {
namespace {

Status SystemError(const std::string& what, int err) {
  return Status::IOError(what + ": " + std::strerror(err));
}

}  // namespace

Result<std::unique_ptr<MirroredBuffer>> MirroredBuffer::Create(size_t capacity) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (capacity == 0) return Status::InvalidArgument("mirrored buffer of 0 bytes");
  capacity = (capacity + page - 1) / page * page;
  int fd = memfd_create("mqstore-write-buffer", MFD_CLOEXEC);
  if (fd < 0) return SystemError("memfd_create", errno);
  if (ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
    int err = errno;
    close(fd);
    return SystemError("ftruncate write buffer", err);
  }
  // Reserve twice the size, then map the same pages into both halves.
  void* reserved = mmap(nullptr, 2 * capacity, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserved == MAP_FAILED) {
    int err = errno;
    close(fd);
    return SystemError("mmap write buffer", err);
  }
  char* base = static_cast<char*>(reserved);
  for (int half = 0; half < 2; ++half) {
    void* view = mmap(base + half * capacity, capacity, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_FIXED, fd, 0);
    if (view == MAP_FAILED) {
      int err = errno;
      munmap(base, 2 * capacity);
      close(fd);
      return SystemError("mmap write buffer view", err);
    }
  }
  close(fd);  // the mappings keep the memory
  return std::unique_ptr<MirroredBuffer>(new MirroredBuffer(base, capacity));
}

MirroredBuffer::~MirroredBuffer() { munmap(base_, 2 * capacity_); }

}  // namespace mqstore
