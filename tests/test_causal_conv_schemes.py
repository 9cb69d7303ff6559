"""The causal convolution in row chunks or by recursive halving: the masked dense convolution's outputs and gradients,
fewer MACs, in either memory format."""

import pytest
import torch

from dnnet import create_model
from dnnet.layers import ChannelCausalConv2d
from dnnet.layers.causal_schemes import parse_scheme, set_causal_scheme
from dnnet.layers.chunked_convolution import chunk_bounds

# (in, out channels per group, groups, kernel, stride): every layer shape of the presets, stage changes included
SHAPES = [(1, 1, 8, 3, 1), (1, 2, 8, 3, 2), (2, 4, 8, 1, 2), (4, 4, 8, 3, 1), (1, 1, 22, 3, 1), (2, 4, 22, 3, 2),
          (4, 4, 22, 3, 1), (2, 2, 4, 3, 1),
          # the ImageNet family's, scaled down: a bottleneck's reducing 1x1, its strided 3x3, its expanding 1x1, a
          # strided projection
          (8, 2, 8, 1, 1), (2, 2, 8, 3, 2), (2, 8, 8, 1, 1), (8, 16, 4, 1, 2)]


@pytest.mark.parametrize("width, chunks, expected", [(8, 2, [0, 4, 8]), (8, 3, [0, 3, 5, 8]), (22, 4, [0, 6, 11, 16, 22]),
                                                      (3, 8, [0, 1, 2, 3]), (5, 1, [0, 5])])
def test_chunks_split_the_groups_near_equally(width, chunks, expected):
    assert chunk_bounds(width, chunks) == expected


def conv_pair(shape, scheme, count, memory_format=torch.contiguous_format):
    in_gc, out_gc, groups, kernel, stride = shape
    dense = ChannelCausalConv2d(in_gc, out_gc, groups, kernel_size=kernel, stride=stride).to(memory_format=memory_format)
    chunked = ChannelCausalConv2d(in_gc, out_gc, groups, kernel_size=kernel, stride=stride).to(memory_format=memory_format)
    chunked.load_state_dict(dense.state_dict())
    setattr(chunked, scheme, count)
    return dense, chunked


SCHEMES = [("chunks", 2), ("chunks", 3), ("chunks", 4), ("chunks", 64), ("halvings", 1), ("halvings", 2),
           ("halvings", 3), ("halvings", 9)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("scheme, count", SCHEMES)
@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last], ids=["nchw", "channels_last"])
def test_outputs_and_gradients_match_the_masked_dense_convolution_at_every_width(shape, scheme, count, memory_format):
    """To rtol 1e-5, atol 1e-4 (float sums in another order: a weight's gradient sums 3 x 81 x input-channel products);
    the masked blocks' gradients exactly zero."""
    torch.manual_seed(0)
    dense, chunked = conv_pair(shape, scheme, count, memory_format)
    groups, in_gc = shape[2], shape[0]
    for width in range(1, groups + 1):
        x = torch.randn(3, width * in_gc, 9, 9).contiguous(memory_format=memory_format)
        x_dense, x_chunked = x.clone().requires_grad_(), x.clone().requires_grad_()
        out_dense, out_chunked = dense(x_dense), chunked(x_chunked)
        torch.testing.assert_close(out_chunked, out_dense, rtol=1e-5, atol=1e-4)
        upstream = torch.randn_like(out_dense)
        out_dense.backward(upstream)
        out_chunked.backward(upstream)
        torch.testing.assert_close(x_chunked.grad, x_dense.grad, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(chunked.weight.grad, dense.weight.grad, rtol=1e-5, atol=1e-4)
        assert torch.all(chunked.weight.grad[dense.mask.expand_as(dense.weight) == 0] == 0)
        dense.weight.grad = chunked.weight.grad = None


@pytest.mark.parametrize("scheme, count", [("chunks", 3), ("halvings", 2)])
def test_a_dense_layer_and_the_stem_ignore_the_scheme(scheme, count):
    """A dense layer's outputs see every input, the stem's every group sees the whole image: one convolution each."""
    for layer in (ChannelCausalConv2d(2, 2, 4, causal=False), ChannelCausalConv2d(3, 2, 4, shared_input=True)):
        reference = ChannelCausalConv2d(layer.in_group_channels, 2, 4, causal=layer.causal, shared_input=layer.shared_input)
        reference.load_state_dict(layer.state_dict())
        setattr(layer, scheme, count)
        x = torch.randn(2, layer.in_group_channels * (1 if layer.shared_input else 4), 6, 6)
        assert torch.equal(layer(x), reference(x))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_chunks_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="chunks must be a positive integer"):
        ChannelCausalConv2d(1, 1, 4).chunks = bad


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_halvings_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="halvings must be a non-negative integer"):
        ChannelCausalConv2d(1, 1, 4).halvings = bad


def test_a_convolution_runs_in_chunks_or_by_halving_not_both():
    layer = ChannelCausalConv2d(1, 1, 4)
    layer.chunks = 2
    with pytest.raises(ValueError, match="not both: set chunks to 1 first"):
        layer.halvings = 1
    layer.chunks = 1
    layer.halvings = 1
    with pytest.raises(ValueError, match="not both: set halvings to 0 first"):
        layer.chunks = 2
    assert (layer.chunks, layer.halvings) == (1, 1)


@pytest.mark.parametrize("levels, convolutions, mac_fraction", [(1, 2, 0.75), (2, 5, 0.625), (3, 11, 0.5625)])
def test_halving_runs_the_stated_convolutions_and_macs(monkeypatch, levels, convolutions, mac_fraction):
    """16 groups of 2 channels, 3x3: L halvings run their 2^(L+1) - 2^(L-1) - 1 convolutions, (1/2 + 1/2^(L+1)) of the MACs."""
    import torch.nn.functional as F

    from dnnet.layers import halved_convolution

    executed = []
    real_conv2d = F.conv2d

    def counting_conv2d(x, weight, **kwargs):
        out = real_conv2d(x, weight, **kwargs)
        executed.append(out.shape[1] * weight.shape[1] * weight.shape[2] * weight.shape[3] * out.shape[2] * out.shape[3])
        return out

    monkeypatch.setattr(halved_convolution.F, "conv2d", counting_conv2d)
    layer = ChannelCausalConv2d(2, 2, 16)
    layer.halvings = levels
    layer(torch.randn(1, 32, 5, 5))
    assert len(executed) == convolutions
    assert sum(executed) == mac_fraction * 32 * 32 * 9 * 25


@pytest.mark.parametrize("scheme, expected", [("dense", (1, 0)), ("chunks:1", (1, 0)), ("chunks:3", (3, 0)),
                                              ("halvings:0", (1, 0)), ("halvings:2", (1, 2))])
def test_a_scheme_sets_every_causal_convolution_of_a_model(scheme, expected):
    model = create_model("dnnet_resnet8_g4")
    set_causal_scheme(model, "halvings:1")  # a scheme set earlier is replaced, whichever it was
    set_causal_scheme(model, scheme)
    layers = [layer for layer in model.modules() if isinstance(layer, ChannelCausalConv2d)]
    assert len(layers) == 7
    assert {(layer.chunks, layer.halvings) for layer in layers} == {expected}


@pytest.mark.parametrize("bad", ["", "Dense", "chunks", "chunks:0", "chunks:-1", "halvings:x", "rows:2", "dense:1"])
def test_an_unknown_scheme_is_refused_with_the_ones_there_are(bad):
    with pytest.raises(ValueError, match="'dense', 'chunks:K' \\(K >= 1\\) or 'halvings:L'"):
        parse_scheme(bad)


def test_a_run_executes_the_scheme_it_names(digits):
    """`dnnet train --causal-scheme`: the setting reaches every causal convolution; a misspelt one is refused at once."""
    from dnnet.errors import UserError
    from dnnet.train import TrainConfig
    from dnnet.train.setup import setup_model

    model = setup_model(TrainConfig.from_flat(preset="dnnet_resnet8_g4", causal_scheme="halvings:2"), digits,
                        torch.device("cpu"))
    assert {layer.halvings for layer in model.modules() if isinstance(layer, ChannelCausalConv2d)} == {2}
    assert TrainConfig.from_flat().execution.causal_scheme == "dense"
    with pytest.raises(UserError, match="'dense', 'chunks:K'"):
        TrainConfig.from_flat(causal_scheme="rows:2")
