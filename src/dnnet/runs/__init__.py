"""Reading a run directory: its record (config.json), trained network, data, metrics and accuracy grids.

`dnnet.train` writes runs; every other package reads them through this one, which stands below it, so that reading a
run never imports the training machinery (processes, compiled steps, TensorBoard).
"""

from dnnet.runs.run_data import check_runs_share_data, check_same_data, load_run_data
from dnnet.runs.run_files import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    FINISHED_FILE,
    METRICS_CSV_FILE,
    METRICS_FILE,
    is_finished,
    load_checkpoint,
    read_metrics,
)
from dnnet.runs.run_record import RunData, RunOutline, RunRecord, TeacherRecord
from dnnet.runs.train_config import TrainConfig
from dnnet.runs.trained_run import TrainedRun
from dnnet.runs.trained_weights import TrainedWeights, open_trained

__all__ = ["CHECKPOINT_FILE", "CONFIG_FILE", "FINISHED_FILE", "METRICS_CSV_FILE", "METRICS_FILE", "RunData",
           "RunOutline", "RunRecord", "TeacherRecord", "TrainConfig", "TrainedRun", "TrainedWeights", "check_runs_share_data",
           "check_same_data", "is_finished", "load_checkpoint", "load_run_data", "open_trained", "read_metrics"]
