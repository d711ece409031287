#pragma once
// A minimal binary archive for results: little-endian PODs, length-prefixed vectors and
// strings. Used to ship results between processes (pickling, distributed shards).

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace capexsim::detail {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), sizeof(T) * v.size());
  }
  void put_string(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_.append(s);
  }
  /// Raw bytes, no length prefix (the reader knows the size).
  void put_bytes(const void* p, std::size_t n) {
    if (n) out_.append(static_cast<const char*>(p), n);
  }

 private:
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    need(sizeof v);
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return v;
  }
  template <class T>
  std::vector<T> get_vector() {
    const auto n = get<std::uint64_t>();
    if (n > in_.size() / sizeof(T)) throw std::invalid_argument("result bytes: truncated vector");
    std::vector<T> v(static_cast<std::size_t>(n));
    if (n) std::memcpy(v.data(), in_.data(), sizeof(T) * n);
    in_.remove_prefix(sizeof(T) * n);
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  /// `n` raw bytes into `out` (put_bytes' counterpart).
  void get_bytes(void* out, std::size_t n) {
    need(n);
    if (n) std::memcpy(out, in_.data(), n);
    in_.remove_prefix(n);
  }
  bool done() const { return in_.empty(); }
  /// Bytes not read yet: every count read from the data is checked against it before
  /// anything is allocated for it.
  std::size_t remaining() const { return in_.size(); }
  void skip(std::size_t n) {
    need(n);
    in_.remove_prefix(n);
  }
  [[noreturn]] static void corrupt(const std::string& what) {
    throw std::invalid_argument("result bytes: " + what);
  }

 private:
  void need(std::uint64_t n) const {
    if (n > in_.size()) throw std::invalid_argument("result bytes: truncated or corrupt data");
  }
  std::string_view in_;
};

}  // namespace capexsim::detail
