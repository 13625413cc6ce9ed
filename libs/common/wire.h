// Reading a stored protobuf message field by field, in place: no decoding
// into a message, no copy, no allocation. For read paths that need one or
// two fields of a stored message (a recall's status, a record's body) or
// views of its rows, and would otherwise decode all of it.
//
// The wire format (protobuf's "Encoding"): each field is a varint tag,
// field number << 3 | wire type, then its value: a varint (type 0), 8
// bytes (1), a varint length and that many bytes (2), or 4 bytes (5).
// Groups (types 3 and 4) are deprecated and in none of lotledger's
// messages; a message holding one counts as not parsing.
//
// Thread-safety: pure functions.
#ifndef LOTLEDGER_LIBS_COMMON_WIRE_H_
#define LOTLEDGER_LIBS_COMMON_WIRE_H_

#include <cstdint>
#include <string_view>

#include "google/protobuf/io/coded_stream.h"

namespace lotledger {

struct WireField {
  static constexpr int kVarint = 0;
  static constexpr int kLengthDelimited = 2;

  int number = 0;
  int type = 0;
  uint64_t varint = 0;     // for kVarint
  std::string_view bytes;  // for kLengthDelimited: a view into the message
};

// Calls visit(field) for each field of `wire`, in order, until visit
// returns false. False when `wire` does not parse up to where the visit
// stopped (a field cut short, a length past the end, a group, a zero tag).
template <typename Visit>
bool ForEachWireField(std::string_view wire, Visit visit) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(wire.data()),
      static_cast<int>(wire.size()));
  for (;;) {
    const uint32_t tag = in.ReadTagNoLastTag();
    if (tag == 0) return in.CurrentPosition() == static_cast<int>(wire.size());
    WireField f;
    f.number = static_cast<int>(tag >> 3);
    f.type = static_cast<int>(tag & 7);
    uint32_t length = 0;
    switch (f.type) {
      case WireField::kVarint:
        if (!in.ReadVarint64(&f.varint)) return false;
        break;
      case 1:
        if (!in.Skip(8)) return false;
        break;
      case WireField::kLengthDelimited: {
        if (!in.ReadVarint32(&length)) return false;
        const size_t at = static_cast<size_t>(in.CurrentPosition());
        if (length > wire.size() - at) return false;
        f.bytes = wire.substr(at, length);
        in.Skip(static_cast<int>(length));
        break;
      }
      case 5:
        if (!in.Skip(4)) return false;
        break;
      default:
        return false;
    }
    if (!visit(f)) return true;
  }
}

// The bytes of the first length-delimited field `number` of `wire`, in
// *out (empty when absent). False when `wire` does not parse.
inline bool FirstWireBytes(std::string_view wire, int number,
                           std::string_view* out) {
  *out = std::string_view();
  return ForEachWireField(wire, [&](const WireField& f) {
    if (f.number != number || f.type != WireField::kLengthDelimited) {
      return true;
    }
    *out = f.bytes;
    return false;
  });
}

// The varint field `number` of `wire` (its last occurrence, as protobuf
// reads it; 0 when absent), in *out. False when `wire` does not parse.
inline bool LastWireVarint(std::string_view wire, int number, uint64_t* out) {
  *out = 0;
  return ForEachWireField(wire, [&](const WireField& f) {
    if (f.number == number && f.type == WireField::kVarint) *out = f.varint;
    return true;
  });
}

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_WIRE_H_
