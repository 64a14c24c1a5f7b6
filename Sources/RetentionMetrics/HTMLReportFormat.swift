// Locale-free formatting, escaping, text measurement, ticks and colours for ``HTMLReport``.
// Everything here is deterministic: the same input gives the same characters on every machine.

enum HTMLFormat {
    /// Escapes text for an HTML text node or a double- or single-quoted attribute value.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and newline have no business in a label.
                if character.value < 0x20 && character != "\t" && character != "\n" {
                    out += " "
                } else {
                    out.unicodeScalars.append(character)
                }
            }
        }
        return out
    }

    /// Groups the digits of a non-negative integer string in threes with commas: `"1234567"` -> `"1,234,567"`.
    static func group(_ digits: String) -> String {
        let characters = Array(digits)
        var out = ""
        for (index, character) in characters.enumerated() {
            if index > 0 && (characters.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }

    /// An integer with thousands separators: `12345` -> `"12,345"`.
    static func count(_ value: Int) -> String {
        value < 0 ? "-" + group(String(value.magnitude)) : group(String(value))
    }

    /// A Double rounded half away from zero to `digits` decimals, with thousands separators when `grouped`.
    /// Non-finite values give `"n/a"`.
    static func fixed(_ value: Double, digits: Int, grouped: Bool = true) -> String {
        guard value.isFinite else { return "n/a" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value.magnitude * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9.0e15 else {
            // Beyond exact integers in a Double: print the rounded integer part only.
            return (value < 0 ? "-" : "") + String(Int64(min(value.magnitude, 9.2e18)))
        }
        let units = Int64(scaled)
        var integer = String(units / Int64(scale))
        if grouped { integer = group(integer) }
        var text = integer
        if digits > 0 {
            let fraction = String(units % Int64(scale))
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return (value < 0 && units != 0 ? "-" : "") + text
    }

    /// A rate in 0...1 as a percentage with one decimal: `0.5` -> `"50.0%"`.
    static func percent(_ rate: Double, digits: Int = 1) -> String {
        fixed(rate * 100, digits: digits) + "%"
    }

    /// An exact decimal string such as `"-1234567.80"` with thousands separators: `"-1,234,567.80"`.
    static func decimal(_ text: String) -> String {
        var body = Substring(text)
        var sign = ""
        if body.hasPrefix("-") {
            sign = "-"
            body = body.dropFirst()
        }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let integer = parts.first, !integer.isEmpty, integer.allSatisfy({ $0 >= "0" && $0 <= "9" }) else {
            return text
        }
        let fraction = parts.count > 1 ? "." + parts[1] : ""
        return sign + group(String(integer)) + fraction
    }

    /// Digits after the decimal point of an exact decimal string (`"12.50"` -> 2).
    static func fractionDigits(_ text: String) -> Int {
        guard let dot = text.firstIndex(of: ".") else { return 0 }
        return text.distance(from: dot, to: text.endIndex) - 1
    }

    /// An axis label for an amount: `950`, `1.2k`, `35k`, `1.5M`.
    static func compact(_ value: Double) -> String {
        let magnitude = value.magnitude
        func trimmed(_ number: Double, _ suffix: String) -> String {
            var text = fixed(number, digits: 1, grouped: false)
            if text.hasSuffix(".0") { text.removeLast(2) }
            return text + suffix
        }
        if magnitude >= 1e9 { return trimmed(value / 1e9, "B") }
        if magnitude >= 1e6 { return trimmed(value / 1e6, "M") }
        if magnitude >= 1e3 { return trimmed(value / 1e3, "k") }
        return trimmed(value, "")
    }

    /// A coordinate for SVG: at most two decimals, no trailing zeros.
    static func coordinate(_ value: Double) -> String {
        var text = fixed(value, digits: 2, grouped: false)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// Estimated width in pixels of `text` in a proportional sans-serif font of `fontSize` pixels (Helvetica-like
    /// advance widths, rounded up so labels get room rather than collide).
    static func textWidth(_ text: String, fontSize: Double) -> Double {
        var ems = 0.0
        for scalar in text.unicodeScalars {
            switch scalar {
            case "i", "j", "l", "'", "|", "!", ".", ",", ":", ";": ems += 0.28
            case " ", "f", "t", "I", "(", ")", "[", "]", "/": ems += 0.32
            case "r", "-": ems += 0.36
            case "m", "M", "W", "%", "@": ems += 0.9
            case "w": ems += 0.75
            case "0"..."9": ems += 0.58
            case "A"..."Z": ems += 0.7
            case "a"..."z": ems += 0.56
            default: ems += scalar.value < 0x80 ? 0.6 : (scalar.value >= 0x1100 ? 1.0 : 0.65)
            }
        }
        return ems * fontSize
    }

    /// `text` cut to at most `width` pixels with an ellipsis, and whether it was cut.
    static func truncate(_ text: String, width: Double, fontSize: Double) -> (text: String, cut: Bool) {
        guard textWidth(text, fontSize: fontSize) > width else { return (text, false) }
        var kept = ""
        for character in text {
            let candidate = kept + String(character)
            if textWidth(candidate + "…", fontSize: fontSize) > width { break }
            kept = candidate
        }
        return (kept + "…", true)
    }

    /// Round tick values from 0 to at least `maximum`, about `target` of them: steps of 1, 2 or 5 x 10^k.
    static func ticks(upTo maximum: Double, target: Int = 5) -> [Double] {
        guard maximum > 0, maximum.isFinite else { return [0, 1] }
        let raw = maximum / Double(max(target, 1))
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * power }.first { $0 >= raw } ?? power * 10
        var values: [Double] = [0]
        while values.last! < maximum - step * 1e-9 { values.append(Double(values.count) * step) }
        return values
    }

    /// Every `step`-th label is drawn, `step = ceil((widest label + gap) / slot)`, so drawn labels never overlap.
    static func labelStep(slotWidth: Double, labelWidth: Double, gap: Double = 8) -> Int {
        guard slotWidth > 0 else { return 1 }
        return max(1, Int(((labelWidth + gap) / slotWidth).rounded(.up)))
    }

    // MARK: Colours

    /// ColorBrewer "Blues" (9 classes), light to dark: a sequential scale that reads in grey print too.
    static let blues: [(Double, Double, Double)] = [
        (247, 251, 255), (222, 235, 247), (198, 219, 239), (158, 202, 225), (107, 174, 214),
        (66, 146, 198), (33, 113, 181), (8, 81, 156), (8, 48, 107),
    ]

    /// The colour of `t` in 0...1 on the sequential scale, interpolated between the nine classes.
    static func sequential(_ t: Double) -> (Double, Double, Double) {
        let clamped = t.isFinite ? min(max(t, 0), 1) : 0
        // Start a little above white so 0% is still visible against the page.
        let position = 0.06 + clamped * 0.94
        let scaled = position * Double(blues.count - 1)
        let lower = min(Int(scaled), blues.count - 2)
        let fraction = scaled - Double(lower)
        let a = blues[lower], b = blues[lower + 1]
        return (a.0 + (b.0 - a.0) * fraction, a.1 + (b.1 - a.1) * fraction, a.2 + (b.2 - a.2) * fraction)
    }

    static func hex(_ colour: (Double, Double, Double)) -> String {
        let digits = Array("0123456789abcdef")
        var out = "#"
        for channel in [colour.0, colour.1, colour.2] {
            let value = Int(min(max(channel, 0), 255).rounded())
            out.append(digits[value / 16])
            out.append(digits[value % 16])
        }
        return out
    }

    /// WCAG relative luminance of an sRGB colour.
    static func luminance(_ colour: (Double, Double, Double)) -> Double {
        func linear(_ channel: Double) -> Double {
            let c = channel / 255
            return c <= 0.04045 ? c / 12.92 : pow24((c + 0.055) / 1.055)
        }
        return 0.2126 * linear(colour.0) + 0.7152 * linear(colour.1) + 0.0722 * linear(colour.2)
    }

    /// x^2.4 without Foundation.
    static func pow24(_ x: Double) -> Double {
        guard x > 0 else { return 0 }
        // x^2.4 = x^2 * x^0.4 = x^2 * (x^(1/5))^2; x^(1/5) by Newton's method.
        // Starting above the root, Newton's steps decrease monotonically to it.
        var root = max(x, 1)
        for _ in 0..<40 { root = root - (pow5(root) - x) / (5 * pow4(root)) }
        return x * x * root * root
    }

    private static func pow4(_ x: Double) -> Double { x * x * x * x }
    private static func pow5(_ x: Double) -> Double { x * x * x * x * x }

    /// Black or white, whichever contrasts more with the background. With pure black the worse of the two is
    /// still 4.58:1 at the crossover (luminance 0.179), above WCAG AA's 4.5:1 for small text; a softer
    /// near-black would dip to 4.2:1 there.
    static func textColour(on background: (Double, Double, Double)) -> String {
        let l = luminance(background)
        let onWhite = 1.05 / (l + 0.05)
        let onBlack = (l + 0.05) / 0.05
        return onWhite > onBlack ? "#ffffff" : "#000000"
    }

    /// Twelve distinguishable line colours (Tableau 10 and two more), in a fixed order.
    static let categorical = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
        "#b07aa1", "#ff9da7", "#9c755f", "#79706e", "#17becf", "#8c564b",
    ]
}
