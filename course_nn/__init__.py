"""course_nn: teach how neural networks learn, one hand-written backward at a time."""

__version__ = "0.1.0"
