"""Augmentation: shapes, background fill, randomness under a seed, gradients, and agreement with kornia's
two-pass pipeline that it fuses."""

from __future__ import annotations

import kornia.augmentation as K
import torch

from clipart.augment import Augment


def _smooth(batch: int = 2) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 224), torch.linspace(0, 1, 224), indexing="ij")
    return torch.stack([xx, yy, xx * yy]).unsqueeze(0).repeat(batch, 1, 1, 1)


def test_views_shape_seed_and_background() -> None:
    aug = Augment(4, 64, background=(1.0, 0.5, 0.0))
    bg = torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1).expand(2, 3, 224, 224)
    views = aug(bg)
    assert views.shape == (8, 3, 64, 64)
    assert torch.allclose(
        views, bg[:1, :, :64, :64].expand(8, 3, 64, 64), atol=1e-5
    )  # uncovered = background
    torch.manual_seed(3)
    a = aug(_smooth())
    torch.manual_seed(3)
    b = aug(_smooth())
    assert torch.equal(a, b) and not torch.allclose(a[0], a[1])


def test_gradients_reach_the_render() -> None:
    x = _smooth(1).requires_grad_(True)
    Augment(3, 32)(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_matches_kornias_perspective_then_crop() -> None:
    two_pass = K.AugmentationSequential(
        K.RandomPerspective(distortion_scale=0.5, p=1.0), K.RandomResizedCrop((64, 64), scale=(0.7, 0.9))
    )
    x = _smooth()
    torch.manual_seed(1)
    reference = two_pass(x.repeat_interleave(4, dim=0) - 1.0) + 1.0
    torch.manual_seed(1)
    fused = Augment(4, 64)(x)
    assert (reference - fused).abs().mean() < 0.005


def test_one_grid_sample_per_render_equals_warping_each_copy() -> None:
    from kornia.geometry.transform import warp_perspective

    x = _smooth(3) - 1.0
    aug = Augment(4, 48, background=(0.0, 0.0, 0.0))
    torch.manual_seed(5)
    matrices = aug.homographies(x.shape, x)
    torch.manual_seed(5)
    fused = aug(x)
    copies = warp_perspective(x.repeat_interleave(4, dim=0), matrices, (48, 48), align_corners=True)
    assert fused.shape == copies.shape == (12, 3, 48, 48)
    assert (fused - copies).abs().max() < 1e-4


def test_color_jitter_varies_views_keeps_hue_and_gradients() -> None:
    x = _smooth(1).requires_grad_(True)
    torch.manual_seed(5)
    plain = Augment(6, 32)(x)
    torch.manual_seed(5)
    jittered = Augment(6, 32, color_jitter=0.5)(x)
    torch.manual_seed(5)
    again = Augment(6, 32, color_jitter=0.5)(x)
    assert torch.equal(jittered, again)  # seeded like the geometry
    change = (jittered - plain).abs().flatten(1).mean(dim=1)
    assert (change > 1e-3).all() and change.std() > 1e-4  # every view changes, each by its own factors
    red = torch.zeros(1, 3, 64, 64)  # the jitter keeps hue: a pure red render stays red in every view
    red[:, 0] = 0.8
    views = Augment(6, 32, perspective=0.0, background=(0.8, 0.0, 0.0), color_jitter=0.5)(red)
    assert torch.allclose(views[:, 1], views[:, 2], atol=1e-4) and (views[:, 0] > views[:, 1] + 0.1).all()
    jittered.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_given_homographies_fix_the_views() -> None:
    aug = Augment(3, 64)
    torch.manual_seed(5)
    drawn = aug(_smooth(1))
    torch.manual_seed(5)
    fixed = aug.homographies((1, 3, 224, 224), torch.zeros(()))
    assert torch.equal(aug(_smooth(1), fixed), drawn)
    two = aug(_smooth(2), fixed.repeat(2, 1, 1))  # every render through the same three views
    assert torch.equal(two[:3], drawn) and torch.equal(two[3:], drawn)


def test_transparent_renders_go_over_a_random_colour_per_view() -> None:
    aug = Augment(4, 32, background=None)
    nothing = torch.zeros(2, 4, 64, 64)
    torch.manual_seed(7)
    views = aug(nothing)
    assert views.shape == (8, 3, 32, 32)
    flat = views.flatten(2)
    colours = flat[:, :, 0]
    assert torch.allclose(flat, colours[:, :, None].expand_as(flat), atol=1e-6)  # each view one flat colour
    assert len({tuple(c) for c in colours.tolist()}) == 8  # each view its own
    torch.manual_seed(7)
    assert torch.equal(aug(nothing), views)  # seeded like the geometry
    red = torch.zeros(1, 4, 64, 64)  # an opaque red render stays red where it covers the view (the centre)
    red[:, 0] = red[:, 3] = 1.0
    red.requires_grad_(True)
    views = aug(red)
    assert torch.allclose(views[:, :, 16, 16], torch.tensor([1.0, 0.0, 0.0]).expand(4, 3), atol=1e-5)
    views.sum().backward()
    assert red.grad is not None and red.grad[:, 3].abs().sum() > 0


def test_rgb_renders_of_a_transparent_scene_are_padded_with_white() -> None:
    black = torch.zeros(1, 3, 64, 64)
    torch.manual_seed(2)
    views = Augment(4, 32, background=None)(black)
    torch.manual_seed(2)
    assert torch.equal(views, Augment(4, 32)(black))
    assert views.max() == 1.0  # a warp uncovers white


def test_view_samples_keep_a_stroke_thinner_than_a_view_pixel() -> None:
    # A 1-px dark column in a white 256-px render, viewed whole at 32 px: a view pixel spans 8 render pixels.
    x = torch.ones(1, 3, 256, 256)
    x[..., 100] = 0.0
    whole = torch.diag(torch.tensor([31 / 255, 31 / 255, 1.0])).unsqueeze(0)
    one = 1.0 - Augment(1, 32, samples=1)(x, whole)
    eight = 1.0 - Augment(1, 32, samples=8)(x, whole)
    assert eight.shape == one.shape == (1, 3, 32, 32)
    assert one.max() == 0  # one point a pixel: the column falls between two view columns' points
    # eight points a side: the column reaches the view with about its share of the render's ink (1/256)
    assert abs(float(eight.mean()) - 1 / 256) < 0.3 / 256
    assert float(eight.amax(dim=(0, 1, 2)).count_nonzero()) <= 2  # in one place, at most two view columns
    y = x.clone().requires_grad_(True)
    Augment(1, 32, samples=8)(y, whole).sum().backward()
    assert y.grad is not None and y.grad[..., 100].abs().sum() > 0  # and its gradient reaches the column
