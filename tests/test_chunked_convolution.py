"""The chunked causal convolution: the masked dense convolution's outputs and gradients, fewer MACs."""

import pytest
import torch

from dnnet.layers import ChannelCausalConv2d
from dnnet.layers.chunked_convolution import chunk_bounds

# (in, out channels per group, groups, kernel, stride): every layer shape of the presets, stage changes included
SHAPES = [(1, 1, 8, 3, 1), (1, 2, 8, 3, 2), (2, 4, 8, 1, 2), (4, 4, 8, 3, 1), (1, 1, 22, 3, 1), (2, 4, 22, 3, 2),
          (4, 4, 22, 3, 1), (2, 2, 4, 3, 1)]


@pytest.mark.parametrize("width, chunks, expected", [(8, 2, [0, 4, 8]), (8, 3, [0, 3, 5, 8]), (22, 4, [0, 6, 11, 16, 22]),
                                                      (3, 8, [0, 1, 2, 3]), (5, 1, [0, 5])])
def test_chunks_split_the_groups_near_equally(width, chunks, expected):
    assert chunk_bounds(width, chunks) == expected


def conv_pair(shape, chunks):
    in_gc, out_gc, groups, kernel, stride = shape
    dense = ChannelCausalConv2d(in_gc, out_gc, groups, kernel_size=kernel, stride=stride)
    chunked = ChannelCausalConv2d(in_gc, out_gc, groups, kernel_size=kernel, stride=stride)
    chunked.load_state_dict(dense.state_dict())
    chunked.chunks = chunks
    return dense, chunked


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("chunks", [2, 3, 4, 64])
def test_outputs_and_gradients_match_the_masked_dense_convolution_at_every_width(shape, chunks):
    """To 1e-5 (float sums in another order); the masked blocks' gradients exactly zero."""
    dense, chunked = conv_pair(shape, chunks)
    groups, in_gc = shape[2], shape[0]
    for width in range(1, groups + 1):
        x = torch.randn(3, width * in_gc, 9, 9)
        x_dense, x_chunked = x.clone().requires_grad_(), x.clone().requires_grad_()
        out_dense, out_chunked = dense(x_dense), chunked(x_chunked)
        torch.testing.assert_close(out_chunked, out_dense, rtol=1e-5, atol=1e-5)
        upstream = torch.randn_like(out_dense)
        out_dense.backward(upstream)
        out_chunked.backward(upstream)
        torch.testing.assert_close(x_chunked.grad, x_dense.grad, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(chunked.weight.grad, dense.weight.grad, rtol=1e-5, atol=1e-5)
        assert torch.all(chunked.weight.grad[dense.mask.expand_as(dense.weight) == 0] == 0)
        dense.weight.grad = chunked.weight.grad = None


def test_a_dense_layer_and_the_stem_ignore_chunks():
    """A dense layer's outputs see every input, the stem's every group sees the whole image: one convolution each."""
    for layer in (ChannelCausalConv2d(2, 2, 4, causal=False), ChannelCausalConv2d(3, 2, 4, shared_input=True)):
        reference = ChannelCausalConv2d(layer.in_group_channels, 2, 4, causal=layer.causal, shared_input=layer.shared_input)
        reference.load_state_dict(layer.state_dict())
        layer.chunks = 3
        x = torch.randn(2, layer.in_group_channels * (1 if layer.shared_input else 4), 6, 6)
        assert torch.equal(layer(x), reference(x))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_chunks_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="chunks must be a positive integer"):
        ChannelCausalConv2d(1, 1, 4).chunks = bad
