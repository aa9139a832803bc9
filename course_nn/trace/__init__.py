"""``course-nn trace``: one forward and one backward pass through a tiny network, node by node.

Every ``.apply`` of the network is a node. The student's Functions run with their ``backward``
called directly (so an unsummed bias gradient shows up instead of being summed by autograd), torch's
built-ins run from the same weights and data, and each node is compared with torch's:

    nets.py    the four tiny networks (--net) as a list of nodes over named tensors
    record.py  runs a network, records every node's values and gradients, and gives each a status
    draw.py    the picture (matplotlib, Agg) and the plain-text table
    cli_trace.py  the command
"""

#: --net choices and what each network is (here, not in nets.py, so that --help does not import torch)
NETS: dict[str, str] = {
    "mlp": "2-3-2 sigmoid MLP with cross-entropy (default)",
    "relu": "the same with ReLU",
    "regression": "1-D input, 3 sigmoid units, squared error",
    "paths": "one value feeds two branches that join again: the += of backpropagation",
}
