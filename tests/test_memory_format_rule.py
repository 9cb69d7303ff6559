"""The memory format a run trains in: the measured rule when unset, the setting when set."""

import pytest
import torch

from dnnet.runs.train_config import TrainConfig, channels_last_is_faster


@pytest.fixture
def threads():
    """Sets torch's thread count for one test and restores it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.mark.parametrize("device, thread_count, expected", [("cpu", 1, True), ("cpu", 2, False), ("cuda", 1, True),
                                                            ("cuda", 2, True), ("mps", 1, False)])
def test_channels_last_where_it_measured_faster(threads, device, thread_count, expected):
    threads(thread_count)
    assert channels_last_is_faster(torch.device(device)) is expected
    assert TrainConfig.from_flat().uses_channels_last(torch.device(device)) is expected


@pytest.mark.parametrize("setting", [True, False])
@pytest.mark.parametrize("device, thread_count", [("cpu", 1), ("cpu", 2), ("cuda", 1)])
def test_a_set_memory_format_holds_everywhere(threads, setting, device, thread_count):
    threads(thread_count)
    assert TrainConfig.from_flat(channels_last=setting).uses_channels_last(torch.device(device)) is setting


@pytest.mark.parametrize("setting, recorded, expected", [(None, True, True), (None, False, False), (None, None, None),
                                                         (False, True, False), (True, False, True)])
def test_a_resumed_run_keeps_the_format_it_began_in(tmp_path, setting, recorded, expected):
    """The rule reads the thread count, which a resume may change; a format set by hand holds as set."""
    import json

    from dnnet.train.run import in_the_format_it_began

    record = {} if recorded is None else {"channels_last_resolved": recorded}
    (tmp_path / "config.json").write_text(json.dumps(record))
    config = in_the_format_it_began(TrainConfig.from_flat(channels_last=setting), tmp_path)
    assert config.execution.channels_last is expected
