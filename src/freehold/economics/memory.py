"""Memory needed to serve a model: weights, KV cache and runtime overhead (GB = 1e9 bytes).

* weights  = parameters × bits per weight / 8                      (bytes)
* KV cache = 2 × layers × kv_heads × head_dim × bytes per value × context × sequences
  (the 2 is one key and one value vector per layer, head and token)
* overhead = overhead_fraction × weights + per_device_gb × devices  (runtime, activations,
  CUDA context)
* it fits when weights + KV cache + overhead ≤ device memory × devices.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1e9


def weights_bytes(params: float, bits_per_weight: float) -> float:
    """Bytes of weights: ``params × bits_per_weight / 8``."""
    return params * bits_per_weight / 8


def kv_cache_bytes(
    layers: float,
    kv_heads: float,
    head_dim: float,
    bytes_per_value: float,
    context: float,
    sequences: float,
) -> float:
    """Bytes of KV cache: ``2 × layers × kv_heads × head_dim × bytes × context × sequences``."""
    return 2 * layers * kv_heads * head_dim * bytes_per_value * context * sequences


def overhead_bytes(
    weights: float, devices: int, overhead_fraction: float, per_device_gb: float
) -> float:
    """Runtime overhead: ``overhead_fraction × weights + per_device_gb × GB × devices``."""
    return overhead_fraction * weights + per_device_gb * GB * devices


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory in GB and whether it fits in ``available_gb``."""

    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    available_gb: float

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb + self.overhead_gb

    @property
    def fits(self) -> bool:
        return self.total_gb <= self.available_gb

    def to_json(self) -> dict[str, float]:
        return {
            "weights_gb": self.weights_gb,
            "kv_cache_gb": self.kv_cache_gb,
            "overhead_gb": self.overhead_gb,
            "total_gb": self.total_gb,
            "available_gb": self.available_gb,
        }


def estimate_memory(
    weights: float,
    kv_cache: float,
    device_memory_gb: float,
    devices: int,
    overhead_fraction: float,
    per_device_gb: float,
) -> MemoryEstimate:
    """Weights and KV cache (bytes) plus overhead, against ``device_memory_gb × devices``."""
    overhead = overhead_bytes(weights, devices, overhead_fraction, per_device_gb)
    return MemoryEstimate(
        weights_gb=weights / GB,
        kv_cache_gb=kv_cache / GB,
        overhead_gb=overhead / GB,
        available_gb=device_memory_gb * devices,
    )


def smallest_count(
    weights: float,
    kv_cache: float,
    device_memory_gb: float,
    overhead_fraction: float,
    per_device_gb: float,
    counts: tuple[int, ...] = (1, 2, 4, 8),
) -> int | None:
    """The fewest devices among ``counts`` that hold the model, or None."""
    for count in counts:
        estimate = estimate_memory(
            weights, kv_cache, device_memory_gb, count, overhead_fraction, per_device_gb
        )
        if estimate.fits:
            return count
    return None
