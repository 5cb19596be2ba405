"""Where the course's models train: the GPU when there is one, the CPU otherwise.

On CUDA the helpers switch on what makes small convolutional networks faster there:
mixed precision (bf16, or fp16 with a gradient scaler on GPUs without bf16) and the
``channels_last`` memory layout. On the CPU they change nothing, so a notebook runs the
same code on both.
"""

import contextlib
import os

import torch


def get_device() -> torch.device:
    """CUDA when available, else the CPU; ``DLCOURSE_DEVICE=cpu`` forces a device."""
    forced = os.environ.get("DLCOURSE_DEVICE")
    if forced:
        return torch.device(forced)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The dtype that autocast computes in on ``device``; ``None`` means full fp32."""
    if device.type != "cuda":
        return None  # CPU autocast is slower than fp32 for these small networks
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device):
    """A context that runs the forward pass in mixed precision on CUDA, in fp32 elsewhere."""
    dtype = amp_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device: torch.device) -> torch.amp.GradScaler:
    """A gradient scaler, enabled only for fp16, whose small range underflows gradients."""
    enabled = amp_dtype(device) == torch.float16
    return torch.amp.GradScaler(device.type, enabled=enabled)


def to_device(obj, device: torch.device):
    """Move a tensor or a module to ``device``, in ``channels_last`` layout on CUDA.

    Only 4-D tensors (images in a batch) and modules change layout; other tensors just move.
    """
    if device.type == "cuda" and (isinstance(obj, torch.nn.Module) or obj.dim() == 4):
        return obj.to(device, memory_format=torch.channels_last)
    return obj.to(device)
