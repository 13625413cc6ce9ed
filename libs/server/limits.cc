#include "libs/server/limits.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace lotledger::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status Check(const Message& m, const std::string& prefix, size_t max) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const std::string name = absl::StrCat(prefix, f->name());
    auto too_long = [&](const std::string& path, size_t size) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": at most ", max, " bytes (got ", size, ")"));
    };
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          std::string scratch;
          const std::string& v =
              r->GetRepeatedStringReference(m, f, i, &scratch);
          if (v.size() > max)
            return too_long(absl::StrCat(name, "[", i, "]"), v.size());
        }
      } else {
        std::string scratch;
        const std::string& v = r->GetStringReference(m, f, &scratch);
        if (v.size() > max) return too_long(name, v.size());
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          absl::Status s = Check(r->GetRepeatedMessage(m, f, i),
                                 absl::StrCat(name, "[", i, "]."), max);
          if (!s.ok()) return s;
        }
      } else {
        absl::Status s = Check(r->GetMessage(m, f), name + ".", max);
        if (!s.ok()) return s;
      }
    }
  }
  return absl::OkStatus();
}

constexpr size_t kQuery = 64 * 1024;
constexpr size_t kCommand = 256 * 1024;
constexpr size_t kBulk = 1024 * 1024;

// Per method, what its request carries: a query names what it reads
// (ids, filters, a consistency token); a command one aggregate's facts
// and a signature; a bulk command lists (genealogy inputs, shipment lines,
// inspection results, recall scope, response lines).
const absl::flat_hash_map<std::string_view, size_t>& MethodLimits() {
  static const auto* limits = new absl::flat_hash_map<std::string_view, size_t>{
      {"/lotledger.v1.LotsService/DefineProduct", kCommand},
      {"/lotledger.v1.LotsService/CreateLot", kBulk},
      {"/lotledger.v1.LotsService/CorrectLot", kCommand},
      {"/lotledger.v1.LotsService/AssignSerials", kBulk},
      {"/lotledger.v1.QualityService/RecordInspection", kBulk},
      {"/lotledger.v1.QualityService/ChangeDisposition", kCommand},
      {"/lotledger.v1.InventoryService/CreateLocation", kCommand},
      {"/lotledger.v1.InventoryService/ReceiveStock", kCommand},
      {"/lotledger.v1.InventoryService/TransferStock", kCommand},
      {"/lotledger.v1.InventoryService/ShipStock", kBulk},
      {"/lotledger.v1.InventoryService/ReturnStock", kCommand},
      {"/lotledger.v1.InventoryService/ReportUsage", kCommand},
      {"/lotledger.v1.InventoryService/ScrapStock", kCommand},
      {"/lotledger.v1.InventoryService/AdjustStock", kCommand},
      {"/lotledger.v1.InventoryService/RegisterCustomer", kCommand},
      {"/lotledger.v1.InventoryService/UpdateCustomer", kCommand},
      {"/lotledger.v1.InventoryService/SetUnitCost", kCommand},
      {"/lotledger.v1.RecallService/Initiate", kBulk},
      {"/lotledger.v1.RecallService/GenerateNotifications", kCommand},
      {"/lotledger.v1.RecallService/RecordResponse", kBulk},
      {"/lotledger.v1.RecallService/CloseRecall", kCommand},
      {"/lotledger.v1.RecallService/RunDrill", kBulk},
      {"/lotledger.v1.RecallService/AnalyzeImpact", kBulk},
  };
  return *limits;
}

absl::Mutex violations_mu;
absl::flat_hash_map<const grpc::ServerContextBase*, absl::Status>& Violations()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(violations_mu) {
  static auto* v =
      new absl::flat_hash_map<const grpc::ServerContextBase*, absl::Status>();
  return *v;
}

class LimitsInterceptor final : public grpc::experimental::Interceptor {
 public:
  LimitsInterceptor(grpc::experimental::ServerRpcInfo* info,
                    RequestLimits limits)
      : info_(info), limits_(limits) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // lotledger's own services are generated protobuf services, so their
      // received message is a protobuf Message. gRPC's built-in health
      // service is not (it parses raw bytes): only lotledger methods are
      // looked at.
      const char* method = info_->method();
      const auto* message =
          method != nullptr &&
                  std::string_view(method).starts_with("/lotledger.")
              ? static_cast<const Message*>(methods->GetRecvMessage())
              : nullptr;
      if (message != nullptr) {
        absl::Status s =
            CheckRequestSize(method, *message, limits_.max_message_bytes);
        if (s.ok()) s = CheckStringLengths(*message, limits_.max_string_bytes);
        if (!s.ok()) {
          absl::MutexLock l(&violations_mu);
          Violations()[info_->server_context()] = std::move(s);
          recorded_ = true;
        }
      }
    }
    if (recorded_ && methods->QueryInterceptionHookPoint(
                         InterceptionHookPoints::PRE_SEND_STATUS)) {
      absl::MutexLock l(&violations_mu);
      Violations().erase(info_->server_context());
      recorded_ = false;
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  RequestLimits limits_;
  bool recorded_ = false;
};

class LimitsFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit LimitsFactory(RequestLimits limits) : limits_(limits) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new LimitsInterceptor(info, limits_);
  }

 private:
  RequestLimits limits_;
};

}  // namespace

absl::Status CheckStringLengths(const Message& message,
                                size_t max_string_bytes) {
  return Check(message, "", max_string_bytes);
}

size_t MaxRequestBytes(std::string_view method, size_t cap) {
  auto it = MethodLimits().find(method);
  return std::min(it == MethodLimits().end() ? kQuery : it->second, cap);
}

size_t LargestRequestBytes(size_t cap) {
  size_t largest = kQuery;
  for (const auto& [method, limit] : MethodLimits()) {
    largest = std::max(largest, limit);
  }
  return std::min(largest, cap);
}

absl::Status CheckRequestSize(std::string_view method, const Message& message,
                              size_t cap) {
  const size_t limit = MaxRequestBytes(method, cap);
  const size_t size = message.ByteSizeLong();
  if (size <= limit) return absl::OkStatus();
  const size_t slash = method.rfind('/');
  return absl::ResourceExhaustedError(absl::StrCat(
      std::string(slash == std::string_view::npos ? method
                                                  : method.substr(slash + 1)),
      ": a request of at most ", limit, " bytes (got ", size, ")"));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeLimitsInterceptorFactory(RequestLimits limits) {
  return std::make_unique<LimitsFactory>(limits);
}

absl::Status TakeLimitViolation(const grpc::ServerContext& ctx) {
  absl::MutexLock l(&violations_mu);
  auto it =
      Violations().find(static_cast<const grpc::ServerContextBase*>(&ctx));
  if (it == Violations().end()) return absl::OkStatus();
  absl::Status s = std::move(it->second);
  Violations().erase(it);
  return s;
}

}  // namespace lotledger::server
