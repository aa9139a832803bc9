# rt9 (crash): count_parameters returns a list of 300,000 small tensors: each under the per-tensor cap
# (cases.MAX_RESULT_ELEMENTS), together a result frame over the 64 MiB frame cap. The child's writer raises
# FrameError out of child_main, which prints "the grader could not start the child: FrameError: ..." and exits
# with status 111; the student reads "the process exited with status 111 (does your code call sys.exit, os._exit
# or quit?)". Only count_parameters may lose its credit; the message should say the result was too big. Held:
# probe_hw2.plain sends a list of more than MAX_ITEMS items back as "<list of 300000 items>".
import torch


def count_parameters(layer_sizes):
    return [torch.zeros(4)] * 300_000
