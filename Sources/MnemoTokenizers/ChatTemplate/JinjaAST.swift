/// An expression of the Jinja subset chat templates use.
indirect enum JinjaExpr: Sendable {
    case literal(JinjaValue)
    case variable(String)
    case list([JinjaExpr])
    case tuple([JinjaExpr])
    case dict([(JinjaExpr, JinjaExpr)])
    /// `a.name` (attribute first, then item, as Jinja's `getattr`).
    case attribute(JinjaExpr, String)
    /// `a[key]` (item first, then attribute, as Jinja's `getitem`).
    case index(JinjaExpr, JinjaExpr)
    /// `a[start:stop:step]`.
    case slice(JinjaExpr, JinjaExpr?, JinjaExpr?, JinjaExpr?)
    case call(JinjaExpr, JinjaArguments)
    /// `value | name(args)`.
    case filter(JinjaExpr, String, JinjaArguments)
    /// `value is [not] name(args)`.
    case test(JinjaExpr, String, JinjaArguments, negated: Bool)
    /// `not`, `-`, `+`.
    case unary(String, JinjaExpr)
    /// Arithmetic, `~`, `and`, `or`.
    case binary(String, JinjaExpr, JinjaExpr)
    /// `a < b <= c`: comparisons (`== != < > <= >= in`, `not in`) chained as in Python.
    case compare(JinjaExpr, [(String, JinjaExpr)])
    /// `then if condition else otherwise` (`otherwise` nil: undefined).
    case conditional(then: JinjaExpr, condition: JinjaExpr, otherwise: JinjaExpr?)
}

/// Call arguments: positional then keyword.
struct JinjaArguments: Sendable {
    var positional: [JinjaExpr] = []
    var keyword: [(String, JinjaExpr)] = []
}

/// Where `{% set %}` stores its value.
enum JinjaSetTarget: Sendable {
    case name(String)
    case names([String])
    /// `ns.attribute` on a namespace.
    case attribute(String, String)
}

/// A statement of the template.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr, line: Int)
    case ifBlock(branches: [(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode], line: Int)
    case forLoop(targets: [String], iterable: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode], otherwise: [JinjaNode], line: Int)
    case set(JinjaSetTarget, JinjaExpr, line: Int)
    /// `{% set name %}...{% endset %}`.
    case setBlock(String, [JinjaNode], line: Int)
    case macro(name: String, parameters: [(String, JinjaExpr?)], body: [JinjaNode], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
}
