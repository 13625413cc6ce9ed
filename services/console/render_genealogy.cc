// The genealogy graph of the lot page as inline SVG (render.h): columns by
// genealogy depth, components left of the lot, derived lots right of it,
// an arrow from each input lot to the lot that consumed it. At most
// kMaxPerColumn nodes per column are drawn (the page says how many were
// left out); every node links to its lot's page.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/html.h"
#include "services/console/render.h"

namespace lotledger::console {
namespace {

namespace v1 = lotledger::v1;

constexpr int kMaxPerColumn = 40;
constexpr int kColumnWidth = 230;
constexpr int kNodeWidth = 190;
constexpr int kNodeHeight = 42;
constexpr int kRowHeight = 56;
constexpr int kTop = 28;
constexpr size_t kLabelChars = 26;

struct Node {
  int column = 0;
  int row = 0;
  const v1::TraceNode* trace = nullptr;  // null for a node named only
};

std::string Clip(std::string_view s) {
  if (s.size() <= kLabelChars) return std::string(s);
  // Cut on a UTF-8 character boundary.
  size_t n = kLabelChars - 1;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return absl::StrCat(std::string(s.substr(0, n)), "…");
}

std::string KindName(v1::ItemKind k) {
  switch (k) {
    case v1::ITEM_KIND_FINISHED_DEVICE:
      return "finished device";
    case v1::ITEM_KIND_COMPONENT:
      return "component";
    case v1::ITEM_KIND_RAW_MATERIAL:
      return "raw material";
    default:
      return "";
  }
}

}  // namespace

std::string RenderGenealogy(std::string_view lot_id,
                            const v1::TraceResponse& backward,
                            const v1::TraceResponse& forward) {
  std::map<std::string, Node, std::less<>> nodes;
  std::map<int, int> rows_in_column;
  int left_out = 0;
  auto place = [&](const v1::TraceNode& n, int column) {
    if (nodes.count(n.lot_id()) > 0) return;
    int& rows = rows_in_column[column];
    if (rows >= kMaxPerColumn) {
      ++left_out;
      return;
    }
    nodes[n.lot_id()] = Node{column, rows++, &n};
  };
  v1::TraceNode self;
  self.set_lot_id(std::string(lot_id));
  for (const v1::TraceNode& n : backward.nodes()) {
    if (n.lot_id() == lot_id) self = n;
  }
  place(self, 0);
  for (const v1::TraceNode& n : backward.nodes()) {
    if (n.depth() > 0) place(n, -n.depth());
  }
  for (const v1::TraceNode& n : forward.nodes()) {
    if (n.depth() > 0) place(n, n.depth());
  }
  int min_col = 0, max_col = 0, max_rows = 1;
  for (const auto& [column, rows] : rows_in_column) {
    min_col = std::min(min_col, column);
    max_col = std::max(max_col, column);
    max_rows = std::max(max_rows, rows);
  }
  const int width = (max_col - min_col) * kColumnWidth + kNodeWidth + 20;
  const int height = kTop + max_rows * kRowHeight + 10;
  auto x_of = [&](const Node& n) {
    return 10 + (n.column - min_col) * kColumnWidth;
  };
  auto y_of = [&](const Node& n) { return kTop + n.row * kRowHeight; };

  std::string svg = absl::StrCat(
      "<h2 id=\"genealogy-heading\">Genealogy</h2>"
      "<p class=\"note\">Components (what went into the lot) on the left, "
      "lots made from it on the right. Select a lot to open it.</p>"
      "<div id=\"genealogy\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
      "width=\"",
      width, "\" height=\"", height, "\" viewBox=\"0 0 ", width, " ", height,
      "\" role=\"group\" aria-labelledby=\"genealogy-heading\">"
      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" "
      "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
      "orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" "
      "fill=\"#333\"/></marker></defs>");
  // Column headings.
  for (int c = min_col; c <= max_col; ++c) {
    const char* label = c == 0 ? "this lot" : c < 0 ? "components" : "derived";
    absl::StrAppend(&svg, "<text x=\"", 10 + (c - min_col) * kColumnWidth,
                    "\" y=\"16\" fill=\"#000\">", label,
                    c == 0 ? "" : absl::StrCat(" (level ", c < 0 ? -c : c, ")"),
                    "</text>");
  }
  // Edges: from the input lot (left) to the lot that consumed it.
  auto edge = [&](const v1::TraceEdge& e) {
    auto parent = nodes.find(e.parent_lot_id());
    auto child = nodes.find(e.child_lot_id());
    if (parent == nodes.end() || child == nodes.end()) return;
    absl::StrAppend(
        &svg, "<line class=\"edge\" x1=\"", x_of(child->second) + kNodeWidth,
        "\" y1=\"", y_of(child->second) + kNodeHeight / 2, "\" x2=\"",
        x_of(parent->second), "\" y2=\"",
        y_of(parent->second) + kNodeHeight / 2,
        "\" stroke=\"#333\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\">"
        "<title>",
        HtmlEscape(e.parent_lot_id()), " consumed ", e.quantity().amount(), " ",
        HtmlEscape(e.quantity().uom()), " of ", HtmlEscape(e.child_lot_id()),
        "</title></line>");
  };
  for (const v1::TraceEdge& e : backward.edges()) edge(e);
  for (const v1::TraceEdge& e : forward.edges()) edge(e);
  // Nodes, each a link.
  for (const auto& [id, n] : nodes) {
    const bool is_self = id == lot_id;
    const v1::TraceNode& t = *n.trace;
    std::string item = t.item();
    std::string number = t.lot_number();
    if (item.empty() && number.empty()) number = id;
    std::string title = id;
    if (!KindName(t.kind()).empty()) {
      absl::StrAppend(&title, ", ", KindName(t.kind()));
    }
    if (t.expires_on().year() != 0) {
      absl::StrAppend(&title, ", expires ", FormatDate(t.expires_on()));
    }
    absl::StrAppend(
        &svg, "<a class=\"lot-link", is_self ? " self" : "", "\" href=\"",
        HtmlEscape(LotPath(id)), "\" data-lot-id=\"", HtmlEscape(id),
        "\"><title>", HtmlEscape(title), "</title><rect x=\"", x_of(n),
        "\" y=\"", y_of(n), "\" width=\"", kNodeWidth, "\" height=\"",
        kNodeHeight, "\" rx=\"6\" fill=\"", is_self ? "#002b5c" : "#ffffff",
        "\" stroke=\"#002b5c\" stroke-width=\"2\"/><text x=\"", x_of(n) + 8,
        "\" y=\"", y_of(n) + 17, "\" fill=\"", is_self ? "#ffffff" : "#000000",
        "\" font-weight=\"bold\">", HtmlEscape(Clip(number)),
        "</text><text x=\"", x_of(n) + 8, "\" y=\"", y_of(n) + 34, "\" fill=\"",
        is_self ? "#ffffff" : "#000000", "\">", HtmlEscape(Clip(item)),
        "</text></a>");
  }
  absl::StrAppend(&svg, "</svg></div>");
  if (left_out > 0 || backward.truncated() || forward.truncated()) {
    absl::StrAppend(&svg,
                    "<p class=\"note\" id=\"genealogy-truncated\">The "
                    "graph is cut: ",
                    left_out, " more lots at the levels shown",
                    backward.truncated() || forward.truncated()
                        ? ", and deeper levels exist"
                        : "",
                    ". Open a lot at the edge to follow it.</p>");
  }
  return svg;
}

}  // namespace lotledger::console
