"""Fair: the construction tasks written with Python numbers and lists, as a student fresh from the lecture's
pseudo-code may: a staircase that calls f on one Python float at a time and returns lists and a float; a ReLU
interpolant built in a loop over the knots as lists; a perceptron trained on rows read as Python lists with the
weights returned as a list and the bias as an int; a parameter count with math.prod; a sign read with
torch.sign and a boundary fix-up. Every value is right; only the containers differ from the reference's."""


def count_parameters(layer_sizes):
    return sum(math.prod(pair) + pair[1] for pair in zip(layer_sizes, layer_sizes[1:]))


def perceptron_predict(X, w, b):
    s = torch.sign(X @ w + b)
    s[s == 0] = 1.0
    return s


def perceptron_train(X, y, epochs):
    rows, labels = X.tolist(), y.tolist()
    w, b = [0.0] * len(rows[0]), 0
    for _ in range(epochs):
        clean = True
        for row, label in zip(rows, labels):
            if label * (sum(wi * xi for wi, xi in zip(w, row)) + b) <= 0:
                w = [wi + label * xi for wi, xi in zip(w, row)]
                b = b + label
                clean = False
        if clean:
            break
    return torch.tensor(w, dtype=X.dtype), b


def relu_interpolant(knots_x, knots_y):
    xs, ys = knots_x.tolist(), knots_y.tolist()
    w1, b1, w2 = [], [], []
    previous = 0.0
    for k in range(len(xs) - 1):
        slope = (ys[k + 1] - ys[k]) / (xs[k + 1] - xs[k])
        w1.append(1.0)
        b1.append(-xs[k])
        w2.append(slope - previous)
        previous = slope
    return w1, b1, w2, ys[0]


def step_approximation(f, lo, hi, tol, lipschitz):
    cells = max(1, math.ceil(lipschitz * (hi - lo) / tol))
    width = (hi - lo) / cells
    heights = [float(f(lo + width * (k + 0.5))) for k in range(cells)]
    w1 = [1.0] * (cells - 1)
    b1 = [-(lo + width * k) for k in range(1, cells)]
    w2 = [heights[k] - heights[k - 1] for k in range(1, cells)]
    return w1, b1, w2, heights[0]
