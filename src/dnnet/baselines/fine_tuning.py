"""Fine-tuning: brute-force slicing of a plain network, then only the classifier retrained per width.

The backbone is frozen, so the classifier of width w is a multinomial logistic regression on the
pooled features of the first w groups at the last exit. It starts from the sliced classifier and is
fitted to convergence with full-batch L-BFGS on the (unaugmented) training images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dnnet.data import DataSplits, ImageDataset, normalize
from dnnet.models.dnnet import DNNet


@torch.no_grad()
def pooled_features(model: DNNet, dataset: ImageDataset, mean: list[float], std: list[float], width: int,
                    batch_size: int = 500) -> torch.Tensor:
    """(N, channels of width w) average-pooled features at the last exit: what its classifier sees."""
    model.eval()
    depth = model.config.num_exits
    rows = []
    device = next(model.parameters()).device
    for start in range(0, len(dataset), batch_size):
        x = normalize(dataset.images[start : start + batch_size].to(device), mean, std)
        *_, features = model.exit_features(x, depth, width)
        rows.append(features.mean(dim=(2, 3)))
    return torch.cat(rows)


def fit_linear_classifier(features: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                          weight_decay: float = 5e-4, iterations: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias minimising cross-entropy + weight_decay/2 |W|^2, from the given start."""
    weight = weight.detach().clone().requires_grad_(True)
    bias = bias.detach().clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(features @ weight.T + bias, labels) + 0.5 * weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach(), bias.detach()


def fine_tuned_accuracy(model: DNNet, data: DataSplits, mean: list[float], std: list[float],
                        splits: tuple[str, ...] = ("val", "test"), device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Accuracy per width (1, widths) at the last exit, per split, with each width's classifier refitted."""
    model = model.to(device)
    head = model.heads[-1]
    accuracy = {split: torch.zeros(1, model.config.groups, dtype=torch.float64) for split in splits}
    for width in range(1, model.config.groups + 1):
        weight, bias = fit_linear_classifier(pooled_features(model, data.train, mean, std, width),
                                             data.train.labels.to(device), *head.merged_linear(width))
        for split in splits:
            dataset = data.split(split)
            logits = pooled_features(model, dataset, mean, std, width) @ weight.T + bias
            accuracy[split][0, width - 1] = (logits.argmax(-1).cpu() == dataset.labels).double().mean()
    return accuracy
