// safetensors reader: header validation (pure function over bytes, fuzzed by fuzz/fuzz_safetensors.cpp)
// and the memory-mapped file that serves tensor bytes to the weight loader and the tests.
#include "capture/model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

namespace headscope::model {
namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // as the reference implementation

struct DtypeEntry {
  StDtype dtype;
  const char* name;
  std::size_t size;
};
constexpr DtypeEntry kDtypes[] = {
    {StDtype::bool_, "BOOL", 1}, {StDtype::u8, "U8", 1},         {StDtype::i8, "I8", 1},
    {StDtype::i16, "I16", 2},    {StDtype::u16, "U16", 2},       {StDtype::f16, "F16", 2},
    {StDtype::bf16, "BF16", 2},  {StDtype::i32, "I32", 4},       {StDtype::u32, "U32", 4},
    {StDtype::f32, "F32", 4},    {StDtype::f64, "F64", 8},       {StDtype::i64, "I64", 8},
    {StDtype::u64, "U64", 8},    {StDtype::f8_e4m3, "F8_E4M3", 1}, {StDtype::f8_e5m2, "F8_E5M2", 1},
};

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw ModelError(origin + ": invalid safetensors file: " + what);
}

StTensorInfo parse_entry(const std::string& origin, const std::string& name, const nlohmann::json& entry,
                         std::uint64_t data_size) {
  const std::string where = "tensor '" + name + "'";
  if (!entry.is_object()) fail(origin, where + " is not a JSON object");
  StTensorInfo info;
  info.name = name;

  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) fail(origin, where + " has no string field 'dtype'");
  if (!parse_st_dtype(dtype_it->get<std::string>(), &info.dtype))
    fail(origin, where + " has unknown dtype '" + dtype_it->get<std::string>() + "'");

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) fail(origin, where + " has no array field 'shape'");
  std::uint64_t element_count = 1;
  bool overflow = false;
  for (const auto& dim : *shape_it) {
    if (!dim.is_number_unsigned() && !(dim.is_number_integer() && dim.get<std::int64_t>() >= 0))
      fail(origin, where + " has a shape entry that is not a non-negative integer");
    const std::uint64_t extent = dim.get<std::uint64_t>();
    if (extent > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) overflow = true;
    if (!overflow && extent != 0 && element_count > std::numeric_limits<std::uint64_t>::max() / extent) overflow = true;
    if (!overflow) element_count *= extent;
    info.shape.push_back(static_cast<std::int64_t>(std::min<std::uint64_t>(
        extent, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))));
  }
  const std::uint64_t element_size = st_dtype_size(info.dtype);
  if (overflow || element_count > std::numeric_limits<std::uint64_t>::max() / element_size)
    fail(origin, where + " has a shape whose byte size overflows");

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
    fail(origin, where + " needs 'data_offsets' as two non-negative integers [begin, end]");
  info.begin = (*offsets_it)[0].get<std::uint64_t>();
  info.end = (*offsets_it)[1].get<std::uint64_t>();
  if (info.begin > info.end)
    fail(origin, where + " has data_offsets begin " + std::to_string(info.begin) + " after end " +
                     std::to_string(info.end));
  if (info.end > data_size)
    fail(origin, where + " has data_offsets end " + std::to_string(info.end) + " past the data area (" +
                     std::to_string(data_size) + " bytes; file truncated?)");
  const std::uint64_t expected = element_count * element_size;
  if (info.end - info.begin != expected)
    fail(origin, where + " spans " + std::to_string(info.end - info.begin) + " bytes but dtype " +
                     st_dtype_name(info.dtype) + " with its shape needs " + std::to_string(expected));
  return info;
}

}  // namespace

const char* st_dtype_name(StDtype dtype) {
  for (const auto& entry : kDtypes)
    if (entry.dtype == dtype) return entry.name;
  return "?";
}

std::size_t st_dtype_size(StDtype dtype) {
  for (const auto& entry : kDtypes)
    if (entry.dtype == dtype) return entry.size;
  return 1;
}

bool parse_st_dtype(const std::string& name, StDtype* out) {
  for (const auto& entry : kDtypes) {
    if (name == entry.name) {
      *out = entry.dtype;
      return true;
    }
  }
  return false;
}

std::int64_t StTensorInfo::element_count() const {
  std::int64_t count = 1;
  for (auto extent : shape) count *= extent;
  return count;
}

StHeader parse_safetensors_header(const std::uint8_t* bytes, std::size_t size, const std::string& origin) {
  if (size < 8) fail(origin, "file has " + std::to_string(size) + " bytes, fewer than the 8-byte header length");
  std::uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | bytes[i];
  if (header_length > size - 8)
    fail(origin, "header length " + std::to_string(header_length) + " runs past the end of the file (" +
                     std::to_string(size) + " bytes)");
  if (header_length > kMaxHeaderBytes)
    fail(origin, "header length " + std::to_string(header_length) + " exceeds the 100 MB limit");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_length);
  } catch (const nlohmann::json::exception& e) {
    fail(origin, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(origin, "header is not a JSON object");

  StHeader parsed;
  parsed.data_offset = 8 + header_length;
  const std::uint64_t data_size = size - parsed.data_offset;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail(origin, "'__metadata__' is not a JSON object");
      for (auto meta = it->begin(); meta != it->end(); ++meta) {
        if (!meta->is_string()) fail(origin, "'__metadata__' field '" + meta.key() + "' is not a string");
        parsed.metadata[meta.key()] = meta->get<std::string>();
      }
      continue;
    }
    parsed.tensors.push_back(parse_entry(origin, it.key(), *it, data_size));
  }

  // No two tensors may share bytes (order in the file is free).
  std::vector<const StTensorInfo*> by_offset;
  for (const auto& info : parsed.tensors) by_offset.push_back(&info);
  std::sort(by_offset.begin(), by_offset.end(), [](const StTensorInfo* a, const StTensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const auto& previous = *by_offset[i - 1];
    const auto& current = *by_offset[i];
    if (current.begin < previous.end && current.begin != current.end)
      fail(origin, "tensors '" + previous.name + "' and '" + current.name + "' overlap (bytes " +
                       std::to_string(current.begin) + ".." + std::to_string(previous.end) + ")");
  }
  return parsed;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : path_(path) {
  const std::string origin = path.string();
  const int fd = ::open(origin.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ModelError(origin + ": cannot open: " + std::strerror(errno));
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    const int error = errno;
    ::close(fd);
    throw ModelError(origin + ": cannot stat: " + std::strerror(error));
  }
  size_ = static_cast<std::size_t>(status.st_size);
  if (size_ > 0) {
    void* mapping = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      throw ModelError(origin + ": cannot memory-map: " + std::strerror(error));
    }
    bytes_ = static_cast<const std::uint8_t*>(mapping);
  }
  ::close(fd);
  try {
    static const std::uint8_t kEmpty[1] = {0};
    header_ = parse_safetensors_header(bytes_ ? bytes_ : kEmpty, size_, origin);
  } catch (...) {
    unmap();
    throw;
  }
  for (std::size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

SafetensorsFile::~SafetensorsFile() { unmap(); }

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)),
      bytes_(other.bytes_),
      size_(other.size_),
      header_(std::move(other.header_)),
      index_(std::move(other.index_)) {
  other.bytes_ = nullptr;
  other.size_ = 0;
}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    bytes_ = other.bytes_;
    size_ = other.size_;
    header_ = std::move(other.header_);
    index_ = std::move(other.index_);
    other.bytes_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void SafetensorsFile::unmap() noexcept {
  if (bytes_) ::munmap(const_cast<std::uint8_t*>(bytes_), size_);
  bytes_ = nullptr;
  size_ = 0;
}

void release_mapped_range(const std::uint8_t* begin, std::size_t length) noexcept {
  if (!begin || length == 0) return;
  // Only whole pages inside the range: a neighbour sharing a page at either end keeps it.
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<std::uintptr_t>(begin);
  const auto first = (start + page - 1) / page * page, last = (start + length) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

void SafetensorsFile::release(const StTensorInfo& info) const noexcept {
  if (!bytes_ || info.end <= info.begin) return;
  release_mapped_range(data(info), info.end - info.begin);
}

const StTensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw ModelError(path_.string() + ": missing tensor '" + name + "'");
  return header_.tensors[it->second];
}

}  // namespace headscope::model
