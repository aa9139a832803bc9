"""hw2 — from perceptrons to a multilayer perceptron trained with SGD."""

from course_nn.registry import Assignment, Category, Task
from course_nn.registry.api import BASE
from course_nn.registry.policy import group

# The Functions the grader hands to MLP (``functions=``): attributes of that object, and the only
# names ``getattr(functions, NAME)`` may look up (the gate proves NAME is one of them).
HANDED = ("Linear", "ReLU", "Sigmoid")

# Differences of neighbours, bins of sorted values and a chain of matrix products: the natural tools of
# relu_interpolant (slopes), step_approximation (jumps) and collapse_linear (W_L ⋯ W_1); pure tensor math that
# calls no code of the file's. Without them an honest file that used one lost every check (an unlisted name).
DIFFERENCES = (group("differences, bins and chained products", "torch", "diff searchsorted bucketize"),
               group("differences, bins and chained products", "torch.linalg", "multi_dot"),
               group("differences, bins and chained products", "numpy", "diff searchsorted"))
_DIFF_METHOD = ("differences (tensor method)", "", "diff")

ASSIGNMENT = Assignment(
    name="hw2",
    grader="course_nn.grading.hw2",
    number=2,
    folder="hw2_mlp",
    autograd_allowed=True,
    policy=BASE.extend(handed=HANDED, callables=DIFFERENCES,
                       attributes=(group("the Functions handed to MLP", "", " ".join(HANDED)), group(*_DIFF_METHOD))),
    submission="mlp.py",
    title="Perceptrons, universal approximation and the MLP",
    categories=(
        Category("main", 0.55, "random cases match the grader's reference"),
        Category("edge", 0.35, "edge cases, the lecture's examples and end-to-end checks", "after_published"),
        Category("compliance", 0.10, "follows the contract (return types and shapes, inputs unchanged, "
                 "MLP calls the given Functions)"),
    ),
    tasks=(
        Task(1, "count_parameters", 5, "number of weights and biases of a fully connected network"),
        Task(2, "perceptron_predict", 5, "sign(Xw + b) with sign(0) = +1"),
        Task(3, "perceptron_train", 10, "Rosenblatt's learning rule; zero errors on separable data"),
        Task(4, "xor_perceptrons", 10, "three perceptrons that classify XOR-style data"),
        Task(5, "relu_interpolant", 10, "a one-hidden-layer ReLU network through given knots"),
        Task(6, "step_approximation", 10, "a one-hidden-layer step network within a tolerance of f"),
        Task(7, "collapse_linear", 5, "a stack of linear layers as one linear layer"),
        Task(8, "MLP", 20, "forward and gradients of an MLP built from the hw1 Functions; trains on spiral"),
        Task(9, "sgd_step", 10, "one in-place gradient-descent step, gradients cleared"),
        Task(10, "train_epoch", 10, "one epoch of minibatch SGD, returns the mean loss"),
        # 5 points from collapse_linear's 10: both are short constructions about what a linear map can
        # and cannot do (stacks collapse; a line on hand-made features separates the circles)
        Task(11, "feature_map", 5, "hand-made features in which a linear classifier separates the circles"),
    ),
)
