"""The two protocols of the experiment suite: one for the 2-core CPU machine, one for the paper's GPU run.

A protocol fixes the networks, the data and the schedule; `training_runs` lists every training run
its experiments need, each a plain `TrainConfig`, so every baseline trains with `dnnet train`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from dnnet.errors import UserError
from dnnet.runs.train_config import PAPER_RECIPE, TrainConfig

# the paper's budget: 24M MACs for a DNNet ResNet-32 whose full network needs 68.2M; scaled by full MACs elsewhere
PAPER_MACS_BUDGET = 24e6
PAPER_PRESET = "dnnet_resnet32_g22"


@dataclass(frozen=True)
class Protocol:
    name: str
    data: str
    dnnet: str  # the doubly nested network
    plain: str  # its plain comparator: brute-force slicing, fine-tuning, full training, slimmable training
    anytime: str  # the depth-only anytime network
    epochs: int
    full_training_groups: tuple[int, ...]  # narrower plain networks trained from scratch (the full one is `plain`)
    plain_groups: int | None = None  # width of the plain and depth-only networks (None: the preset's); chosen so
    # that their full network needs about the MACs of the DNNet's, as in the paper (16/32/64 against 22/44/88)
    seeds: tuple[int, ...] = (0,)  # DNNet and depth-only runs (fig5); the other runs use the first seed
    schedule: str = "step"
    batch_size: int = 128
    data_dir: str | None = None
    lambda_variants: dict[str, dict] = field(default_factory=lambda: {
        "uniform": {}, "macs": {"weighting": "macs"}, "distill": {"distill_weight": 0.5}, "paper": PAPER_RECIPE})
    budget_fractions: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)  # of DNNet's full MACs
    feature_map_fraction: float = 0.5  # second resource of fig5: largest feature map, of the plain network's

    def with_overrides(self, **overrides) -> Protocol:
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def base(self, preset: str, seed: int, **settings) -> TrainConfig:
        return TrainConfig.from_flat(preset=preset, data=self.data, data_dir=self.data_dir, epochs=self.epochs,
                           batch_size=self.batch_size, schedule=self.schedule, seed=seed, **settings)

    def training_runs(self) -> dict[str, TrainConfig]:
        """Run name -> its config; names are stable, so finished runs are found again and reused."""
        first = self.seeds[0]
        runs = {}
        for seed in self.seeds:
            runs[f"dnnet_s{seed}"] = self.base(self.dnnet, seed)
            runs[f"anytime_s{seed}"] = self.base(self.anytime, seed, groups=self.plain_groups)
        runs[f"plain_s{first}"] = self.base(self.plain, first, groups=self.plain_groups)
        for groups in self.full_training_groups:
            runs[f"plain_g{groups}_s{first}"] = self.base(self.plain, first, groups=groups)
        runs[f"sandwich_s{first}"] = self.base(self.plain, first, groups=self.plain_groups, objective="sandwich")
        for variant, settings in self.lambda_variants.items():
            if settings:
                runs[f"dnnet_{variant}_s{first}"] = self.base(self.dnnet, first, **settings)
        return runs

    def lambda_run(self, variant: str) -> str:
        first = self.seeds[0]
        return f"dnnet_s{first}" if not self.lambda_variants[variant] else f"dnnet_{variant}_s{first}"


PROTOCOLS = {
    # DNNet ResNet-20 with 8 groups (8/16/32 channels, 10 exits x 8 widths, 5.86M MACs) against plain ResNet-20s with
    # 6 groups (6/12/24 channels, 5.81M MACs), 7 epochs of CIFAR-10: the whole suite in under 90 minutes on 2 cores.
    # docs/results.md trained it on a JPEG copy of CIFAR-10 (--data ../shared/data/cifar10-jpg.tar.gz)
    "cpu": Protocol(name="cpu", data="cifar10", data_dir="data", dnnet="dnnet_resnet20_g8", plain="resnet20",
                    anytime="resnet20_anytime", epochs=7, schedule="cosine", plain_groups=6,
                    full_training_groups=(1, 2, 3, 4), seeds=(0, 1)),
    # the paper's networks and the usual 160-epoch CIFAR schedule (lr x0.1 at 50% and 75%), for a GPU
    "paper": Protocol(name="paper", data="cifar10", data_dir="data", dnnet="dnnet_resnet32_g22", plain="resnet32",
                      anytime="resnet32_anytime", epochs=160, full_training_groups=(4, 8, 12)),
}


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise UserError(f"unknown protocol {name!r}; choose one of {sorted(PROTOCOLS)}")
    return PROTOCOLS[name]


def full_macs(preset: str) -> int:
    """MACs of a preset's full network on CIFAR-sized input (the protocols' data)."""
    from dnnet.accounting import cell_resources
    from dnnet.models import create_model

    config = create_model(preset).config
    return cell_resources(config, config.num_exits, config.groups).macs


def macs_budget(protocol: Protocol, dnnet_full_macs: float | None = None) -> float:
    """The paper's 24M MACs, scaled by the ratio of full-network MACs (exactly 24M for the paper's network).

    `dnnet_full_macs`: the trained DNNet's own full MACs (other image sizes); default the preset's on CIFAR.
    """
    full = full_macs(protocol.dnnet) if dnnet_full_macs is None else dnnet_full_macs
    return PAPER_MACS_BUDGET * full / full_macs(PAPER_PRESET)
