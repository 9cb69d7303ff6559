"""The channel-causal convolution: a block lower-triangular mask, so that a width slice equals the first channels."""

import pytest
import torch

from dnnet.layers import ChannelCausalConv2d, causal_mask


def test_mask_is_block_lower_triangular():
    mask = causal_mask(in_group_channels=1, out_group_channels=2, groups=3)[:, :, 0, 0]
    expected = torch.tensor([[1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]], dtype=torch.float32)
    assert torch.equal(mask, expected)


def test_shared_input_mask_lets_every_group_see_every_input_channel():
    assert torch.equal(causal_mask(3, 2, 4, shared_input=True), torch.ones(8, 3, 1, 1))


def test_non_causal_mask_is_dense():
    assert torch.equal(causal_mask(2, 2, 3, causal=False), torch.ones(6, 6, 1, 1))


@pytest.mark.parametrize("in_gc,out_gc,groups,stride", [(1, 1, 5, 1), (1, 2, 4, 2), (2, 4, 3, 2), (3, 1, 4, 1)])
@pytest.mark.parametrize("k", [1, 2])
def test_output_group_ignores_later_input_groups(in_gc, out_gc, groups, stride, k):
    conv = ChannelCausalConv2d(in_gc, out_gc, groups, stride=stride)
    x = torch.randn(2, in_gc * groups, 8, 8)
    changed = x.clone()
    changed[:, k * in_gc :] = torch.randn_like(changed[:, k * in_gc :])
    y, y_changed = conv(x), conv(changed)
    assert torch.equal(y[:, : k * out_gc], y_changed[:, : k * out_gc])
    assert not torch.allclose(y[:, k * out_gc :], y_changed[:, k * out_gc :])


@pytest.mark.parametrize("width", [1, 2, 4])
def test_width_slice_equals_first_channels_of_full_output(width):
    conv = ChannelCausalConv2d(1, 2, 4, stride=2)
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(conv(x[:, :width]), conv(x)[:, : 2 * width], rtol=0, atol=1e-6)
    torch.testing.assert_close(conv(x, width), conv(x)[:, : 2 * width], rtol=0, atol=1e-6)


def test_masked_weights_get_no_gradient():
    conv = ChannelCausalConv2d(2, 2, 3)
    conv(torch.randn(2, 6, 5, 5)).square().sum().backward()
    assert torch.count_nonzero(conv.weight.grad * (1 - conv.mask)) == 0
    assert torch.count_nonzero(conv.weight.grad * conv.mask) == conv.mask.sum() * 9


@pytest.mark.parametrize("channels", [3, 5, 10])
def test_bad_input_channels_raise(channels):
    conv = ChannelCausalConv2d(2, 2, 4)
    with pytest.raises(ValueError, match=f"multiple of 2 input channels, at most 8, got {channels}"):
        conv(torch.randn(1, channels, 4, 4))


def test_stem_rejects_wrong_image_channels():
    stem = ChannelCausalConv2d(3, 1, 4, shared_input=True)
    with pytest.raises(ValueError, match="expected 3 input channels, got 1"):
        stem(torch.randn(1, 1, 8, 8))


def test_width_beyond_input_raises():
    conv = ChannelCausalConv2d(1, 1, 4)
    with pytest.raises(ValueError, match=r"width must be in 1\.\.2"):
        conv(torch.randn(1, 2, 4, 4), width=3)
