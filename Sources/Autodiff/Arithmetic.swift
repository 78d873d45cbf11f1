import TensorCore

// Binary elementwise primitives with NumPy broadcasting. Each pullback returns the
// gradient in the broadcast shape; `Tape` sums it back to each operand's shape.

extension Variable {
    /// `a + b` (broadcasting). ∂/∂a = g, ∂/∂b = g.
    public static func + (a: Variable, b: Variable) -> Variable {
        a.derived(a.value + b.value, [b]) { g, _ in [g, g] }
    }

    /// `a − b` (broadcasting). ∂/∂a = g, ∂/∂b = −g.
    public static func - (a: Variable, b: Variable) -> Variable {
        a.derived(a.value - b.value, [b]) { g, needed in [g, needed[1] ? -g : nil] }
    }

    /// `a ⊙ b` (broadcasting). ∂/∂a = g ⊙ b, ∂/∂b = g ⊙ a.
    public static func * (a: Variable, b: Variable) -> Variable {
        let (x, y) = (a.value, b.value)
        return a.derived(x * y, [b]) { g, needed in [needed[0] ? g * y : nil, needed[1] ? g * x : nil] }
    }

    /// `a / b` (broadcasting). ∂/∂a = g / b, ∂/∂b = −g·a / b².
    public static func / (a: Variable, b: Variable) -> Variable {
        let (x, y) = (a.value, b.value)
        return a.derived(x / y, [b]) { g, needed in
            [needed[0] ? g / y : nil, needed[1] ? -(g * x) / (y * y) : nil]
        }
    }

    /// `a + s` for a constant scalar. ∂/∂a = g.
    public static func + (a: Variable, s: Float) -> Variable { a.derived(a.value + s) { g, _ in [g] } }
    /// `s + a` for a constant scalar.
    public static func + (s: Float, a: Variable) -> Variable { a + s }
    /// `a − s` for a constant scalar.
    public static func - (a: Variable, s: Float) -> Variable { a + (-s) }
    /// `s − a` for a constant scalar. ∂/∂a = −g.
    public static func - (s: Float, a: Variable) -> Variable { a.derived(a.value.map { s - $0 }) { g, _ in [-g] } }
    /// `s · a` for a constant scalar. ∂/∂a = s·g.
    public static func * (a: Variable, s: Float) -> Variable { a.derived(a.value * s) { g, _ in [g * s] } }
    /// `s · a` for a constant scalar.
    public static func * (s: Float, a: Variable) -> Variable { a * s }
    /// `a / s` for a constant scalar.
    public static func / (a: Variable, s: Float) -> Variable { a * (1 / s) }
    /// `−a`. ∂/∂a = −g.
    public static prefix func - (a: Variable) -> Variable { a * -1 }
}
