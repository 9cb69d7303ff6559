"""What a run trains on: the data set, where it lives, the validation split and how images are read."""

from __future__ import annotations

from dataclasses import dataclass

from dnnet.runs.setting_field import setting
from dnnet.utils.amounts import check_image_size


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
                                           "training then takes random resized crops (the ImageNet recipe) and flips; "
                                           "recorded in config.json, applied alike by eval and by the weights' "
                                           "preprocessing (model.pretrained_cfg.prepare); ", metavar="N")

    def __post_init__(self) -> None:
        check_image_size(self.image_size)
