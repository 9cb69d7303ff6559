"""What a run trains on: the data set, where it lives, the validation split and how images are read."""

from __future__ import annotations

from dataclasses import dataclass

from dnnet.errors import UserError
from dnnet.runs.setting_field import setting
from dnnet.utils.amounts import check_image_size

CROPS = ("padded", "resized")


@dataclass(frozen=True)
class DataSettings:
    data: str = setting("digits", "cifar10, cifar100, svhn, digits (embedded), or a path to a folder or .tar/.tar.gz of "
                                  "class folders; ")
    data_dir: str | None = setting(None, "where named data sets live (unset: ./data); ")
    val_count: int | None = setting(None, "images held out of the training split to choose cells (the data set's default "
                                          "when unset); ")
    skip_bad_images: bool = setting(False, "an image folder's images that cannot be decoded are left out (counted in "
                                           "config.json) instead of stopping the run with their paths; ")
    image_size: int | None = setting(None, "every image fitted to an N x N square: the short side resized to N "
                                           "(bilinear), the centre cropped; images of several sizes become one data set; "
                                           "recorded in config.json, applied alike by eval and by the weights' "
                                           "preprocessing (model.pretrained_cfg.prepare); ", metavar="N")
    crop: str | None = setting(None, "training crops: padded (the CIFAR recipe: pad by a side / 8, crop at random) or "
                                     "resized (the ImageNet recipe: a random 8-100%% of the area at a random aspect "
                                     "ratio, resized back; taken from the image fitted to --image-size, not from the "
                                     "original); unset: resized with --image-size, padded without; ", metavar="KIND")

    def __post_init__(self) -> None:
        check_image_size(self.image_size)
        if self.crop not in (None, *CROPS):
            raise UserError(f"crop must be one of {', '.join(CROPS)}, got {self.crop!r}")

    @property
    def resized_crop(self) -> bool:
        """Whether training takes random resized crops (else padded ones)."""
        return self.crop == "resized" if self.crop is not None else self.image_size is not None
