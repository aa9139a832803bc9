"""count_parameters counts the weights only and forgets one bias per unit."""


def count_parameters(layer_sizes):
    sizes = list(layer_sizes)
    return int(sum(a * b for a, b in zip(sizes, sizes[1:])))  # mistake: + b for the biases
