"""The model and its registered presets."""

from dnnet.models import presets as _presets  # noqa: F401  (registers the builders)
from dnnet.models.dnnet import DNNet
from dnnet.models.registry import create_model, list_models, register_model

__all__ = ["DNNet", "create_model", "list_models", "register_model"]
