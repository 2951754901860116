r"""The built-in synthetic face set: the whole method on a laptop CPU.

Generates the evaluation set and a disjoint pre-training population on first
use (data_prep.synthetic), pre-trains stage 1 once on the pre-training
population, then for both folds exports the frozen Ges, trains the stage-2
MLP and the CNN baseline, and writes the report:

  python -m relgan_jax.main --config=configs/synthetic.py --workdir=runs/synthetic

Sized to finish in about 15 minutes on a 2-core CPU (measured numbers in
README.md). What differs from the paper's settings, and why:
- Stage 1 is trained once, on 128 other synthetic people (nobody of the
  evaluation set), and used frozen by both folds: the paper's own protocol
  (pre-train on BU-4DFE, evaluate on the others), and half the stage-1 cost
  of training it per fold. Like in the paper, REL-GAN's stage 1 thereby sees
  more labelled people than the baseline, which sees only the fold's. 128
  people stand in for BU-4DFE's 101; until session 41 the demo pre-trained
  on 64, and at the same 1,500 iterations 128 read f(e) 2.4 / 2.6 points
  higher on two seeds, kept the target's person in 12-16 points more
  reenactments and drew as much of the expression or a little more
  (strength +1.1 / +4.1 points; EXPERIMENTS.md).
- The networks and stage 1 follow configs/small.py's recipe (its docstring
  says why for each field): 64x64 faces, width 0.25 (Gde 0.5, D 0.5 with
  GroupNorm), batch 16, G at lr 1e-3 and D at 3e-4, Adam's b2 = 0.99, the
  D-judged terms warmed up over 30 %, the change-weighted pixel term, no G
  boost, and G's moving average for everything after stage 1.
- 1,800 stage-1 iterations (the recipe's 1,500 were the demo's until
  session 51; ~8 epochs of the pre-training set): what the 15 minutes hold
  on 2 cores with room for the slowest hour measured (the 1,500-iteration
  demo took up to 783 s with the install; 300 iterations cost 65-90 s).
  G's drawing is what the demo's budget limits: at seed 0 1,800 drew 49.2 %
  of the expression change against 46.4 %, kept the target's person in
  87.5 % of reenactments against 82.9 %, read 89.4 % of them as the
  source's expression against 87.7 % (session 50); without the reader's
  saliency below the grid's rows all differ from ~3,000 (README, "What the
  grid needs").
- Not in the recipe: the frozen expression reader's perceptual term
  (with_reader below: the reader trained for 10 epochs of the pre-training
  set, its term warmed up with the D-judged terms), as both long configs run
  it. At λ6 = 300, on two seeds (session 45, the AMD box) it took
  expression strength from 37.3 / 37.3 to 42.8 / 41.7 %, identity kept from
  73.6 / 72.3 to 79.4 / 78.3 %, expression transfer from 77.4 / 75.9 to
  88.4 / 79.7 % (happy's row from 59 / 52 to 88 / 71), f(e) 95.0 / 97.6 ->
  96.0 / 96.3 %, for ~100 s more (the reader's training ~80 s). Until
  session 45 the demo left it off: in session 40 the same ~100-130 s did not
  fit the slower box's 15 minutes (EXPERIMENTS.md).
- The reader reads x_bar inside x_tg's 4-px frame (loss.reader_border) at
  λ6 = 1000 (session 46). At 1000 reading all of x_bar, G saturated 20 % of
  the bottom-left corner's values (the reader's blob, configs/default.py);
  in the frame, on two seeds: strength 42.8 / 41.7 -> 46.4 / 46.3 %
  (neutral's, sadness's and happy's rows +6-7 points each), identity kept
  79.4 / 78.3 -> 82.9 / 79.5 %, transfer 88.4 / 79.7 -> 87.7 / 83.1 %, f(e)
  96.0 / 96.3 -> 96.7 / 97.1 %, at the same cost; the corner clean at seed
  0, 5 % of its values saturated at seed 1 (1 % before).
- Half of the change-weighted pixel term's map is shaped by the reader's
  saliency inside the reader's frame (loss.pixel_change_saliency = 0.5,
  session 53): |x_tg − x_t| puts ~4/5 of a sadness pair's weight on the
  edges that a pixel of residual misalignment moves, which nothing G sees
  predicts; the reader knows where the expression is. On two seeds
  (seed 0 / seed 1): strength +1.8 / +2.4, the linear probe finds the
  person in 2.8 / 3.5 points fewer images, transfer +0.8 / −1.2, REL-GAN
  −0.8 / −0.1, identity kept −6.8 / +1.8 points, the corners clean; seed
  0's grid draws all seven rows in every column (before: sadness faintly in
  three of five, happy's smile in two), seed 1's as before. Outside the
  frame the map stays the pair's: at σ = 1, or at ½ over the whole image,
  a corner left without weight grew a saturated blob. It costs no reader
  pass of its own: the reader term's pass over x_tg and its pull-back give
  it (session 54; as a pass of its own, +6-15 % per iteration).
- The two highest of the synthetic set's three expression intensities (plus
  the neutral faces), like the paper's BU-3DFE protocol.
- The paper's λ2 = 20 with the pixel term in 8-bit grey levels
  (loss.pixel_scale = 127.5, as in configs/default.py): with the mean over
  [-1, 1] values the pixel gradient was 1/14 (λ2 = 100) to 1/70 (λ2 = 20) of
  the D-judged terms' and G never learned to reconstruct (EXPERIMENTS.md).
- Like every config, stage 1 adds an expression-contrast term on f(e)
  (loss.lambda_fe_contrast, configs/default.py; not in the paper): in the
  demo's budget the reenactment alone left f(e) at ~48 % (the baseline
  74 %); with the term Ges no longer learns only through De, and the time
  half-width D saves pays for the term's extra Ges pass (EXPERIMENTS.md).
- Every stage crops at the centre only (config.augment.five_crops = False;
  rotations and flips kept): the recipe crops stage 1 at the centre, this
  config the MLP's augmented views and the CNN baseline's training crops
  too. The faces are eye-aligned and every evaluation uses the centre crop.
  Measured on the demo (EXPERIMENTS.md, session 25): stage 2 at the centre
  crop took the baseline from 73.3 to 82.2 % and REL-GAN from 85.8 to
  87.6 %, transfer (read by the stronger baseline) to 64.2 %. The paper's
  configs keep the five places (augment.five_crops,
  augment.stage1_five_crops).
- The baseline is trained for 40 epochs at lr 1e-3 so that it is not
  under-trained.
"""

from configs import default
from configs import small


def get_config():
  config = default.get_config()
  config.data.name = 'synthetic'
  config.data.dir = 'data/synthetic'
  config.data.generate_if_missing = True
  config.data.synthetic_identities = 64
  config.data.synthetic_pretrain_identities = 128
  config.data.min_intensity = 2
  config.augment.five_crops = False
  small.apply(config)
  with_reader(config)
  config.train.num_steps = 1800
  config.stage2.mlp_epochs = 50
  config.stage2.baseline_epochs = 40
  config.stage2.baseline_lr = 1e-3
  config.protocol.num_folds = 2
  config.protocol.freeze_pretrained = True
  return config


def with_reader(config):
  """The expression reader's term as the demo runs it: λ6 = 1000, R reading
  x_bar inside x_tg's frame (the default loss.reader_border,
  configs/default.py), the reader trained for 10 epochs (half the default:
  at the demo's 128 pre-training people the 1,120 steps it had at 64, its
  batch accuracy 97-100 %; session 42), and half of the pixel term's change
  map shaped by R's saliency inside R's frame (session 53). Both long
  configs keep the λ6 = 300 without the frame and the map without R they
  were measured with."""
  config.loss.lambda_reader = 1000.0
  config.reader.epochs = 10
  config.loss.pixel_change_saliency = 0.5
  return config
