"""The paper's experiments and baselines under a protocol: `run_experiment(name, store)`."""

from dnnet.experiments.protocols import PROTOCOLS, Protocol, get_protocol, macs_budget
from dnnet.experiments.run_store import RunStore
from dnnet.experiments.suite import EXPERIMENTS, run_experiment

__all__ = ["EXPERIMENTS", "PROTOCOLS", "Protocol", "RunStore", "get_protocol", "macs_budget", "run_experiment"]
