"""Training a DNNet with PyTorch Lightning (pip install lightning) through dnnet's joint loss and default recipe.

    python examples/lightning_train.py --preset dnnet_resnet8_g4 --epochs 5   # the embedded digits; --data cifar10 ...
"""

import argparse

import lightning
import torch
from torch.utils.data import DataLoader

from dnnet import create_model
from dnnet.data import channel_stats, load_data, torch_dataset
from dnnet.evaluation import grid_accuracy
from dnnet.train import TrainConfig
from dnnet.train.objective import build_objective


class JointlyTrainedDNNet(lightning.LightningModule):
    def __init__(self, model, config: TrainConfig):
        super().__init__()
        self.model, self.config = model, config
        self.forward_cells, self.joint_loss = build_objective(model, config)  # every cell's logits; dnnet.loss.JointLoss

    def training_step(self, batch, _):
        images, labels = batch  # normalised and augmented as `dnnet train` does, by dnnet.data.torch_dataset
        logits = self.forward_cells(images)
        loss = self.joint_loss(logits, labels)
        self.log("joint_loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        sgd = self.config.optimiser
        return torch.optim.SGD(self.parameters(), lr=sgd.lr, momentum=sgd.momentum, nesterov=sgd.nesterov, weight_decay=sgd.weight_decay)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="dnnet_resnet8_g4")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    config = TrainConfig.from_flat(preset=args.preset, data=args.data, epochs=args.epochs)
    data = load_data(config.dataset.data)
    model = create_model(config.preset, image_size=data.image_shape[-1], num_classes=len(data.classes), cell_heads=True)
    loader = DataLoader(torch_dataset(data, "train", augment=True), batch_size=config.optimiser.batch_size, shuffle=True)
    trainer = lightning.Trainer(max_epochs=config.optimiser.epochs, accelerator="cpu", logger=False, enable_checkpointing=False)
    trainer.fit(JointlyTrainedDNNet(model, config), loader)
    mean, std = channel_stats(data.train.images)
    accuracy = grid_accuracy(model, data.val, mean, std)  # every (depth, width) cell of the one trained network
    print(f"validation accuracy: full network {100 * accuracy[-1, -1]:.2f}%, smallest cell {100 * accuracy[0, 0]:.2f}%, "
          f"mean over {accuracy.numel()} cells {100 * accuracy.mean():.2f}%")


if __name__ == "__main__":
    main()
