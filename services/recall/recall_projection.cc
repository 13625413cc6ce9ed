#include "services/recall/recall_projection.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/status_macros.h"
#include "libs/domain/recall/decider.h"
#include "libs/projection/stored_message.h"

namespace lotledger::recall {
namespace {

constexpr char kLots[] = "rc_lots";
constexpr char kMade[] = "rc_made";
constexpr char kCustomers[] = "rc_customers";
constexpr char kRecalls[] = "recalls";
constexpr char kIndex[] = "recall_index";
constexpr char kDrills[] = "drills";

std::string DateKey(const v1::Date& d) {
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}

std::string MadeKey(const std::string& item, const v1::Date& made,
                    const std::string& lot_id) {
  return absl::StrCat(item, std::string(1, '\0'), DateKey(made),
                      std::string(1, '\0'), lot_id);
}

v1::RecallSummary Summarize(const v1::Recall& r) {
  v1::RecallSummary s;
  s.set_recall_id(r.recall_id());
  s.set_status(r.status());
  s.set_classification(r.classification());
  s.set_title(r.title());
  s.set_lots_in_scope(r.lots_in_scope());
  *s.mutable_initiated_at() = r.initiated_at();
  s.set_initiated_by(r.initiated_by());
  if (r.has_closed_at()) *s.mutable_closed_at() = r.closed_at();
  return s;
}

absl::Status ApplyRecallTopic(const v1::Event& event,
                              projection::ProjectionStore::Batch& batch) {
  if (event.has_recall_drill_completed()) {
    if (event.recall_drill_completed().part_index() == 0) {
      batch.Put(kDrills, event.aggregate_id(), event.SerializeAsString());
    }
    return absl::OkStatus();
  }
  const std::string& id = event.aggregate_id();
  ASSIGN_OR_RETURN(
      std::optional<v1::Recall> before,
      projection::ParseStored<v1::Recall>(batch.Get(kRecalls, id), "recall"));
  v1::Recall recall = before.value_or(v1::Recall());
  Evolve(recall, event);
  batch.Put(kRecalls, id, recall.SerializeAsString());
  batch.Put(kIndex, id, Summarize(recall).SerializeAsString());
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> RecallColumnFamilies() {
  return {kLots, kMade, kCustomers, kRecalls, kIndex, kDrills};
}

std::set<std::string> RecallUncompressedColumnFamilies() { return {kLots}; }

absl::Status ApplyRecallEvent(const eventlog::Record& /*record*/,
                              const v1::Event& event,
                              projection::ProjectionStore::Batch& batch) {
  switch (event.payload_case()) {
    case v1::Event::kRecallInitiated:
    case v1::Event::kRecallNotificationIssued:
    case v1::Event::kRecallResponseRecorded:
    case v1::Event::kRecallClosed:
    case v1::Event::kRecallDrillCompleted:
      return ApplyRecallTopic(event, batch);
    default:
      break;
  }
  if (event.has_stock_shipped()) {
    const v1::Customer& c = event.stock_shipped().customer();
    if (!c.customer_id().empty()) {
      batch.Put(kCustomers, c.customer_id(), c.SerializeAsString());
    }
  }
  for (const std::string& lot_id : NodeLotIds(event)) {
    if (lot_id.empty()) continue;
    ASSIGN_OR_RETURN(std::optional<v1::RecallLotNode> before,
                     projection::ParseStored<v1::RecallLotNode>(
                         batch.Get(kLots, lot_id), "recall lot node"));
    v1::RecallLotNode node = before.value_or(v1::RecallLotNode());
    EvolveLotNode(node, lot_id, event);
    const std::string after = node.SerializeAsString();
    if (before.has_value() && before->SerializeAsString() == after) continue;
    const bool was_indexed = before.has_value() && before->created();
    if (was_indexed && (before->item() != node.item() ||
                        DateKey(before->manufactured_on()) !=
                            DateKey(node.manufactured_on()))) {
      batch.Delete(kMade,
                   MadeKey(before->item(), before->manufactured_on(), lot_id));
    }
    if (node.created()) {
      batch.Put(kMade, MadeKey(node.item(), node.manufactured_on(), lot_id),
                "");
    }
    batch.Put(kLots, lot_id, after);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Recall>> RecallQueries::FindRecall(
    std::string_view recall_id) const {
  return projection::ParseStored<v1::Recall>(store_->Get(kRecalls, recall_id),
                                             "recall");
}

absl::StatusOr<v1::Recall> RecallQueries::GetRecall(
    std::string_view recall_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::Recall> recall, FindRecall(recall_id));
  if (!recall.has_value() ||
      recall->status() == v1::RECALL_STATUS_UNSPECIFIED) {
    return absl::NotFoundError(
        absl::StrCat("recall ", Sv(recall_id), " does not exist"));
  }
  return *std::move(recall);
}

absl::StatusOr<std::optional<v1::Event>> RecallQueries::FindDrill(
    std::string_view drill_id) const {
  return projection::ParseStored<v1::Event>(store_->Get(kDrills, drill_id),
                                            "drill");
}

absl::StatusOr<v1::ListRecallsResponse> RecallQueries::ListRecalls(
    const v1::ListRecallsRequest& request) const {
  const int page_size = request.page_size() == 0 ? 100 : request.page_size();
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError("page_size: must be 1..1000");
  }
  v1::ListRecallsResponse out;
  absl::Status inner;
  std::string last;
  RETURN_IF_ERROR(store_->Scan(
      kIndex, "", request.page_token(),
      [&](std::string_view key, std::string_view value) {
        v1::RecallSummary s;
        if (!s.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          inner = absl::DataLossError(absl::StrCat(
              "stored recall summary ", Sv(key), " cannot be decoded"));
          return false;
        }
        if (s.status() == v1::RECALL_STATUS_UNSPECIFIED) return true;
        if (request.status() != v1::RECALL_STATUS_UNSPECIFIED &&
            s.status() != request.status()) {
          return true;
        }
        if (out.recalls_size() == page_size) {
          out.set_next_page_token(last);
          return false;
        }
        *out.add_recalls() = std::move(s);
        last.assign(key);
        return true;
      }));
  RETURN_IF_ERROR(inner);
  return out;
}

FetchNodes RecallQueries::Fetcher(google::protobuf::Arena* arena) const {
  return [store = store_, arena](
             const std::vector<std::string>& ids,
             std::vector<const v1::RecallLotNode*>* out) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                     store->MultiGet(kLots, ids));
    out->assign(ids.size(), nullptr);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!values[i].has_value()) continue;
      auto* node =
          google::protobuf::Arena::CreateMessage<v1::RecallLotNode>(arena);
      if (!node->ParseFromString(*values[i])) {
        return absl::DataLossError(absl::StrCat("stored recall lot node ",
                                                ids[i], " cannot be decoded"));
      }
      (*out)[i] = node;
    }
    return absl::OkStatus();
  };
}

absl::StatusOr<std::vector<std::string>> RecallQueries::LotsMadeInRange(
    const std::string& item, const v1::Date& from, const v1::Date& to) const {
  const std::string prefix = absl::StrCat(item, std::string(1, '\0'));
  const std::string first = DateKey(from), last = DateKey(to);
  std::string start_after = absl::StrCat(prefix, first);
  start_after.back()--;  // sorts just before the first day's keys
  std::vector<std::string> out;
  RETURN_IF_ERROR(store_->Scan(
      kMade, prefix, start_after, [&](std::string_view key, std::string_view) {
        std::string_view rest = key.substr(prefix.size());
        if (rest.substr(0, 8) > last) return false;
        if (rest.substr(0, 8) >= first) out.emplace_back(rest.substr(9));
        return true;
      }));
  return out;
}

absl::StatusOr<CustomerMap> RecallQueries::Customers(
    const std::vector<std::string>& ids) const {
  CustomerMap out;
  if (ids.empty()) return out;
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                   store_->MultiGet(kCustomers, ids));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!values[i].has_value()) continue;
    v1::Customer c;
    if (!c.ParseFromString(*values[i])) {
      return absl::DataLossError(
          absl::StrCat("stored customer ", ids[i], " cannot be decoded"));
    }
    out.emplace(ids[i], std::move(c));
  }
  return out;
}

}  // namespace lotledger::recall
