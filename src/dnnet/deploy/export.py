"""A sliced sub-network as one standalone file: ONNX, a torch.export program, or safetensors."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import warnings
from pathlib import Path

import torch

from dnnet.deploy.tiled_convolutions import tile_convolutions
from dnnet.errors import UserError
from dnnet.slicing import SubNet, fold_batchnorm

FORMATS = ("onnx", "pt2", "safetensors")


def export_subnet(subnet: SubNet, path: Path, fmt: str, image_shape: tuple[int, int, int],
                  metadata: dict[str, str] | None = None, tiles: int = 1) -> dict:
    """Writes `subnet` (eval mode) to `path`; returns facts about the file (for ONNX, the check).

    `metadata` (strings: the preprocessing, the cell, its resources and accuracy) travels inside the file: ONNX
    `metadata_props`, safetensors metadata, or `dnnet.json` among a torch.export archive's extra files.
    `tiles` > 1 (ONNX, a causal cell): each convolution in that many output-group tiles that skip its zero blocks
    (`dnnet.deploy.tiled_convolutions`).
    """
    if fmt not in FORMATS:
        raise UserError(f"format must be one of {FORMATS}, got {fmt!r}")
    if tiles != 1 and fmt != "onnx":
        raise UserError(f"tiled convolutions are an ONNX export's option; got format {fmt!r}")
    subnet = subnet.eval()
    metadata = {"dnnet_arch": json.dumps({"config": subnet.config.to_dict(), "depth": subnet.depth, "width": subnet.width}),
                **(metadata or {}), **({"tiles": str(min(tiles, subnet.width))} if tiles != 1 else {})}
    example = torch.randn(2, *image_shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "safetensors":
        return _save_safetensors(subnet, path, metadata)
    batch = torch.export.Dim("batch", min=1, max=4096)
    if fmt == "pt2":
        program = torch.export.export(subnet, (example,), dynamic_shapes={"x": {0: batch}})
        torch.export.save(program, path, extra_files={"dnnet.json": json.dumps(metadata)})
        return {"path": str(path), "load_with": "torch.export.load(path).module(); metadata in extra file dnnet.json"}
    missing = [name for name in ("onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:  # checked before anything is written: the export needs both (to write, check and verify the file)
        raise UserError(f"an ONNX export needs {' and '.join(missing)}: pip install 'doubly-nested-networks[export]'")
    write_onnx(subnet, path, example, tiles=tiles)
    finish_onnx(path, metadata)
    return {"path": str(path), "load_with": "onnxruntime.InferenceSession(path); metadata in metadata_props",
            "max_abs_diff_vs_torch": check_onnx(path, subnet, image_shape)}


def finish_onnx(path: Path, metadata: dict[str, str]) -> None:
    """Adds `metadata` to the model's metadata_props, keeps every weight inside the one file (no empty .onnx.data
    beside it) and runs onnx.checker on the result."""
    try:
        import onnx
    except ImportError as error:  # optional extra
        raise UserError("an ONNX export needs onnx: pip install 'doubly-nested-networks[export]'") from error
    model = onnx.load(str(path))  # loads external data into the model too
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path), save_as_external_data=False)
    Path(f"{path}.data").unlink(missing_ok=True)


def write_onnx(subnet: SubNet, path: Path, example: torch.Tensor, dynamo: bool = True, tiles: int = 1) -> None:
    """ONNX file of `subnet` with batch norm folded and a dynamic batch axis (and its convolutions in `tiles` tiles).

    `dynamo=False` selects the older TorchScript exporter: about 25x faster on these small graphs,
    which matters when every cell of a grid is exported for timing; it falls back to the default.
    """
    folded = fold_batchnorm(subnet.eval())  # fewer nodes; the same function in eval mode
    if tiles != 1:
        folded = tile_convolutions(folded, tiles)
    with _quiet_exporter():
        if not dynamo:
            try:
                torch.onnx.export(folded, (example,), str(path), dynamo=False, input_names=["image"],
                                  output_names=["logits"], dynamic_axes={"image": {0: "batch"}})
                return
            except Exception:  # noqa: BLE001 - the older exporter may be gone in a later torch
                pass
        batch = torch.export.Dim("batch", min=1, max=4096)
        torch.onnx.export(folded, (example,), str(path), dynamo=True, dynamic_shapes={"x": {0: batch}},
                          input_names=["image"], output_names=["logits"], verbose=False)


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter logs about optional torchvision operators and warns about its own internals."""
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)  # shape-inference notes of the older exporter
            warnings.simplefilter("ignore", DeprecationWarning)  # the older exporter announces its end
            yield
    finally:
        registration.setLevel(level)


def check_onnx(path: Path, subnet: SubNet, image_shape: tuple[int, int, int], batch: int = 8, seed: int = 0) -> float:
    """Largest |onnxruntime - torch| over a batch of random inputs."""
    try:
        import onnxruntime
    except ImportError as error:  # optional extra
        raise UserError("checking an ONNX export needs onnxruntime: pip install 'doubly-nested-networks[export]'") from error
    x = torch.randn(batch, *image_shape, generator=torch.Generator().manual_seed(seed))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_logits,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        torch_logits = subnet(x).numpy()
    return float(abs(onnx_logits - torch_logits).max())


def _save_safetensors(subnet: SubNet, path: Path, metadata: dict[str, str]) -> dict:
    from safetensors.torch import save_file

    tensors = {k: v.contiguous() for k, v in subnet.state_dict().items()}
    save_file(tensors, str(path), metadata=metadata)
    return {"path": str(path), "load_with": "safetensors.torch.load_file(path); architecture in the 'dnnet_arch' metadata"}
