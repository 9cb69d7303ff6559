"""The paper's baselines that are not a training run of their own: fine-tuned classifiers of slices."""

from dnnet.baselines.fine_tuning import fine_tuned_accuracy, fit_linear_classifier, pooled_features

__all__ = ["fine_tuned_accuracy", "fit_linear_classifier", "pooled_features"]
