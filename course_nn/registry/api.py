"""The shared allow-list every assignment starts from (see policy.py for the format).

Each list names plain math on values: making, reshaping, combining and reducing tensors and
arrays, and Python's own arithmetic helpers. What is left out reaches the process (files, raw
memory, compiled or traced code, hooks, global settings, other modules) or is simply not needed;
``REFUSALS`` says why for the names students reach for most often.
"""

from __future__ import annotations

from course_nn.registry.policy import Group, Policy, Refusal, group

IMPORTS = (
    "__future__", "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.parameter",
    "torch.autograd", "torch.autograd.function", "torch.linalg", "torch.special", "torch.cuda",
    "numpy", "numpy.linalg", "numpy.random",
    "math", "functools", "itertools", "operator", "random", "numbers", "dataclasses", "typing",
    "collections", "collections.abc",
)

_ELEMENTWISE = ("abs absolute neg negative exp exp2 expm1 log log2 log10 log1p sqrt rsqrt pow float_power "
                "reciprocal sin cos tan tanh sinh cosh asin acos atan atan2 arcsin arccos arctan arctan2 "
                "sign sgn signbit floor ceil round trunc frac fmod remainder clamp clip clamp_min clamp_max "
                "maximum minimum fmax fmin lerp add sub subtract mul multiply div divide true_divide "
                "floor_divide erf erfc logaddexp logaddexp2 xlogy hypot nan_to_num heaviside copysign logit "
                "square addcmul addcdiv deg2rad rad2deg")
_REDUCTIONS = ("sum mean prod max min amax amin aminmax argmax argmin logsumexp cumsum cumprod cummax cummin "
               "std var std_mean var_mean norm median nansum nanmean count_nonzero all any sort argsort topk "
               "kthvalue unique")
_LINALG = ("matmul mm bmm mv dot vdot outer ger inner einsum tensordot addmm addmv addr baddbmm kron cross "
           "trace det inverse")
_SHAPES = ("reshape flatten unflatten squeeze unsqueeze stack cat concat concatenate hstack vstack dstack "
           "column_stack split chunk tensor_split unbind transpose swapaxes swapdims permute movedim moveaxis "
           "narrow select index_select gather scatter scatter_add take take_along_dim masked_select "
           "masked_fill flip fliplr flipud roll rot90 repeat_interleave tile broadcast_to broadcast_tensors "
           "atleast_1d atleast_2d atleast_3d nonzero argwhere tril triu diag diag_embed diagflat diagonal "
           "block_diag meshgrid t numel clone")
_COMPARE = ("eq ne lt le gt ge equal allclose isclose isnan isinf isfinite isneginf isposinf logical_and "
            "logical_or logical_not logical_xor greater less greater_equal less_equal not_equal where "
            "is_tensor is_floating_point is_complex")
_CREATE = ("tensor as_tensor from_numpy zeros ones empty full zeros_like ones_like empty_like full_like arange "
           "linspace logspace eye rand randn randint rand_like randn_like randint_like randperm normal "
           "bernoulli multinomial manual_seed")
_TYPES = ("Tensor Size dtype device finfo iinfo Generator float16 float32 float64 bfloat16 half float double "
          "int8 int16 int32 int64 uint8 short int long bool complex64 complex128 cfloat cdouble "
          "get_default_dtype result_type promote_types can_cast inf nan pi e")
# Torch's own layers, activations and losses: plain computations, so no file is refused for them;
# hw1's registry says which of them cost the Function that implements the same thing.
_BUILTIN_LAYERS = ("sigmoid relu softmax log_softmax")
_NN_FUNCTIONAL = ("linear bilinear relu relu6 leaky_relu hardtanh threshold sigmoid logsigmoid silu tanh softmax "
                  "log_softmax cross_entropy nll_loss mse_loss l1_loss smooth_l1_loss huber_loss kl_div "
                  "binary_cross_entropy binary_cross_entropy_with_logits one_hot pad normalize")
# Not torch.nn.ParameterDict: it stores whatever it is given as an attribute named by its key, and a key computed
# to "__array_interface__" handed numpy any address (the twentieth red-team pass). ParameterList's names are indices.
_NN = ("Module Parameter ParameterList ModuleList ModuleDict Sequential Identity Linear ReLU "
       "Sigmoid Tanh LogSoftmax Softmax MSELoss CrossEntropyLoss")
_NUMPY = ("array asarray zeros ones empty full zeros_like ones_like full_like arange linspace eye identity diag "
          "exp exp2 expm1 log log1p log2 log10 sqrt square abs absolute sign maximum minimum clip where power "
          "floor ceil round tanh sin cos tan arctan arctan2 logaddexp sum mean prod max min amax amin argmax "
          "argmin std var cumsum cumprod dot matmul outer inner einsum tensordot transpose reshape concatenate "
          "stack vstack hstack split squeeze expand_dims tile repeat broadcast_to take_along_axis allclose "
          "isclose array_equal isnan isinf isfinite all any sort argsort unique nonzero count_nonzero flip "
          "roll ndarray float32 float64 int32 int64 bool_ newaxis pi e inf nan")

CALLABLES = (
    group("making tensors", "torch", _CREATE),
    group("elementwise math", "torch", _ELEMENTWISE),
    group("reductions", "torch", _REDUCTIONS),
    group("matrix products", "torch", _LINALG),
    group("shapes and indexing", "torch", _SHAPES),
    group("comparisons and selection", "torch", _COMPARE),
    group("types, devices and constants", "torch", _TYPES),
    group("gradient mode", "torch", "no_grad enable_grad set_grad_enabled is_grad_enabled"),
    group("autograd", "torch.autograd", "Function grad backward"),
    group("autograd", "torch.autograd.function", "FunctionCtx once_differentiable"),
    group("torch's layers, activations and losses", "torch", _BUILTIN_LAYERS),
    group("torch's layers, activations and losses", "torch.nn.functional", _NN_FUNCTIONAL),
    group("torch's layers, activations and losses", "torch.nn", _NN),
    group("torch's layers, activations and losses", "torch.special",
          "expit logit softmax log_softmax logsumexp xlogy erf erfc expm1 log1p exp2"),
    group("initialisation", "torch.nn.init", "uniform_ normal_ zeros_ ones_ constant_ xavier_uniform_ "
          "xavier_normal_ kaiming_uniform_ kaiming_normal_ calculate_gain"),
    group("linear algebra", "torch.linalg", "norm vector_norm matrix_norm inv solve det svd qr eigh cholesky pinv "
          "matrix_rank"),
    group("devices", "torch.cuda", "is_available"),
    group("numpy array math", "numpy", _NUMPY),
    group("numpy array math", "numpy.linalg", "norm inv solve det svd qr eigh pinv matrix_rank"),
    group("numpy array math", "numpy.random", "seed rand randn randint normal uniform choice permutation shuffle "
          "default_rng"),
    group("Python's math", "math", "pi e tau inf nan exp expm1 log log1p log2 log10 sqrt pow fabs floor ceil "
          "trunc isclose isfinite isinf isnan tanh sinh cosh sin cos tan asin acos atan atan2 hypot erf erfc "
          "fsum prod factorial comb perm gcd lcm isqrt copysign degrees radians"),
    group("Python's helpers", "functools", "reduce partial cache lru_cache"),
    group("Python's helpers", "itertools", "chain product accumulate combinations combinations_with_replacement "
          "permutations zip_longest islice count cycle repeat starmap tee groupby pairwise compress dropwhile "
          "takewhile filterfalse"),
    group("Python's helpers", "operator", "add sub mul truediv floordiv mod pow neg pos abs matmul lt le eq ne ge "
          "gt and_ or_ xor not_ invert"),
    group("Python's helpers", "random", "random uniform gauss normalvariate randint randrange choice choices "
          "shuffle sample seed Random"),
    group("Python's helpers", "numbers", "Number Complex Real Rational Integral"),
    group("Python's helpers", "dataclasses", "dataclass field asdict astuple replace is_dataclass"),
    group("Python's helpers", "collections", "deque Counter OrderedDict defaultdict namedtuple"),
    group("type annotations", "typing", "Any Optional Union List Tuple Dict Set FrozenSet Callable Iterable "
          "Iterator Sequence Mapping MutableMapping Literal Final ClassVar Type TYPE_CHECKING NamedTuple "
          "TypeVar Generic cast"),
    group("type annotations", "collections.abc", "Callable Iterable Iterator Sequence Mapping MutableMapping "
          "MutableSequence Sized Container Collection"),
)

_METHODS_MATH = " ".join((_ELEMENTWISE, _REDUCTIONS, _LINALG, _SHAPES, _COMPARE, _BUILTIN_LAYERS))
_IN_PLACE = ("add_ sub_ mul_ div_ pow_ neg_ abs_ exp_ log_ sqrt_ clamp_ clamp_min_ clamp_max_ zero_ fill_ copy_ "
             "uniform_ normal_ masked_fill_ scatter_ scatter_add_ index_add_ addmm_ addcmul_ addcdiv_ lerp_ "
             "t_ transpose_ squeeze_ unsqueeze_ resize_ detach_ sigmoid_ relu_ square_ "
             # the in-place twin of every listed tensor method torch has one for (tests/test_gate_in_place.py)
             "absolute_ acos_ addmv_ addr_ arccos_ arcsin_ arctan2_ arctan_ asin_ atan2_ atan_ baddbmm_ ceil_ "
             "clip_ copysign_ cos_ cosh_ cumprod_ cumsum_ deg2rad_ divide_ eq_ erf_ erfc_ exp2_ expm1_ "
             "float_power_ floor_ floor_divide_ fmod_ frac_ ge_ greater_ greater_equal_ gt_ heaviside_ hypot_ "
             "index_copy_ index_fill_ index_put_ le_ less_ less_equal_ log10_ log1p_ log2_ logical_and_ "
             "logical_not_ logical_or_ logical_xor_ logit_ lt_ multiply_ nan_to_num_ ne_ negative_ not_equal_ "
             "put_ rad2deg_ reciprocal_ remainder_ round_ rsqrt_ sgn_ sign_ sin_ sinh_ subtract_ swapaxes_ "
             "swapdims_ tan_ tanh_ tril_ triu_ true_divide_ trunc_ xlogy_")
ATTRIBUTES = (
    group("tensor math (also numpy arrays)", "", _METHODS_MATH),
    group("tensor methods", "", "size dim ndimension numel nelement item tolist numpy detach contiguous "
          "is_contiguous to cpu cuda double float half long int bool short byte type type_as view view_as "
          "reshape_as expand expand_as repeat new_zeros new_ones new_empty new_full new_tensor stride "
          "element_size is_floating_point is_complex masked_fill index_add index_fill index_copy index_put "
          "put clamp_ " + _IN_PLACE),
    group("tensor fields", "", "shape dtype device ndim T mT H mH grad data requires_grad is_leaf is_cuda layout "
          "real imag itemsize nbytes"),
    group("numpy arrays", "", "astype copy ravel fill size strides"),
    group("autograd (hw1: a Function may not call it)", "", "backward requires_grad_ retain_grad"),
    group("autograd's ctx", "", "save_for_backward saved_tensors saved_variables needs_input_grad mark_dirty "
          "mark_non_differentiable set_materialize_grads"),
    group("a Function class", "", "apply"),
    group("torch.nn.Module", "", "parameters named_parameters buffers named_buffers children named_children "
          "modules named_modules train eval training zero_grad state_dict load_state_dict register_parameter "
          "register_buffer add_module register_module forward extra_repr"),
    group("results and number types", "", "values indices eigenvalues eigenvectors U S Vh Q R L eps tiny "
          "resolution bits smallest_normal is_signed index"),
    group("random generators", "", "manual_seed initial_seed integers random standard_normal permutation "
          "shuffle choice uniform normal"),
    group("plain Python values", "", "append extend insert pop remove count reverse clear items keys get "
          "setdefault update popitem join split rsplit strip lstrip rstrip lower upper capitalize title startswith "
          "endswith replace find rfind partition splitlines isdigit isalpha isnumeric zfill ljust rjust center "
          "encode decode add discard union intersection difference symmetric_difference issubset issuperset "
          "isdisjoint is_integer bit_length conjugate as_integer_ratio start stop step indices args add_note "
          "appendleft popleft extendleft rotate maxlen most_common elements move_to_end default_factory send "
          "throw close format format_map"),
)

BUILTINS = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr", "classmethod",
    "complex", "dict", "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "object", "oct", "ord", "pow",
    "print", "property", "range", "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod", "str",
    "sum", "tuple", "zip", "super", "type", "getattr", "setattr", "hasattr", "NotImplemented", "Ellipsis",
)
# Built-in exception classes are admitted too (raise ValueError(...), except KeyError: ...).

STORES = ("grad", "data", "requires_grad")

_PROCESS = "it reaches the process that runs your code (files, memory, other modules or the interpreter)"
REFUSALS = (
    Refusal(("os", "sys", "subprocess", "importlib", "inspect", "ctypes", "pickle", "gc", "builtins", "threading",
             "multiprocessing", "socket", "signal", "types", "traceback", "io", "pathlib", "shutil", "tempfile"),
            _PROCESS, "delete the import; keep experiments in a separate script or under "
            "`if __name__ == \"__main__\":`"),
    Refusal(("torch.load", "torch.save", "torch.from_file", "numpy.load", "numpy.save", "numpy.savez",
             "numpy.fromfile", "numpy.memmap", "numpy.lib", "numpy.ctypeslib", ".tofile", ".dump", ".dumps",
             ".ctypes", ".storage", ".untyped_storage"),
            "it reads or writes files or raw memory", "build tensors and arrays from values "
            "(torch.tensor, numpy.asarray) and return them"),
    Refusal(("torch.ops", "torch.library", "torch.utils", "torch.jit", "torch.compile", "torch.fx", "torch.func",
             "torch.overrides", "torch._C", "torch.autograd.functional", ".register_hook", ".compile"),
            "it runs code the grader cannot read (compiled, traced or hooked)",
            "write the computation out with the listed functions"),
    Refusal(("torch.optim",), "the assignment asks for the update written out",
            "update the parameters yourself (hw2: call your sgd_step(model.parameters(), lr))"),
    Refusal(("torch.autograd.gradcheck", "torch.autograd.gradgradcheck"),
            "checking belongs in a test, not in the graded file",
            "run gradcheck in a scratch script or under `if __name__ == \"__main__\":`"),
    Refusal(("eval", "exec", "compile", "open", "__import__", "globals", "locals", "vars", "dir", "breakpoint",
             "input", "help", "exit", "quit", "memoryview", "delattr", "id"),
            _PROCESS, "call the function you mean directly"),
    Refusal(("operator.attrgetter", "operator.methodcaller", "operator.itemgetter", "functools.wraps",
             "functools.update_wrapper", "dataclasses.make_dataclass", "typing.get_type_hints", ".get_submodule",
             ".get_parameter", ".get_buffer"),
            "it reads attributes or evaluates text by name", "write `x.name` out"),
)

BASE = Policy(imports=IMPORTS, callables=CALLABLES, attributes=ATTRIBUTES, builtins=BUILTINS, stores=STORES,
              refusals=REFUSALS)

__all__ = ["BASE", "Group", "Policy", "Refusal", "group"]
