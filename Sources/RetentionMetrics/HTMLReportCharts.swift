// The four inline SVG charts of ``HTMLReport``. Sizes are computed from the data: label columns from the widest
// label, the heatmap from the number of offsets, the bar charts from the number of periods.

/// A tiny SVG writer; every string that reaches it from the report is escaped here.
struct SVGCanvas {
    var width: Double
    var height: Double
    var label: String
    var body = ""

    init(width: Double, height: Double, label: String) {
        self.width = width.rounded(.up)
        self.height = height.rounded(.up)
        self.label = label
    }

    private typealias F = HTMLFormat

    mutating func rect(
        x: Double, y: Double, width: Double, height: Double, fill: String, extra: String = "", title: String? = nil
    ) {
        body += "<rect x=\"\(F.coordinate(x))\" y=\"\(F.coordinate(y))\" width=\"\(F.coordinate(width))\" "
            + "height=\"\(F.coordinate(height))\" fill=\"\(fill)\"\(extra)"
        if let title {
            body += "><title>\(F.escape(title))</title></rect>\n"
        } else {
            body += "/>\n"
        }
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, extra: String = "") {
        body += "<line x1=\"\(F.coordinate(x1))\" y1=\"\(F.coordinate(y1))\" x2=\"\(F.coordinate(x2))\" "
            + "y2=\"\(F.coordinate(y2))\" stroke=\"\(stroke)\"\(extra)/>\n"
    }

    /// Text; `anchor` is start, middle or end; `className` selects a style from the page's CSS.
    mutating func text(
        _ content: String, x: Double, y: Double, anchor: String = "start", className: String? = nil,
        fill: String? = nil, extra: String = "", title: String? = nil
    ) {
        body += "<text x=\"\(F.coordinate(x))\" y=\"\(F.coordinate(y))\""
        if anchor != "start" { body += " text-anchor=\"\(anchor)\"" }
        if let className { body += " class=\"\(className)\"" }
        if let fill { body += " fill=\"\(fill)\"" }
        body += extra + ">"
        if let title { body += "<title>\(F.escape(title))</title>" }
        body += F.escape(content) + "</text>\n"
    }

    mutating func raw(_ markup: String) { body += markup }

    var svg: String {
        "<svg class=\"chart\" width=\"\(F.coordinate(width))\" height=\"\(F.coordinate(height))\" "
            + "viewBox=\"0 0 \(F.coordinate(width)) \(F.coordinate(height))\" role=\"img\" "
            + "aria-label=\"\(F.escape(label))\">\n<title>\(F.escape(label))</title>\n" + body + "</svg>"
    }
}

enum HTMLCharts {
    private typealias F = HTMLFormat

    static let axisColour = "#57606a"
    static let gridColour = "#e4e7eb"
    static let newColour = "#f28e2b"
    static let returningColour = "#2f6fb0"

    /// The plural noun of a period unit, for axis titles: "Months after first purchase".
    static func unitNoun(_ unit: PeriodUnit) -> String {
        switch unit {
        case .day: return "Days"
        case .week: return "Weeks"
        case .month: return "Months"
        case .quarter: return "Quarters"
        case .year: return "Years"
        }
    }

    /// Cohorts in the order of first appearance, each with its size and its cells by offset.
    struct CohortRow {
        var cohort: String
        var size: Int
        var cells: [Int: RetentionReport.CohortCell]
        var maxOffset: Int
    }

    static func cohortRows(_ cells: [RetentionReport.CohortCell]) -> [CohortRow] {
        var rows: [CohortRow] = []
        var position: [String: Int] = [:]
        for cell in cells {
            if let index = position[cell.cohort] {
                rows[index].cells[cell.offset] = cell
                rows[index].maxOffset = max(rows[index].maxOffset, cell.offset)
            } else {
                position[cell.cohort] = rows.count
                rows.append(CohortRow(cohort: cell.cohort, size: cell.size, cells: [cell.offset: cell],
                    maxOffset: cell.offset))
            }
        }
        return rows
    }

    // MARK: Heatmap

    /// The upper end of the heatmap's colour scale: a round value at or above the highest retention after offset 0,
    /// so the later periods, which matter, use the whole scale (offset 0 is 100% by definition).
    static func heatmapScaleMaximum(_ cells: [RetentionReport.CohortCell]) -> Double {
        let later = cells.filter { $0.offset > 0 }.map(\.retention).max() ?? 1
        return min(F.ticks(upTo: max(later, 0.01)).last!, 1)
    }

    /// The width charts aim to fit in: the page's content column at a 1366 px wide window. Wider charts (many
    /// offsets or periods) scroll sideways inside their section instead of shrinking their text.
    static let contentWidth = 1240.0

    static let heatCellHeight = 26.0

    /// Cells are as wide as the page allows, between 46 px (room for "100.0%") and 58 px.
    static func heatCellWidth(columns: Int, labels: Double) -> Double {
        min(max((contentWidth - labels - 16) / Double(max(columns, 1)), 46), 58)
    }

    static func heatmap(_ cells: [RetentionReport.CohortCell], unit: PeriodUnit) -> String {
        let rows = cohortRows(cells)
        let maxOffset = rows.map(\.maxOffset).max() ?? 0
        let font = 12.0
        let labelWidth = (rows.map { F.textWidth($0.cohort, fontSize: font) } + [F.textWidth("Cohort", fontSize: font)])
            .max()! + 16
        let sizeWidth = (rows.map { F.textWidth(F.count($0.size), fontSize: font) }
            + [F.textWidth("Customers", fontSize: font)]).max()! + 16
        let cellWidth = heatCellWidth(columns: maxOffset + 1, labels: labelWidth + sizeWidth)
        let cellHeight = heatCellHeight
        let left = 8.0, top = 52.0
        let gridLeft = left + labelWidth + sizeWidth
        let gridWidth = Double(maxOffset + 1) * cellWidth
        let legendTop = top + Double(rows.count) * cellHeight + 22
        let scaleMaximum = heatmapScaleMaximum(cells)
        let legendWidth = 260.0
        let axisTitle = "\(unitNoun(unit)) after first purchase"
        let width = max(gridLeft + gridWidth + 8, left + legendWidth + 300)
        var canvas = SVGCanvas(
            width: width, height: legendTop + 58, label: "Cohort retention heatmap, \(rows.count) cohorts")

        canvas.text(axisTitle, x: gridLeft, y: 16, className: "axis-title")
        canvas.text("Cohort", x: left, y: top - 10, className: "head")
        canvas.text("Customers", x: left + labelWidth + sizeWidth - 10, y: top - 10, anchor: "end", className: "head")
        for offset in 0...maxOffset {
            canvas.text(
                String(offset), x: gridLeft + (Double(offset) + 0.5) * cellWidth, y: top - 10, anchor: "middle",
                className: "head")
        }
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * cellHeight
            let baseline = y + cellHeight / 2 + 4
            canvas.text(row.cohort, x: left, y: baseline, className: "label")
            canvas.text(F.count(row.size), x: left + labelWidth + sizeWidth - 10, y: baseline, anchor: "end",
                className: "num")
            for offset in 0...row.maxOffset {
                guard let cell = row.cells[offset] else { continue }
                let colour = F.sequential(cell.retention / scaleMaximum)
                let x = gridLeft + Double(offset) * cellWidth
                let text = F.percent(cell.retention)
                canvas.rect(
                    x: x, y: y, width: cellWidth, height: cellHeight, fill: F.hex(colour),
                    extra: " stroke=\"#ffffff\" stroke-width=\"1\"",
                    title: "\(row.cohort) +\(offset): \(F.count(cell.active)) of \(F.count(cell.size)) customers "
                        + "(\(text))")
                canvas.text(
                    text, x: x + cellWidth / 2, y: baseline, anchor: "middle", className: "cell",
                    fill: F.textColour(on: colour))
            }
        }

        // Colour legend: a stepped gradient with round ticks.
        let steps = 40
        let legendLeft = left
        canvas.text(
            "Colour: share of the cohort buying in that period (darkest at \(F.percent(scaleMaximum, digits: 0)) "
                + "and above)", x: legendLeft, y: legendTop, className: "note")
        for step in 0..<steps {
            let t = (Double(step) + 0.5) / Double(steps)
            canvas.rect(
                x: legendLeft + Double(step) * legendWidth / Double(steps), y: legendTop + 8,
                width: legendWidth / Double(steps) + 0.5, height: 12, fill: F.hex(F.sequential(t)))
        }
        for tick in F.ticks(upTo: scaleMaximum, target: 5) where tick <= scaleMaximum + 1e-12 {
            let x = legendLeft + tick / scaleMaximum * legendWidth
            canvas.line(x1: x, y1: legendTop + 20, x2: x, y2: legendTop + 25, stroke: axisColour)
            let whole = abs(tick * 100 - (tick * 100).rounded()) < 1e-9
            canvas.text(F.percent(tick, digits: whole ? 0 : 1), x: x,
                y: legendTop + 37, anchor: "middle", className: "tick")
        }
        return canvas.svg
    }

    // MARK: Retention curves

    static let maximumCurves = 12

    /// The cohorts drawn as curves: the `maximumCurves` most recent with at least one period after the first.
    static func curveCohorts(_ rows: [CohortRow]) -> (shown: [CohortRow], eligible: Int) {
        let eligible = rows.filter { $0.maxOffset >= 1 }
        return (Array(eligible.suffix(maximumCurves)), eligible.count)
    }

    /// Retention at each offset >= 1 over all cohorts observed there: sum of active / sum of sizes.
    static func weightedCurve(_ rows: [CohortRow], maxOffset: Int) -> [(Int, Double)] {
        guard maxOffset >= 1 else { return [] }
        return (1...maxOffset).compactMap { offset in
            var active = 0, size = 0
            for row in rows { if let cell = row.cells[offset] { active += cell.active; size += cell.size } }
            return size > 0 ? (offset, Double(active) / Double(size)) : nil
        }
    }

    static func curves(_ cells: [RetentionReport.CohortCell], unit: PeriodUnit) -> String {
        let rows = cohortRows(cells)
        let (shown, _) = curveCohorts(rows)
        let maxOffset = rows.map(\.maxOffset).max() ?? 0
        let average = weightedCurve(rows, maxOffset: maxOffset)
        var series: [(label: String, colour: String, points: [(Int, Double)], wide: Bool)] = []
        for (index, row) in shown.enumerated() {
            let points = (1...row.maxOffset).compactMap { offset in row.cells[offset].map { (offset, $0.retention) } }
            series.append((row.cohort, F.categorical[index % F.categorical.count], points, false))
        }
        series.append(("All cohorts (weighted)", "#1b1f24", average, true))

        let font = 12.0
        let peak = series.flatMap { $0.points.map(\.1) }.max() ?? 0
        let yTicks = F.ticks(upTo: max(peak, 0.01), target: 5)
        let yMax = yTicks.last!
        let legendWidth = (series.map { F.textWidth($0.label, fontSize: font) }.max() ?? 0) + 44
        let firstOffset = 1, lastOffset = max(maxOffset, 2)
        let span = Double(lastOffset - firstOffset)
        let plotWidth = max(min(span * 64, contentWidth - 62 - 24 - legendWidth), 420)
        let plotHeight = 320.0
        let left = 62.0, top = 14.0, bottom = 52.0
        let width = left + plotWidth + 24 + legendWidth
        let legendHeight = Double(series.count) * 20 + 24
        let height = max(top + plotHeight + bottom, top + legendHeight)
        var canvas = SVGCanvas(width: width, height: height, label: "Retention curves by cohort")
        func x(_ offset: Int) -> Double { left + Double(offset - firstOffset) / span * plotWidth }
        func y(_ value: Double) -> Double { top + plotHeight - value / yMax * plotHeight }

        for tick in yTicks {
            canvas.line(x1: left, y1: y(tick), x2: left + plotWidth, y2: y(tick), stroke: gridColour)
            canvas.text(F.percent(tick, digits: yMax < 0.05 ? 1 : 0), x: left - 8, y: y(tick) + 4, anchor: "end",
                className: "tick")
        }
        let labelWidth = F.textWidth(String(lastOffset), fontSize: 11)
        let step = F.labelStep(slotWidth: plotWidth / span, labelWidth: labelWidth, gap: 12)
        for offset in firstOffset...lastOffset where (offset - firstOffset) % step == 0 {
            canvas.line(x1: x(offset), y1: top + plotHeight, x2: x(offset), y2: top + plotHeight + 5,
                stroke: axisColour)
            canvas.text(String(offset), x: x(offset), y: top + plotHeight + 18, anchor: "middle", className: "tick xl")
        }
        canvas.line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, stroke: axisColour)
        canvas.line(x1: left, y1: top, x2: left, y2: top + plotHeight, stroke: axisColour)
        canvas.text("\(unitNoun(unit)) after first purchase", x: left + plotWidth / 2, y: top + plotHeight + 42,
            anchor: "middle", className: "axis-title")
        canvas.text(
            "Share of cohort buying", x: 0, y: 0, anchor: "middle", className: "axis-title",
            extra: " transform=\"translate(14 \(F.coordinate(top + plotHeight / 2))) rotate(-90)\"")

        for item in series where !item.points.isEmpty {
            let path = item.points.enumerated().map { index, point in
                (index == 0 ? "M" : "L") + F.coordinate(x(point.0)) + " " + F.coordinate(y(point.1))
            }.joined(separator: " ")
            let dash = item.wide ? " stroke-dasharray=\"7 4\"" : " stroke-opacity=\"0.85\""
            canvas.raw(
                "<path d=\"\(path)\" fill=\"none\" stroke=\"\(item.colour)\" stroke-width=\"\(item.wide ? 3 : 1.75)\""
                    + "\(dash) stroke-linejoin=\"round\"><title>\(F.escape(item.label))</title></path>\n")
            for point in item.points {
                canvas.raw(
                    "<circle cx=\"\(F.coordinate(x(point.0)))\" cy=\"\(F.coordinate(y(point.1)))\" "
                        + "r=\"\(item.wide ? 3.5 : 2.5)\" fill=\"\(item.colour)\"><title>"
                        + F.escape("\(item.label) +\(point.0): \(F.percent(point.1))") + "</title></circle>\n")
            }
        }

        let legendLeft = left + plotWidth + 24
        canvas.text("Cohort", x: legendLeft, y: top + 12, className: "head")
        for (index, item) in series.enumerated() {
            let rowY = top + 30 + Double(index) * 20
            let dash = item.wide ? " stroke-dasharray=\"7 4\"" : ""
            canvas.line(x1: legendLeft, y1: rowY - 4, x2: legendLeft + 26, y2: rowY - 4, stroke: item.colour,
                extra: " stroke-width=\"\(item.wide ? 3 : 2)\"\(dash)")
            canvas.text(item.label, x: legendLeft + 34, y: rowY, className: "legend")
        }
        return canvas.svg
    }

    // MARK: RFM segments

    static let maximumSegmentLabelWidth = 420.0

    static func segments(_ segments: [RFMSegmentSize]) -> String {
        let font = 13.0
        let total = segments.reduce(0) { $0 + $1.customers }
        let widest = segments.map { F.textWidth($0.name, fontSize: font) }.max() ?? 0
        let labelWidth = min(max(widest, 60), maximumSegmentLabelWidth) + 16
        let countTexts = segments.map { segment in
            F.count(segment.customers) + (total > 0 ? "  (" + F.percent(Double(segment.customers) / Double(total))
                + ")" : "")
        }
        let countWidth = (countTexts.map { F.textWidth($0, fontSize: font) }.max() ?? 0) + 16
        let barMaximum = 560.0
        let rowHeight = 28.0, top = 8.0
        let largest = segments.map(\.customers).max() ?? 0
        var canvas = SVGCanvas(
            width: labelWidth + barMaximum + countWidth + 8, height: top + Double(segments.count) * rowHeight + 8,
            label: "RFM segment sizes")
        for (index, segment) in segments.enumerated() {
            let y = top + Double(index) * rowHeight
            let (label, cut) = F.truncate(segment.name, width: labelWidth - 16, fontSize: font)
            canvas.text(label, x: labelWidth - 10, y: y + 18, anchor: "end", className: "label",
                title: cut ? segment.name : nil)
            let barWidth = largest > 0 ? Double(segment.customers) / Double(largest) * barMaximum : 0
            canvas.rect(x: labelWidth, y: y + 5, width: barWidth, height: 18, fill: returningColour,
                extra: " rx=\"2\"", title: "\(segment.name): \(countTexts[index])")
            canvas.text(countTexts[index], x: labelWidth + barWidth + 8, y: y + 18, className: "num")
        }
        return canvas.svg
    }

    // MARK: Revenue, new vs returning

    static let revenuePlotTarget = 960.0

    /// The width of one period's slot in the revenue chart.
    static func revenueSlotWidth(periods: Int) -> Double {
        min(max(revenuePlotTarget / Double(max(periods, 1)), 12), 56)
    }

    static func revenue(_ periods: [RetentionReport.PeriodRevenue], currency: String?) -> String {
        let newValues = periods.map { max(Double($0.newCustomerRevenue) ?? 0, 0) }
        let returningValues = periods.map { max(Double($0.returningCustomerRevenue) ?? 0, 0) }
        let totals = zip(newValues, returningValues).map { $0 + $1 }
        let yTicks = F.ticks(upTo: max(totals.max() ?? 0, 1), target: 5)
        let yMax = yTicks.last!
        let slot = revenueSlotWidth(periods: periods.count)
        let barWidth = max(slot * 0.72, 6)
        let tickLabels = yTicks.map { F.compact($0) }
        let left = (tickLabels.map { F.textWidth($0, fontSize: 11) }.max() ?? 0) + 44
        let top = 36.0, plotHeight = 300.0, bottom = 28.0
        let plotWidth = slot * Double(periods.count)
        let legendWidth = 420.0
        let labelWidth = periods.map { F.textWidth($0.period, fontSize: 11) }.max() ?? 0
        var canvas = SVGCanvas(
            width: max(left + plotWidth + max(16, labelWidth / 2 - slot / 2 + 4), left + legendWidth),
            height: top + plotHeight + bottom,
            label: "Revenue by new and returning customers per period")
        func y(_ value: Double) -> Double { top + plotHeight - value / yMax * plotHeight }

        // Legend above the plot.
        canvas.rect(x: left, y: 6, width: 14, height: 14, fill: returningColour)
        canvas.text("Returning customers", x: left + 20, y: 18, className: "legend")
        let secondX = left + 40 + F.textWidth("Returning customers", fontSize: 12)
        canvas.rect(x: secondX, y: 6, width: 14, height: 14, fill: newColour)
        canvas.text("New customers (first purchase period)", x: secondX + 20, y: 18, className: "legend")

        for (tick, label) in zip(yTicks, tickLabels) {
            canvas.line(x1: left, y1: y(tick), x2: left + plotWidth, y2: y(tick), stroke: gridColour)
            canvas.text(label, x: left - 8, y: y(tick) + 4, anchor: "end", className: "tick")
        }
        let unitText = currency.map { "Revenue (\($0))" } ?? "Revenue"
        canvas.text(
            unitText, x: 0, y: 0, anchor: "middle", className: "axis-title",
            extra: " transform=\"translate(14 \(F.coordinate(top + plotHeight / 2))) rotate(-90)\"")

        let step = F.labelStep(slotWidth: slot, labelWidth: labelWidth)
        let suffix = currency.map { " " + $0 } ?? ""
        for (index, period) in periods.enumerated() {
            let slotLeft = left + Double(index) * slot
            let barLeft = slotLeft + (slot - barWidth) / 2
            let returningTop = y(returningValues[index])
            let title = "\(period.period): returning \(F.decimal(period.returningCustomerRevenue))\(suffix) "
                + "from \(F.count(period.returningCustomers)) customers, new \(F.decimal(period.newCustomerRevenue))"
                + "\(suffix) from \(F.count(period.newCustomers)) customers"
            canvas.rect(x: barLeft, y: returningTop, width: barWidth, height: top + plotHeight - returningTop,
                fill: returningColour, title: title)
            let newTop = y(returningValues[index] + newValues[index])
            canvas.rect(x: barLeft, y: newTop, width: barWidth, height: returningTop - newTop, fill: newColour,
                title: title)
            if index % step == 0 {
                let centre = slotLeft + slot / 2
                canvas.line(x1: centre, y1: top + plotHeight, x2: centre, y2: top + plotHeight + 5, stroke: axisColour)
                canvas.text(period.period, x: centre, y: top + plotHeight + 18, anchor: "middle", className: "tick xl")
            }
        }
        canvas.line(x1: left, y1: top + plotHeight, x2: left + plotWidth, y2: top + plotHeight, stroke: axisColour)
        return canvas.svg
    }
}
