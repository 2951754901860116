"""Photometric jitter of stage 1's faces (not in the paper; DESIGN §4's
augmentation is geometric only): config.augment.stage1_gain and
config.augment.stage1_shift, 0 (off) in every config (configs/default.py).

Each face's channels are scaled by exp(U(-gain, gain)) (one draw per channel;
a grey face, whose three channels are equal, gets one draw for all three and
stays grey) and shifted by U(-shift, shift) grey levels, then clipped to
[0, 255]. `x_t` and `x_tg` (the same person, the same photo session in real
data) share one draw, so `Get` sees the colours that `Gde` must redraw and the
pixel term stays a fair target; `x_s` gets its own draw, so `Ges` learns an
expression code that ignores the source's colours and lighting. Each epoch
shows `Get` and `Gde` new skin, hair and lighting colours: stage 1 otherwise
sees only its training people's own (EXPERIMENTS.md, session 50: G draws a
seen person's expressions ~10 points more fully than an unseen person's).

Runs on the device inside stage 1's update programs
(relgan_jax/stage1/gan_steps.py), from the step's own key: a resumed run
draws the same numbers.
"""

from typing import Mapping

import jax
import jax.numpy as jnp


def ranges(config) -> tuple[float, float]:
  """(gain, shift) from config.augment.stage1_gain and stage1_shift: what
  stage 1's update programs are built with (gan_steps.make_steps, and the
  loop's cache key in train._stage1_programs)."""
  return (float(config.augment.stage1_gain),
          float(config.augment.stage1_shift))


def draw(gain_key: jax.Array, shift_key: jax.Array, num_faces: int, *,
         gain: float, shift: float) -> tuple[jax.Array, jax.Array]:
  """(gains [N, 1, 1, 3] = exp(U(-gain, gain)), shifts [N, 1, 1, 1] =
  U(-shift, shift)) for `num_faces` faces."""
  gains = jnp.exp(jax.random.uniform(gain_key, (num_faces, 1, 1, 3),
                                     minval=-gain, maxval=gain))
  shifts = jax.random.uniform(shift_key, (num_faces, 1, 1, 1),
                              minval=-shift, maxval=shift)
  return gains, shifts


def apply(images: jax.Array, gains: jax.Array, shifts: jax.Array) -> jax.Array:
  """float32 clip(images * gains + shifts, 0, 255) of uint8 or float
  [N, S, S, 3] faces in grey levels; a face whose channels are all equal
  (grey) is scaled by its first channel's gain in all three."""
  x = jnp.asarray(images, jnp.float32)
  grey = jnp.all(x == x[..., :1], axis=(1, 2, 3), keepdims=True)
  gains = jnp.where(grey, gains[..., :1], gains)
  return jnp.clip(x * gains + shifts, 0.0, 255.0)


def jitter_triplets(key: jax.Array, batch: Mapping[str, jax.Array], *,
                    gain: float, shift: float) -> dict[str, jax.Array]:
  """`batch` with x_s, x_t and x_tg jittered: one draw per face shared by
  x_t and x_tg, another for x_s (see the module doc)."""
  person_gain, person_shift, source_gain, source_shift = jax.random.split(
      key, 4)
  n = batch['x_s'].shape[0]
  person = draw(person_gain, person_shift, n, gain=gain, shift=shift)
  source = draw(source_gain, source_shift, n, gain=gain, shift=shift)
  return {**batch, 'x_s': apply(batch['x_s'], *source),
          'x_t': apply(batch['x_t'], *person),
          'x_tg': apply(batch['x_tg'], *person)}
