# rt17 (crash, message): count_parameters raises KeyboardInterrupt, a built-in exception name the gate admits.
# In the student's own process the probes re-raise it on purpose (Ctrl-C stops a check); in the sandboxed child no
# terminal reaches, so it is the file raising it: that task fails with the exception's name, the others keep their
# credit, and the student never reads a dead child's exit status ("does your code call sys.exit?").


def count_parameters(layer_sizes):
    raise KeyboardInterrupt
