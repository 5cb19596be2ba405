"""Where the course's models train: the GPU when there is one, the CPU otherwise."""

import os

import torch


def get_device() -> torch.device:
    """CUDA when available, else the CPU; ``DLCOURSE_DEVICE=cpu`` forces a device."""
    forced = os.environ.get("DLCOURSE_DEVICE")
    if forced:
        return torch.device(forced)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
