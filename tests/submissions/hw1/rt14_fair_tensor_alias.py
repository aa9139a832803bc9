# rt14 (fair): correct code that names torch's tensor class once, the way many style guides and type-checked
# code bases do (`Tensor = torch.Tensor`, then `x: Tensor` in signatures), and checks a class with `issubclass`.
# Both are honest: the alias is only ever used in annotations and `isinstance`, nothing reads a method off it.
# Appended to the correct base: the helpers below change no Function, so it keeps full credit.
import torch

Tensor = torch.Tensor


def _as_float(x: Tensor) -> Tensor:
    return x if isinstance(x, Tensor) and x.is_floating_point() else torch.as_tensor(x, dtype=torch.float64)


class _Check(torch.nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return _as_float(x)


_CHECK_IS_MODULE = issubclass(_Check, torch.nn.Module)
