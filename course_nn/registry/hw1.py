"""hw1 — custom autograd Functions with a hand-written backward."""

from course_nn.registry import Assignment, Category, Task

# autograd's entry points, forbidden in every task: a Function must not differentiate itself.
# Each task adds the built-ins that would do its work (matched on the callable's __name__);
# primitives such as exp, log, clamp, logsumexp, mm, matmul, where and sum stay allowed.
AUTOGRAD = frozenset({"grad", "backward", "vjp", "jvp", "jacobian", "hessian", "vmap", "jacrev", "jacfwd"})

ASSIGNMENT = Assignment(
    name="hw1",
    grader="course_nn.grading.hw1",
    number=1,
    folder="hw1_autograd",
    submission="functions.py",
    title="Custom autograd Functions",
    categories=(
        Category("forward", 0.20, "forward matches torch's built-in (float64 and float32)"),
        Category("backward", 0.45, "backward matches the reference (hidden cases)", "after_published"),
        Category("gradcheck", 0.15, "split gradcheck (finite differences computed by the grader)"),
        Category("edge", 0.15, "edge cases (batch 1, large values, None and needs_input_grad)", "after_published"),
        Category("compliance", 0.05, "backward is hand-written (no autograd, no built-in shortcuts)"),
    ),
    gated_by_compliance=("backward", "gradcheck", "edge"),  # and "forward" when forward broke the rules
    tasks=(
        Task(1, "Square", 5, "x -> x**2 elementwise (warm-up)", AUTOGRAD | {"square", "square_"}),
        Task(2, "QuadraticForm", 10, "(v, A) -> v^T A v (warm-up)", AUTOGRAD),
        # binary_cross_entropy_with_logits(z, 1) is -log sigmoid(z), softplus(-z) too: Sigmoid's as well
        Task(3, "Sigmoid", 10, "x -> 1 / (1 + exp(-x)) elementwise",
             AUTOGRAD | {"sigmoid", "sigmoid_", "expit", "logsigmoid", "silu", "softplus",
                         "binary_cross_entropy_with_logits"}),
        Task(4, "ReLU", 10, "x -> max(0, x) elementwise",
             AUTOGRAD | {"relu", "relu_", "threshold", "threshold_", "relu6", "hardtanh", "leaky_relu"}),
        Task(5, "Linear", 25, "(x, W, b) -> x W^T + b", AUTOGRAD | {"linear", "bilinear"}),
        Task(6, "SquaredError", 15, "(pred, target) -> mean((pred - target)^2)",
             AUTOGRAD | {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"}),
        Task(7, "CrossEntropy", 25, "(logits, target) -> mean cross-entropy of softmax(logits)",
             AUTOGRAD | {"cross_entropy", "nll_loss", "log_softmax", "softmax", "kl_div",
                          "binary_cross_entropy", "binary_cross_entropy_with_logits"}),
    ),
)
