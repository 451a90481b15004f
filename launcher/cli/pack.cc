#include "launcher/cli/pack.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/json_text.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"

namespace cell {
namespace {

using Json = nlohmann::json;

constexpr int kPackFormat = 1;

void PutU64(uint64_t value, std::string* out) {
  for (int i = 0; i < 8; ++i)
    out->push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t GetU64(const char* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

// pread until `size` bytes are read; a short file is an error.
absl::Status ReadAt(int fd, uint64_t offset, size_t size, char* out,
                    absl::string_view path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, out + done, size - done, offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return ErrnoStatus(errno, absl::StrCat("cannot read '", path, "'"));
    if (n == 0) {
      return absl::DataLossError(
          absl::StrCat("'", path, "' ended early (truncated?)"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return ErrnoStatus(errno, absl::StrCat("cannot write '", path, "'"));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

struct Extent {
  uint64_t image_size = 0;  // Bytes of the executable itself.
  uint64_t file_size = 0;
  bool has_trailer = false;  // The last bytes carry the pack magic.
};

absl::StatusOr<Extent> ReadExtent(int fd, absl::string_view path) {
  struct stat info;
  if (fstat(fd, &info) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot stat '", path, "'"));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a regular file"));
  }
  Extent extent;
  extent.file_size = static_cast<uint64_t>(info.st_size);
  if (extent.file_size >= kPackTrailerBytes) {
    char magic[8];
    CELL_RETURN_IF_ERROR(ReadAt(fd, extent.file_size - kPackTrailerBytes,
                                sizeof(magic), magic, path));
    extent.has_trailer = absl::string_view(magic, sizeof(magic)) == kPackMagic;
  }
  CELL_ASSIGN_OR_RETURN(std::optional<uint64_t> elf_size, ElfImageSize(fd));
  if (elf_size.has_value() && *elf_size <= extent.file_size) {
    extent.image_size = *elf_size;
  } else if (extent.has_trailer) {
    // No usable ELF header (e.g. section headers stripped): trust the
    // trailer's size field, checked again when the payload is read.
    char size_bytes[8];
    CELL_RETURN_IF_ERROR(ReadAt(fd, extent.file_size - kPackTrailerBytes + 8,
                                sizeof(size_bytes), size_bytes, path));
    const uint64_t payload = GetU64(size_bytes);
    if (payload > extent.file_size - kPackTrailerBytes) {
      return absl::DataLossError(absl::StrCat(
          "'", path, "': the packed spec's size is larger than the file"));
    }
    extent.image_size = extent.file_size - kPackTrailerBytes - payload;
  } else {
    extent.image_size = extent.file_size;
  }
  return extent;
}

absl::Status Damaged(absl::string_view path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat(
      "'", path, "' is a damaged packed cell: ", why,
      "; pack it again with `cell pack --spec=FILE --output=", path, "`"));
}

}  // namespace

uint64_t PackChecksum(absl::string_view data) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string EncodePackedSpec(const PackedSpec& packed) {
  const Json payload_json = {{"cellPack", kPackFormat},
                             {"source", packed.source},
                             {"spec", packed.spec}};
  // Replace, never throw: the spec was validated as UTF-8 already, and the
  // source is informational.
  std::string out =
      payload_json.dump(2, ' ', false, Json::error_handler_t::replace);
  out.push_back('\n');
  const uint64_t payload_size = out.size();
  const uint64_t checksum = PackChecksum(out);
  out.append(kPackMagic.data(), kPackMagic.size());
  PutU64(payload_size, &out);
  PutU64(checksum, &out);
  return out;
}

absl::StatusOr<std::optional<uint64_t>> ElfImageSize(int fd) {
  Elf64_Ehdr header;
  const ssize_t n = pread(fd, &header, sizeof(header), 0);
  if (n < 0) return ErrnoStatus(errno, "cannot read the ELF header");
  if (static_cast<size_t>(n) < sizeof(header) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
      header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_shoff == 0 ||
      header.e_shentsize != sizeof(Elf64_Shdr)) {
    return std::optional<uint64_t>();
  }
  // The linker writes the section header table last.
  return std::optional<uint64_t>(header.e_shoff +
                                 uint64_t{header.e_shnum} * header.e_shentsize);
}

absl::StatusOr<std::optional<PackedSpec>> ReadPackedSpec(
    absl::string_view path_to_open, absl::string_view name) {
  const std::string path_string(path_to_open);
  const absl::string_view path = name.empty() ? path_to_open : name;
  UniqueFd fd(open(path_string.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot open '", path, "'"));
  }
  CELL_ASSIGN_OR_RETURN(Extent extent, ReadExtent(fd.get(), path));
  if (extent.image_size == extent.file_size) return std::optional<PackedSpec>();
  const uint64_t appended = extent.file_size - extent.image_size;
  if (!extent.has_trailer || appended < kPackTrailerBytes) {
    return Damaged(path, absl::StrCat(appended,
                                      " bytes follow the executable but end "
                                      "without the pack trailer"));
  }
  char trailer[kPackTrailerBytes];
  CELL_RETURN_IF_ERROR(ReadAt(fd.get(), extent.file_size - kPackTrailerBytes,
                              sizeof(trailer), trailer, path));
  const uint64_t payload_size = GetU64(trailer + 8);
  const uint64_t checksum = GetU64(trailer + 16);
  if (payload_size != appended - kPackTrailerBytes) {
    return Damaged(
        path,
        absl::StrCat("the trailer says ", payload_size, " bytes of spec, but ",
                     appended - kPackTrailerBytes, " are there"));
  }
  if (payload_size > kMaxJsonTextBytes) {
    return Damaged(
        path, absl::StrCat("the packed spec is ", payload_size,
                           " bytes, over the limit of ", kMaxJsonTextBytes));
  }
  std::string payload(payload_size, '\0');
  CELL_RETURN_IF_ERROR(ReadAt(fd.get(), extent.image_size, payload.size(),
                              payload.data(), path));
  if (PackChecksum(payload) != checksum) {
    return Damaged(path, "the packed spec does not match its checksum");
  }
  absl::StatusOr<Json> json =
      ParseJsonText(payload, absl::StrCat(path, " (packed spec)"));
  if (!json.ok()) return Damaged(path, json.status().message());
  const auto format = json->find("cellPack");
  const auto spec = json->find("spec");
  const auto source = json->find("source");
  if (!json->is_object() || format == json->end() ||
      !format->is_number_integer() || spec == json->end() ||
      !spec->is_object() || source == json->end() || !source->is_string()) {
    return Damaged(path, "the payload is not a cell pack");
  }
  if (format->get<int64_t>() != kPackFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat("'", path, "' was packed in format ", format->dump(),
                     "; this launcher reads format ", kPackFormat));
  }
  return std::optional<PackedSpec>(
      PackedSpec{*spec, source->get<std::string>()});
}

absl::Status WritePackedCell(absl::string_view launcher_path,
                             const PackedSpec& packed,
                             absl::string_view output) {
  const std::string launcher(launcher_path);
  UniqueFd in(open(launcher.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) {
    return ErrnoStatus(
        errno, absl::StrCat("cannot open the launcher '", launcher_path, "'"));
  }
  CELL_ASSIGN_OR_RETURN(Extent extent, ReadExtent(in.get(), launcher_path));

  // mkstemp beside the output, so the final rename stays in one file system.
  const std::string out(output);
  const size_t slash = out.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : out.substr(0, slash + 1);
  const std::string base =
      slash == std::string::npos ? out : out.substr(slash + 1);
  struct stat existing;
  if (base.empty() || base == "." || base == ".." ||
      (stat(out.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode))) {
    return absl::InvalidArgumentError(
        absl::StrCat("--output='", output, "' names a directory; give a file"));
  }
  std::string temp = absl::StrCat(dir, slash == std::string::npos ? "/" : "",
                                  ".", base, ".cellpack-XXXXXX");
  UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    return ErrnoStatus(
        errno, absl::StrCat("cannot create a file beside '", output, "'"));
  }
  bool renamed = false;
  absl::Cleanup remove_temp = [&temp, &renamed] {
    if (!renamed) unlink(temp.c_str());
  };
  constexpr size_t kChunk = 1 << 20;
  std::string buffer(kChunk, '\0');
  for (uint64_t offset = 0; offset < extent.image_size;) {
    const size_t chunk = static_cast<size_t>(
        std::min<uint64_t>(kChunk, extent.image_size - offset));
    CELL_RETURN_IF_ERROR(
        ReadAt(in.get(), offset, chunk, buffer.data(), launcher_path));
    CELL_RETURN_IF_ERROR(
        WriteAll(fd.get(), absl::string_view(buffer.data(), chunk), temp));
    offset += chunk;
  }
  CELL_RETURN_IF_ERROR(WriteAll(fd.get(), EncodePackedSpec(packed), temp));
  if (fchmod(fd.get(), 0755) != 0 || fsync(fd.get()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot finish '", temp, "'"));
  }
  if (rename(temp.c_str(), out.c_str()) != 0) {
    return ErrnoStatus(errno,
                       absl::StrCat("cannot write --output='", output, "'"));
  }
  renamed = true;
  return absl::OkStatus();
}

}  // namespace cell
