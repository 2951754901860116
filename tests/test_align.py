"""Tests for relgan_jax.data.align: transform maths, pixel conventions, real faces."""

import os
import sys

import numpy as np
from PIL import Image
import pytest

import fake_layouts
from relgan_jax.data import align


def test_similarity_transform_maps_eyes_onto_template():
  src = [(100.0, 50.0), (140.0, 80.0)]  # 50 px apart, tilted.
  dst = align.template_eyes(112)
  m = align.similarity_transform(src, dst)
  np.testing.assert_allclose(align.apply_transform(m, src), dst, atol=1e-9)
  # A similarity: equal scale on both axes, no shear.
  a, b = m[0, 0], m[1, 0]
  np.testing.assert_allclose(m[:, :2], [[a, -b], [b, a]])
  np.testing.assert_allclose(np.hypot(a, b), 0.30 * 112 / 50)


def test_template_eyes_pixel_centres():
  # 0.35 * 112 = 39.2 along the crop, which spans [-0.5, 111.5] in pixel-centre
  # coordinates.
  (lx, ly), (rx, ry) = align.template_eyes(112, (0.35, 0.38))
  assert (lx, ly) == pytest.approx((38.7, 42.06))
  assert (rx, ry) == pytest.approx((72.3, 42.06))
  with pytest.raises(ValueError, match='eye template'):
    align.template_eyes(112, (0.6, 0.4))
  with pytest.raises(ValueError, match='coincide'):
    align.similarity_transform([(1, 1), (1, 1)], [(0, 0), (1, 0)])


def test_warp_puts_a_pixel_where_the_transform_says():
  image = np.zeros((40, 60, 3), np.uint8)
  image[10, 20] = 255  # (x, y) = (20, 10).
  m = align.similarity_transform([(20, 10), (30, 10)], [(8, 5), (28, 5)])
  out = align.warp(image, m, 32).astype(np.float64)[..., 0]
  ys, xs = np.nonzero(out > 0)
  w = out[ys, xs]
  # Bicubic spreads the dot symmetrically: its centroid is the mapped point.
  assert (xs @ w / w.sum(), ys @ w / w.sum()) == pytest.approx((8, 5), abs=0.05)


def test_resize_only_transform_matches_the_resize():
  image = np.zeros((48, 64, 3), np.uint8)
  image[30, 40] = 255  # Centre crop keeps columns 8..55.
  crop, m = align.resize_only(image, 96)
  assert crop.shape == (96, 96, 3)
  expected = align.apply_transform(m, [(40, 30)])[0]
  assert expected == pytest.approx((2 * (40 - 8) + 0.5, 2 * 30 + 0.5))
  same, m1 = align.resize_only(np.zeros((32, 32, 3), np.uint8), 32)
  np.testing.assert_allclose(m1, [[1, 0, 0], [0, 1, 0]], atol=1e-12)


def test_landmark_model_found_without_importing_the_package():
  for points in (68, 5):
    path = align.landmark_model_path(points)
    assert os.path.isfile(path) and path.endswith('.dat')
  # Its __init__ needs pkg_resources, which new setuptools lacks.
  assert 'face_recognition_models' not in sys.modules
  with pytest.raises(ValueError, match='68 or 5'):
    align.landmark_model_path(7)


def _eyes_in_crop(detector, crop):
  """Re-detects the eyes on an aligned crop, in the crop's pixel coordinates.

  The HOG detector's smallest face is ~80 px, so the crop is upscaled 2x.
  """
  big = np.asarray(Image.fromarray(crop).resize((224, 224), Image.BICUBIC))
  det = detector.eyes(big)
  assert det is not None, 'no face found again in the aligned crop'
  to_crop = lambda p: ((p[0] + 0.5) / 2 - 0.5, (p[1] + 0.5) / 2 - 0.5)
  return to_crop(det.left_eye), to_crop(det.right_eye)


@pytest.mark.parametrize('points', [68, 5])
def test_real_faces_align_eyes_onto_the_template(points, tmp_path):
  pytest.importorskip('dlib')
  skdata = pytest.importorskip('skimage.data')
  detector = align.make_detector(landmarks=points)
  # Downscaled copies keep detection fast.
  photos = {'grace_hopper': fake_layouts.grace_hopper(),
            'astronaut': skdata.astronaut()}
  template = np.asarray(align.template_eyes(112))
  crops = []
  for name, photo in photos.items():
    photo = np.asarray(Image.fromarray(photo).resize(
        (photo.shape[1] * 3 // 4, photo.shape[0] * 3 // 4), Image.BILINEAR))
    det = detector.eyes(photo)
    assert det is not None, name
    crop, m = align.align(photo, det, 112)
    assert crop.shape == (112, 112, 3) and crop.dtype == np.uint8
    np.testing.assert_allclose(
        align.apply_transform(m, [det.left_eye, det.right_eye]), template,
        atol=1e-6)
    found = np.asarray(_eyes_in_crop(detector, crop))
    error = np.abs(found - template).max()
    assert error < 3.0, (name, found, template)
    crops.append(crop)
  sheet = np.concatenate(crops, axis=1)
  Image.fromarray(sheet).save(tmp_path / 'aligned.png')


def test_no_face_in_a_blank_image():
  pytest.importorskip('dlib')
  detector = align.make_detector(landmarks=5)
  assert detector.eyes(np.full((120, 160, 3), 128, np.uint8)) is None
  with pytest.raises(ValueError, match='unknown alignment backend'):
    align.make_detector('mtcnn')
