// W3C trace context (https-free summary: the `traceparent` header is
// "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>"), propagated by
// hand: OpenTelemetry C++ is not packaged for Debian 12, and a collector can
// be added later because every hop carries the standard header.
//
// A call's trace context is set for the thread that works for it
// (ScopedTraceContext): the rpc layer from the incoming gRPC metadata, the
// projector and the recall reactor from the event they handle. Every log
// line (json_log.h) carries the current trace id; the command runner puts
// the current traceparent into the events it writes.
//
// Thread-safety: the current context is thread-local; the functions may
// be called from any thread.
#ifndef LOTLEDGER_LIBS_COMMON_TRACE_CONTEXT_H_
#define LOTLEDGER_LIBS_COMMON_TRACE_CONTEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lotledger {

struct TraceContext {
  std::string trace_id;   // 32 lowercase hex digits, not all zero
  std::string parent_id;  // 16 lowercase hex digits, not all zero
  uint8_t flags = 0;      // bit 0: sampled

  bool valid() const { return !trace_id.empty(); }
  // "00-<trace id>-<parent id>-<flags>".
  std::string ToTraceparent() const;
};

// The gRPC metadata key and the Kafka record header that carry it (the
// latter per the CloudEvents Kafka binding).
inline constexpr char kTraceparentMetadata[] = "traceparent";
inline constexpr char kTraceparentHeader[] = "ce_traceparent";

// Parses a traceparent header value. nullopt for anything that is not
// version 00 with a 32-hex trace id and a 16-hex parent id (neither all
// zero) and 2-hex flags; uppercase hex is refused, as the specification
// says.
std::optional<TraceContext> ParseTraceparent(std::string_view value);

// A new trace (random trace id and parent id, sampled).
TraceContext NewTrace();

// The same trace with a new parent id: the context a hop sends onward.
TraceContext ChildOf(const TraceContext& parent);

// `value` parsed, or a new trace when it is missing or invalid (an invalid
// header is replaced, never refused).
TraceContext TraceFromHeader(std::string_view value);

// The context of the work this thread does now; an invalid (empty) one
// outside any call.
const TraceContext& CurrentTrace();

// Sets the thread's current context for its lifetime and restores the
// previous one after.
class ScopedTraceContext {
 public:
  explicit ScopedTraceContext(TraceContext context);
  ~ScopedTraceContext();
  ScopedTraceContext(const ScopedTraceContext&) = delete;
  ScopedTraceContext& operator=(const ScopedTraceContext&) = delete;

 private:
  TraceContext previous_;
};

}  // namespace lotledger

#endif  // LOTLEDGER_LIBS_COMMON_TRACE_CONTEXT_H_
