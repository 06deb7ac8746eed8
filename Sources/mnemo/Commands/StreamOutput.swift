import Foundation
import Mnemo

/// Standard output of `mnemo stream`: a table (or JSON lines) of segments and a summary.
struct StreamOutput {
    let json: Bool
    let withTokens: Bool
    let tokenizer: Tokenizer

    /// What is read and how (human output only; the JSON summary repeats it).
    func header(document: Document, path: String, plan: MemoryPlan?, reader: any LogitsModel, segmentLength: Int) {
        guard !json else { return }
        Console.line("document: \(path) (\(document.text.utf8.count) bytes of text\(document.boilerplateRemoved ? ", Gutenberg boilerplate removed" : ""))")
        Console.line("reading: " + Self.readingDescription(plan: plan, reader: reader, segmentLength: segmentLength))
        Console.line(pad("segment", 7, right: true) + "  " + pad("tokens", 17) + pad("nll", 9, right: true) + pad("ppl", 10, right: true)
                     + pad("window", 8, right: true) + pad("knn", 10, right: true) + pad("retrieval", 10, right: true)
                     + pad("retrieved", 11, right: true) + pad("ms", 9, right: true))
    }

    static func readingDescription(plan: MemoryPlan?, reader: any LogitsModel, segmentLength: Int) -> String {
        if let plan { return "memory plan " + planJSON(plan) }
        return "full attention, \(segmentLength) tokens at a time, up to \(reader.contextLength) tokens"
    }

    /// The plan as one line of JSON (sorted keys).
    static func planJSON(_ plan: MemoryPlan) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Every plan field is encodable; a non-finite gate value is rejected by validation before this.
        guard let data = try? encoder.encode(plan) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    func segment(_ r: SegmentReport, cpuSeconds: Double) {
        if json {
            var pairs: [(String, String)] = [
                ("type", JSONText.string("segment")), ("index", "\(r.index)"),
                ("start", "\(r.tokenRange.lowerBound)"), ("end", "\(r.tokenRange.upperBound)"),
                ("nll", JSONText.number(r.nll)), ("perplexity", JSONText.number(r.perplexity)),
                ("scored_tokens", "\(r.scoredTokens)"), ("window_rows", "\(r.windowRows)"),
                ("knn_entries", "\(r.knnEntries)"), ("retrieval_entries", "\(r.retrievalEntries)"),
                ("evicted_tokens", "\(r.evictedTokens)"), ("retrieved", "\(r.retrieved)"),
                ("forward_seconds", JSONText.number(r.forwardSeconds)), ("seconds", JSONText.number(r.seconds)),
                ("cpu_seconds", JSONText.number(cpuSeconds)),
            ]
            if withTokens { pairs.append(("tokens", JSONText.array(r.tokens.map(String.init)))) }
            Console.line(JSONText.object(pairs))
            return
        }
        let range = "\(r.tokenRange.lowerBound)..<\(r.tokenRange.upperBound)"
        Console.line(pad("\(r.index)", 7, right: true) + "  " + pad(range, 17)
                     + pad(r.nll.map { String(format: "%.4f", $0) } ?? "-", 9, right: true)
                     + pad(r.perplexity.map { String(format: "%.2f", $0) } ?? "-", 10, right: true)
                     + pad("\(r.windowRows)", 8, right: true) + pad("\(r.knnEntries)", 10, right: true)
                     + pad("\(r.retrievalEntries)", 10, right: true) + pad("\(r.retrieved)", 11, right: true)
                     + pad(String(format: "%.1f", r.seconds * 1000), 9, right: true))
        if withTokens { Console.line("         " + visiblePiece(tokenizer.decode(r.tokens, skipSpecialTokens: false))) }
    }

    /// Mean of the first and last tenth of `values` (at least one value each).
    static func tenths(_ values: [Double]) -> (first: Double, last: Double, ratio: Double)? {
        guard values.count >= 2 else { return nil }
        let n = max(1, values.count / 10)
        let first = values.prefix(n).reduce(0, +) / Double(n)
        let last = values.suffix(n).reduce(0, +) / Double(n)
        return (first, last, first > 0 ? last / first : .nan)
    }

    func summary(_ s: SegmentSummary, timings: [SegmentTiming], stopped: String, peakResidentBytes: Int) {
        let wall = Self.tenths(timings.map(\.seconds))
        let cpu = Self.tenths(timings.map(\.cpuSeconds))
        let load = ResourceUsage.loadAverage()
        if json {
            Console.line(JSONText.object([
                ("type", JSONText.string("summary")), ("tokens", "\(s.tokens)"), ("segments", "\(s.segments)"),
                ("scored_tokens", "\(s.scoredTokens)"), ("nll", JSONText.number(s.nll)),
                ("perplexity", JSONText.number(s.perplexity)), ("seconds", JSONText.number(s.seconds)),
                ("tokenize_seconds", JSONText.number(s.tokenizeSeconds)),
                ("tokens_per_second", JSONText.number(s.tokensPerSecond)),
                ("full_segments", "\(timings.count)"),
                ("segment_ms_first_tenth", JSONText.number(wall.map { $0.first * 1000 })),
                ("segment_ms_last_tenth", JSONText.number(wall.map { $0.last * 1000 })),
                ("last_to_first_ratio", JSONText.number(wall?.ratio)),
                ("segment_cpu_ms_first_tenth", JSONText.number(cpu.map { $0.first * 1000 })),
                ("segment_cpu_ms_last_tenth", JSONText.number(cpu.map { $0.last * 1000 })),
                ("cpu_last_to_first_ratio", JSONText.number(cpu?.ratio)),
                ("peak_resident_bytes", "\(peakResidentBytes)"),
                ("load_average", load.map(JSONText.string) ?? "null"),
                ("stopped", JSONText.string(stopped)),
            ]))
            return
        }
        Console.line(String(format: "tokens: %d  segments: %d  nll: %@  perplexity: %@", s.tokens, s.segments,
                            s.nll.map { String(format: "%.6f", $0) } ?? "-", s.perplexity.map { String(format: "%.4f", $0) } ?? "-"))
        Console.line(String(format: "time: %.2f s reading (%.1f tokens/s), %.2f s tokenizing", s.seconds, s.tokensPerSecond, s.tokenizeSeconds))
        if let wall, let cpu {
            Console.line(String(format: "per segment (%d full segments): first tenth %.2f ms, last tenth %.2f ms, ratio %.3f"
                                + " (process CPU: %.2f ms, %.2f ms, ratio %.3f)",
                                timings.count, wall.first * 1000, wall.last * 1000, wall.ratio, cpu.first * 1000, cpu.last * 1000, cpu.ratio))
        }
        Console.line(String(format: "peak resident memory: %.1f MiB", Double(peakResidentBytes) / 1_048_576)
                     + (load.map { "  (load average \($0))" } ?? ""))
        if stopped != "end" { Console.line("stopped: \(stopped)") }
    }
}

/// Wall and process CPU time of one segment.
struct SegmentTiming {
    var seconds: Double
    var cpuSeconds: Double
}

/// Progress of `mnemo stream` on standard error: a bar on a terminal, plain lines otherwise.
final class StreamProgress {
    let totalBytes: Int
    let every: Int
    let quiet: Bool
    let isTerminal = isatty(STDERR_FILENO) != 0
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var drawn = false

    init(totalBytes: Int, every: Int, quiet: Bool) {
        self.totalBytes = max(totalBytes, 1)
        self.every = every
        self.quiet = quiet
    }

    /// After a segment; `fedBytes` = text handed to the stream so far (the fraction is by text).
    func update(report: SegmentReport, summary: SegmentSummary, fedBytes: Int) {
        guard !quiet else { return }
        let fraction = min(1, Double(fedBytes) / Double(totalBytes))
        let elapsed = seconds(since: start)
        let rate = elapsed > 0 ? Double(summary.tokens) / elapsed : 0
        if isTerminal {
            guard ContinuousClock.now - lastDraw >= .milliseconds(100) else { return }
            lastDraw = ContinuousClock.now
            let width = 30
            let filled = Int(fraction * Double(width))
            let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileHandle.standardError.write(Data(String(format: "\r[%@] %5.1f%%  segment %d  %d tokens  %.0f tok/s  ETA %@ ",
                                                       bar, fraction * 100, report.index, summary.tokens, rate, Self.clock(eta)).utf8))
            drawn = true
        } else if every > 0, (report.index + 1) % every == 0 {
            Console.log(String(format: "mnemo stream: segment %d, %d tokens, %.1f%% of the text, %.0f tok/s, %.1f s",
                               report.index + 1, summary.tokens, fraction * 100, rate, elapsed))
        }
    }

    /// A message on its own line (after the bar, if one is drawn).
    func note(_ message: String) {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)); drawn = false }
        Console.log("mnemo stream: " + message)
    }

    /// Ends the bar's line.
    func done() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)); drawn = false }
    }

    private func seconds(since instant: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - instant
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}

/// Process resource figures for summaries.
enum ResourceUsage {
    /// Peak resident set size of this process (`getrusage` `ru_maxrss`), in bytes.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)  // bytes on macOS
        #endif
    }

    /// CPU time of the whole process (all threads), seconds.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// The first three fields of `/proc/loadavg` (nil where it does not exist).
    static func loadAverage() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }  // absent off Linux: no figure
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
