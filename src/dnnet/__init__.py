"""dnnet: doubly nested networks, anytime CNNs sliceable by depth and by width."""

from dnnet.accounting import CellResources, cell_resources, grid_resources
from dnnet.config import NetConfig
from dnnet.models import DNNet, create_model, list_models, register_model
from dnnet.slicing import SubNet, load_subnet, save_subnet, slice_subnet

__version__ = "0.1.0"

__all__ = [
    "CellResources",
    "DNNet",
    "NetConfig",
    "SubNet",
    "cell_resources",
    "create_model",
    "grid_resources",
    "list_models",
    "load_subnet",
    "register_model",
    "save_subnet",
    "slice_subnet",
]
