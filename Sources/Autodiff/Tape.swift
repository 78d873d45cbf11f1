import TensorCore

/// A trainable tensor with a stable dotted name (`encoder.conv1.weight`) and the
/// gradient accumulated into it by `Tape.backward`.
///
/// Shapes follow PyTorch's layouts so that checkpoints load there unchanged.
public final class Parameter {
    /// Stable dotted name used in checkpoints.
    public let name: String
    /// The current value.
    public var value: Tensor
    /// Σ of ∂loss/∂value over the backward passes since the last `zeroGradient()`; `nil` before any.
    public var gradient: Tensor?

    /// A parameter called `name` holding `value`.
    public init(_ name: String, _ value: Tensor) {
        self.name = name
        self.value = value
    }

    /// Forgets the accumulated gradient.
    public func zeroGradient() { gradient = nil }
}

/// The pullback of a primitive: given the upstream gradient `∂L/∂y` (shape of the
/// output) and which parents need a gradient, returns `∂L/∂xᵢ` for each parent
/// (`nil` where not needed). A returned gradient may have a broadcast shape; the
/// tape sums it back to the parent's shape.
public typealias Pullback = (_ upstream: Tensor, _ needed: [Bool]) -> [Tensor?]

/// A Wengert list recording primitives for reverse-mode differentiation.
///
/// Concretely: each call of a differentiable op on `Variable`s appends a node
/// holding its parents and its pullback. `backward(from:)` walks the nodes in
/// reverse creation order — a reverse topological order, since a node is always
/// created after its parents — iteratively, and accumulates `∂L/∂x` into every
/// node that needs it. Gradients reach both `Parameter`s (accumulated into
/// `Parameter.gradient`) and leaves made with `input(_:)` (returned; saliency
/// needs ∂output/∂pixels).
///
/// A tape made with `recording: false` is no-grad mode: ops compute values only
/// and keep nothing alive (evaluation, encoding data sets).
///
/// A tape is used for one forward/backward pass; after `backward` its nodes
/// (and the activations their pullbacks hold) are released. A tape dropped without
/// `backward` is freed with everything on it, provided pullbacks capture tensors and sizes,
/// never a `Variable` (which holds its tape: the tape → pullback → tape cycle would leak it).
/// Op authors: copy `x.shape` or `x.value` into a local before the closure.
public final class Tape {
    struct Node {
        var shape: [Int]
        var parents: [Int]
        var pullback: Pullback?
        var parameter: Parameter?
        var needsGradient: Bool
    }

    /// Whether ops record pullbacks (false: no-grad evaluation).
    public let isRecording: Bool
    /// Whether `parameter(_:)` leaves need gradients (false: parameters are constants, as in
    /// `torch.autograd.grad(score, inputs)` — saliency needs ∂score/∂pixels only, so no weight
    /// gradient is computed and no `Parameter.gradient` is touched).
    public let differentiatesParameters: Bool
    var nodes: [Node] = []

    /// A tape; `recording: false` gives no-grad mode; `parameterGradients: false` records
    /// gradients for `input(_:)` leaves only.
    public init(recording: Bool = true, parameterGradients: Bool = true) {
        self.isRecording = recording
        self.differentiatesParameters = parameterGradients
    }

    /// Number of recorded nodes.
    public var nodeCount: Int { nodes.count }

    /// Whether `backward` will produce a gradient for `v`: false on a no-grad tape, for
    /// constants and what is computed from constants only, and for parameters on a tape made with
    /// `parameterGradients: false`. Ops use it to keep only the forward buffers a pullback will read.
    public func needsGradient(_ v: Variable) -> Bool { isRecording && v.id >= 0 && nodes[v.id].needsGradient }

    /// A value that needs no gradient (data, noise, labels).
    public func constant(_ value: Tensor) -> Variable {
        append(value, Node(shape: value.shape, parents: [], pullback: nil, parameter: nil, needsGradient: false))
    }

    /// A leaf whose gradient `backward` returns (e.g. input pixels for saliency).
    public func input(_ value: Tensor) -> Variable {
        append(value, Node(shape: value.shape, parents: [], pullback: nil, parameter: nil, needsGradient: true))
    }

    /// A leaf bound to `parameter`: `backward` adds its gradient into `parameter.gradient`
    /// (a constant on a tape made with `parameterGradients: false`).
    public func parameter(_ parameter: Parameter) -> Variable {
        guard differentiatesParameters else { return constant(parameter.value) }
        return append(parameter.value, Node(shape: parameter.value.shape, parents: [], pullback: nil,
                                            parameter: parameter, needsGradient: true))
    }

    /// Records a primitive's output `value` computed from `parents`, with its pullback.
    /// In no-grad mode, or when no parent needs a gradient, the pullback is dropped.
    public func record(_ value: Tensor, parents: [Variable], pullback: @escaping Pullback) -> Variable {
        guard isRecording else { return Variable(tape: self, id: -1, value: value) }
        let ids = parents.map { v -> Int in
            precondition(v.tape === self, "Tape: a Variable from another tape was used")
            return v.id
        }
        let needs = ids.contains { $0 >= 0 && nodes[$0].needsGradient }
        return append(value, Node(shape: value.shape, parents: ids, pullback: needs ? pullback : nil,
                                  parameter: nil, needsGradient: needs))
    }

    private func append(_ value: Tensor, _ node: Node) -> Variable {
        guard isRecording else { return Variable(tape: self, id: -1, value: value) }
        nodes.append(node)
        return Variable(tape: self, id: nodes.count - 1, value: value)
    }

    /// Reverse-mode pass from `output`, seeded with `seed` (default: ones, i.e. ∂output/∂output
    /// for a scalar loss). Parameter gradients are accumulated into the parameters;
    /// gradients of `input` leaves are returned. Releases the recorded nodes.
    @discardableResult
    public func backward(from output: Variable, seed: Tensor? = nil) -> Gradients {
        precondition(isRecording, "Tape.backward: this tape was created with recording: false (no-grad mode)")
        precondition(output.tape === self && output.id >= 0, "Tape.backward: output is not on this tape")
        let seedValue = seed ?? Tensor.ones(output.shape)
        precondition(seedValue.shape == output.shape,
                     "Tape.backward: seed shape \(seedValue.shape) differs from output shape \(output.shape)")
        var grads = [Tensor?](repeating: nil, count: output.id + 1)
        grads[output.id] = seedValue
        var leafGradients: [Int: Tensor] = [:]
        for i in stride(from: output.id, through: 0, by: -1) {
            guard let g = grads[i] else { continue }
            grads[i] = nil
            let node = nodes[i]
            if node.parents.isEmpty {
                if let p = node.parameter {
                    if p.gradient == nil { p.gradient = g } else { p.gradient! += g }
                } else if node.needsGradient {
                    leafGradients[i] = g
                }
                continue
            }
            guard let pullback = node.pullback else { continue }
            let needed = node.parents.map { $0 >= 0 && nodes[$0].needsGradient }
            let contributions = pullback(g, needed)
            precondition(contributions.count == node.parents.count, "Tape: pullback returned \(contributions.count) gradients for \(node.parents.count) parents")
            for (k, parent) in node.parents.enumerated() where needed[k] {
                guard let c = contributions[k] else { continue }
                accumulate(c, into: &grads[parent], shape: nodes[parent].shape)
            }
        }
        nodes.removeAll()
        return Gradients(values: leafGradients)
    }

    /// Adds a gradient contribution, first undoing broadcasting (the one place it is undone).
    private func accumulate(_ contribution: Tensor, into slot: inout Tensor?, shape: [Int]) {
        let c = contribution.shape == shape ? contribution : contribution.sum(toShape: shape)
        if slot == nil { slot = c } else { slot! += c }
    }
}

/// Gradients of the `input` leaves after `Tape.backward`.
public struct Gradients {
    let values: [Int: Tensor]
    /// ∂output/∂`leaf`, or `nil` if the output does not depend on it.
    public subscript(_ leaf: Variable) -> Tensor? { values[leaf.id] }
}

/// A value on a `Tape`: the handle through which differentiable ops are recorded.
public struct Variable {
    /// The tape this value was computed on.
    public let tape: Tape
    let id: Int
    /// The forward value.
    public let value: Tensor
    /// Shape of `value`.
    public var shape: [Int] { value.shape }

    init(tape: Tape, id: Int, value: Tensor) {
        self.tape = tape
        self.id = id
        self.value = value
    }

    /// Records `value` as an op of `parents` (including `self`) with `pullback`.
    @inline(__always)
    func derived(_ value: Tensor, _ others: [Variable] = [], _ pullback: @escaping Pullback) -> Variable {
        tape.record(value, parents: [self] + others, pullback: pullback)
    }

    /// The same value cut off from differentiation (its gradient is not propagated).
    public var detached: Variable { tape.constant(value) }

    /// Whether a gradient will flow to this value (``Tape/needsGradient(_:)``).
    public var needsGradient: Bool { tape.needsGradient(self) }
}
