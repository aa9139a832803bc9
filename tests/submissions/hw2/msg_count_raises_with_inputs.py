"""count_parameters raises on every call with its input in the message: on hidden cases only the
exception's type and the case's description may reach the student."""


def count_parameters(layer_sizes):
    raise ValueError(f"SECRET-SIZES {list(layer_sizes)}")
