"""spectral.models.variants: the logit-scale control of the SBN campaign."""

import pytest
import torch
from torch import nn

from spectral.models import create, norm_variant
from spectral.models.variants import (
    FixedScale,
    classifier_input_norm,
    scale_classifier_input_,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def small_resnet(variant="BN"):
    torch.manual_seed(0)
    return create("resnet18", width=0.125, norm_layer=norm_variant(variant))


def test_fixed_scale_multiplies_and_has_no_parameters():
    scale = FixedScale(0.25)
    x = torch.randn(3, 4)
    torch.testing.assert_close(scale(x), 0.25 * x)
    assert list(scale.parameters()) == [] and float(scale.state_dict()["factor"]) == 0.25
    assert "factor=0.25" in repr(scale)
    assert scale(x.bfloat16()).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="factor must be finite"):
        FixedScale(float("nan"))


def test_classifier_input_norm_matches_a_hand_measured_norm_and_changes_nothing():
    model = small_resnet()
    x = torch.randn(8, 3, 32, 32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.eval()
    norm = classifier_input_norm(model, x)
    assert not model.training  # the copy was put in train mode, not the model
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    seen = []
    model.train()
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    handle = linear.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    with torch.no_grad():
        model(x)
    handle.remove()
    assert norm == pytest.approx(float(seen[0].norm(dim=1).mean()), rel=1e-6)


def test_sbn34_shrinks_the_classifier_input_and_the_scaled_bn_copies_it():
    """Chapter 06: at initialisation SBN34's classifier input is a fraction of BN's."""
    x = torch.randn(16, 3, 32, 32)
    bn, sbn = small_resnet("BN"), small_resnet("SBN34")
    sbn.load_state_dict(bn.state_dict(), strict=False)  # the same convolutions
    ratio = classifier_input_norm(sbn, x) / classifier_input_norm(bn, x)
    assert 0.05 < ratio < 0.6
    logits_before = bn.eval()(x)
    scale_classifier_input_(bn, ratio)
    assert sum(isinstance(m, FixedScale) for m in bn.modules()) == 1
    # the scaled BN network's classifier sees SBN34's input norm, at initialisation
    assert classifier_input_norm(bn, x) == pytest.approx(classifier_input_norm(sbn, x),
                                                         rel=1e-5)
    with torch.no_grad():
        scaled = bn.eval()(x)
    bias = [m for m in bn.modules() if isinstance(m, nn.Linear)][-1].bias
    torch.testing.assert_close(scaled - bias, ratio * (logits_before - bias), rtol=1e-4,
                               atol=1e-5)


def test_a_model_without_a_linear_is_a_clear_error():
    with pytest.raises(ValueError, match="no nn.Linear classifier"):
        scale_classifier_input_(nn.Sequential(nn.Conv2d(1, 1, 1)), 0.5)
