r"""Base configuration: the paper's settings (DESIGN.md §2-§5), except where a
field's comment says why not (loss.pixel_scale, loss.d_terms_warmup,
loss.lambda_fe_contrast, stage2.baseline_lr).

Dataset configs import this module and change what differs. Every field here can
be overridden on the command line, e.g.

  python -m relgan_jax.main --config=configs/bu3dfe.py --workdir=runs/bu3dfe \
      --config.train.batch_size=32

The config is locked: a misspelt field fails instead of being silently added.
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  """Returns the paper's default configuration."""
  config = ml_collections.ConfigDict()
  config.seed = 0

  # --- Prepared data (DESIGN.md §8) ------------------------------------------
  config.data = ml_collections.ConfigDict()
  config.data.name = 'synthetic'  # Dataset name; chooses the data_prep hint.
  config.data.dir = ''  # Folder with manifest.json + TFRecord shards.
  # If the prepared data is missing, generate it (synthetic set only).
  config.data.generate_if_missing = False
  config.data.synthetic_identities = 64  # Only for name == 'synthetic'.
  # Synthetic only: also generate this many other people (disjoint from the
  # evaluation set) in <data dir>_pretrain as the stage-1 pre-training set,
  # the way the paper pre-trains on BU-4DFE (protocol.pretrain_data_dir).
  config.data.synthetic_pretrain_identities = 0
  # Synthetic only: the seed of the generated people and images. `seed` below
  # seeds training alone, so a run at another seed trains on the same faces.
  # A generated set is used only if it is the one these fields (and the
  # stored side, model.image_size * augment.margin_ratio) ask for.
  config.data.synthetic_seed = 0
  # Protocol record selection by expression intensity (records that carry one,
  # e.g. the synthetic set's 1..3): keep expressive records with intensity >=
  # min_intensity, like BU-3DFE's "two highest intensities"; intensity-0
  # records (neutral faces) are always kept. 0 = keep everything.
  config.data.min_intensity = 0
  config.data.num_workers = 0  # grain mp_prefetch workers (0 = in-process).
  config.data.prefetch_buffer_size = 2  # Batches buffered (per worker).
  # Threads decoding/augmenting batches in each process (grain ReadOptions).
  config.data.read_threads = 2
  # Keep every decoded face in memory once read when the whole set fits in
  # this many MiB (uint8, stored size): the synthetic sets, CK+, Oulu-CASIA,
  # BU-3DFE and SFEW take 25-100 MiB at 112x112; BU-4DFE's 60,600 frames
  # (~2.2 GiB) keep streaming from the shards. 0 = always stream.
  config.data.keep_decoded_mib = 1024
  # Stage 1, the CNN baseline and the MLP's augmented views also keep each
  # augmented crop they have drawn (unflipped, per face, crop place and
  # rotation; augment.KeptCrops) when all they could draw fit in this many
  # MiB: later draws are copies, not affine resamplings on the cores the
  # step runs on (on 2 CPU cores the demo's stage-1 loop then runs at the
  # speed of its step alone). The synthetic sets at 64x64 with the centre
  # crop need ~150 MiB; with the five crop places at 96x96 CK+ would need
  # ~1 GiB and computes its crops each time. The same crops either way.
  # The budget holds per process and per grain worker (data.num_workers:
  # each keeps its own). 0 = never keep.
  config.data.keep_crops_mib = 512

  # --- Augmentation (DESIGN.md §4, paper §4.1) -------------------------------
  config.augment = ml_collections.ConfigDict()
  # Stored faces are resized to round(image_size * margin_ratio) and a
  # image_size crop is taken (112 / 96 in the paper).
  config.augment.margin_ratio = 112 / 96
  config.augment.rotations = (-6.0, -3.0, 0.0, 3.0, 6.0)  # Degrees.
  config.augment.five_crops = True  # Centre + 4 corners; else centre only.
  config.augment.flip = True
  config.augment.five_crop_eval = False  # Average f(e) over the five crops.
  # Whether stage 1's faces (x_s, and x_t with x_tg) are also cropped at the
  # five places, as DESIGN.md §4 and the paper do. False: stage 1 crops at
  # the centre only (rotations and flips as above), so its faces keep the
  # placement the eye alignment gave them: G redraws each face in one
  # placement instead of five (corners shift it by ±(stored − crop)/2 px) and
  # D learns expressions without the shift as a nuisance. The expression
  # reader trains on stage 1's faces, so it follows this switch too; stage 2
  # (the MLP's views, the CNN baseline) uses augment.five_crops either way.
  # configs/synthetic.py turns the places off in every stage instead
  # (augment.five_crops = False; EXPERIMENTS.md, "Stage 1 at the centre crop").
  config.augment.stage1_five_crops = True
  # Photometric jitter of stage 1's faces (not in the paper: 0 = off), drawn
  # on the device in every update (relgan_jax/data/photometric.py): each
  # face's channels scaled by exp(U(-stage1_gain, stage1_gain)) (one draw for
  # all three on a grey face, which stays grey) and shifted by
  # U(-stage1_shift, stage1_shift) grey levels; x_t and x_tg (one person)
  # share a draw, x_s gets its own. The expression reader and stage 2 see
  # unjittered faces. Off in every config: on the synthetic demo (0.15, 20)
  # moved every figure within a seed's spread (EXPERIMENTS.md, sessions
  # 50-51); for faces whose colours and lighting vary between people or
  # sessions more than stage 1's people show.
  config.augment.stage1_gain = 0.0
  config.augment.stage1_shift = 0.0

  # --- Networks (DESIGN.md §2) ------------------------------------------------
  config.model = ml_collections.ConfigDict()
  config.model.image_size = 96  # Multiple of 32.
  config.model.width = 1.0  # Multiplies every conv channel count.
  # D's own width multiplier (0 = same as width). D is ~5x cheaper than G per
  # image, so small-G runs can afford a full-width D (configs/synthetic.py).
  config.model.d_width = 0.0
  # Gde's own width multiplier (0 = same as width); Ges and Get, and with
  # them the CNN baseline and the expression reader, keep `width`. At small
  # widths the decoder draws the face through few channels at its top
  # resolutions (8 and 16 at width 0.25 and 64x64), which blurs the
  # expression it draws; widening Gde alone costs little (configs/synthetic.py).
  config.model.gde_width = 0.0
  # D's normalisation: 'none' (the paper's D) | 'group' (learns the expression
  # head faster on small data; configs/synthetic.py).
  config.model.d_norm = 'none'
  config.model.norm = 'group'  # 'group' | 'batch' | 'none' (generator only).
  config.model.f_e_dim = 30
  config.model.f_i_dim = 50
  config.model.dtype = 'float32'  # Compute dtype: 'float32' | 'bfloat16'.
  # How convolutions are computed (never what): 'xla' = plain
  # lax.conv_general_dilated; 'fast' = matrix-product weight gradients and
  # sub-pixel up-convolutions, tuned for XLA:CPU; 'auto' = 'fast' on CPU,
  # 'xla' on GPU/TPU (relgan_jax/model/layers.py, benchmarks/README.md).
  config.model.conv_impl = 'auto'

  # --- Losses (DESIGN.md §3) --------------------------------------------------
  config.loss = ml_collections.ConfigDict()
  config.loss.lambda_adv = 0.7  # λ1
  config.loss.lambda_pix = 20.0  # λ2
  config.loss.lambda_exp = 50.0  # λ3
  config.loss.lambda_id = 30.0  # λ4
  # The unit of the pixel term: λ2 multiplies pixel_scale * mean|x_bar - x_tg|
  # over values in [-1, 1]; 127.5 measures it in 8-bit grey levels, the unit
  # in which the paper's λ2 = 20 balances λ3 and λ4. In [-1, 1] units (1.0)
  # the pixel gradient is ~1/70 of the D-judged terms' and G never learns to
  # reconstruct (EXPERIMENTS.md, "What was wrong").
  config.loss.pixel_scale = 127.5
  # Not in the paper: α > 0 weights the pixel term's error at each pixel by
  # where x_tg differs from x_t (one person, one geometric draw: where the
  # expression changes the face), the weights averaging to 1 per image
  # (losses.pixel_loss). 0 = the paper's plain mean absolute error.
  config.loss.pixel_change_weight = 0.0
  # G's D-judged terms (λ1, λ3, λ4) ramp linearly from 0 to full weight over
  # this fraction of stage 1, while the pixel term and D train from the
  # start: G learns to reconstruct while De/Di learn on real faces, and
  # relies on them once they carry signal. 0 = the paper's constant weights.
  config.loss.d_terms_warmup = 0.1
  # λ5, not in the paper: an expression-contrast term on f(e) in L_G
  # (supervised contrastive over f(e) of x_s and x_tg, two people with one
  # expression, and the rest of the batch; relgan_jax/model/losses.py): it
  # tells Ges directly what reenactment tells it through Gde and De. At 500
  # its gradient on Ges is of the order of the reenactment terms' (at 50 it
  # was ~10x smaller and did little). 0 = the paper's L_G (EXPERIMENTS.md).
  config.loss.lambda_fe_contrast = 500.0
  config.loss.fe_contrast_temperature = 0.1  # Cosine similarity / this.
  # λ6, not in the paper: a perceptual term, |R(x_bar) − R(x_tg)| over the
  # block activations of a frozen expression reader R (the CNN baseline's
  # network trained on stage 1's own real faces before stage 1; config.reader,
  # relgan_jax/stage1/expression_reader.py). 0 = no reader (EXPERIMENTS.md).
  config.loss.lambda_reader = 0.0
  # The reader's term ramps up with the D-judged terms (d_terms_warmup): like
  # De, R is a classifier of real faces, and the blurred faces G draws
  # before it reconstructs are far from them. At full weight from the start
  # the term drew a saturated blob of a few pixels into one corner of every
  # face, in iterations 100-350 on the synthetic demo; warmed up, on four
  # runs (two seeds, two CPUs) every measure stayed within the seeds' spread
  # and the blob shrank (at most 5 % of the corner's values saturated,
  # against 10-11 %) or vanished (EXPERIMENTS.md, sessions 42-43). The
  # frame below does not replace it: at full weight in the frame a blob
  # came back in a corner the reader does not read (session 47).
  # False = full weight.
  config.loss.reader_warmup = True
  # R reads x_bar inside a frame of x_tg's own border, this fraction of the
  # image's side at each edge (4 px at 64x64; losses.reader_view): R judges
  # the face, and the crop's edges, background or hair in an eye-aligned
  # crop, get no gradient from it. Reading all of x_bar (0), G drew the
  # corner blob above, the larger the heavier R's term: on the demo at
  # λ6 = 1000, 20 % of the bottom-left 4x4 corner's values saturated; in the
  # frame none at the same seed (at λ6 = 300 or 1000), 5 % at another seed
  # (EXPERIMENTS.md, session 46). 0 = R reads all of x_bar.
  config.loss.reader_border = 0.0625
  # σ, the share of the pixel term's change map (pixel_change_weight > 0)
  # that the reader R shapes: c = |x_tg − x_t| times (1 − σ) + σ·s, s R's
  # saliency |∂ log p(e | x_tg) / ∂x_tg|, both 5x5-smoothed, each over its
  # image mean (losses.change_map; needs λ6 > 0). Two photos of a person
  # also differ where a pixel of residual misalignment moves the hair, the
  # outline and the eyes, which nothing G sees predicts; on generated pairs
  # that is ~4/5 of c's weight for sadness. At σ = 1 R's saliency takes
  # sadness's share inside its region from 23 to 50 % (the others' from
  # 27-37 to 61-67 %) and the corners' weight from ~0.5 to ~0.12 of the
  # mean; at 1/2 38 % and 0.32 (EXPERIMENTS.md, session 53). Outside the
  # reader's frame (reader_border), where only the pixel term and D judge
  # x_bar, c keeps its own shape: a corner left without weight grew a blob.
  # 0 = c alone.
  config.loss.pixel_change_saliency = 0.0

  # --- Stage 1: adversarial reenactment training (DESIGN.md §4) ---------------
  config.train = ml_collections.ConfigDict()
  config.train.batch_size = 64  # Global, across all devices and hosts.
  config.train.num_epochs = 300
  config.train.num_steps = -1  # If > 0, overrides num_epochs.
  config.train.g_lr = 1e-4
  config.train.d_lr = 1e-4
  config.train.b1 = 0.5
  config.train.b2 = 0.999
  # Not in the paper: an exponential moving average of G's params, updated
  # after every G update (weight on the past min(decay, (1 + t) / (10 + t))
  # after t iterations), is the G that everything after stage 1 uses (the
  # exported Ges, the reenactments, the grids); training uses the live
  # params. The generator that StarGAN v2 and StyleGAN evaluate. 0 = off.
  config.train.g_ema_decay = 0.0
  # From this fraction of training on, G takes g_steps_per_d_step updates per
  # D update (the paper's "G is updated more frequently in later iterations").
  config.train.g_boost_start = 0.5
  config.train.g_steps_per_d_step = 2
  config.train.log_every = 50
  config.train.checkpoint_every = 1000
  config.train.keep_checkpoints = 3
  config.train.image_summary_every = 1000
  # On SIGTERM (preemption) stage 1 checkpoints at the end of the current
  # step and exits with status 143; if that takes longer than this, it exits
  # without the checkpoint (relgan_jax/stage1/preemption.py).
  config.train.preemption_grace_secs = 9.0

  # --- The expression reader R (only when loss.lambda_reader > 0) ------------
  config.reader = ml_collections.ConfigDict()
  config.reader.epochs = 20  # Passes over stage 1's records (x_s and x_tg).
  config.reader.lr = 1e-3  # Adam, as the CNN baseline's.

  # --- Stage 2: recognition on the frozen f(e) (DESIGN.md §5) -----------------
  config.stage2 = ml_collections.ConfigDict()
  config.stage2.mlp_epochs = 50
  config.stage2.mlp_lr = 1e-3
  config.stage2.mlp_batch_size = 64
  config.stage2.mlp_hidden = (256, 128)
  config.stage2.dropout = 0.5
  config.stage2.baseline_epochs = 50
  # lr 1e-3: at 1e-4 / 50 epochs the baseline under-trains (CK+: 83 % vs
  # 91 % at 1e-3, the paper's 90.3 %); it is the yardstick.
  config.stage2.baseline_lr = 1e-3
  config.stage2.baseline_batch_size = 64
  config.stage2.run_baseline = True
  # The MLP trains on f(e) of every training image's centre crop plus this
  # many augmented views of it (crop place, rotation, flip: the augmentation
  # the baseline trains on; issue 14); 0 = centre crops only.
  config.stage2.mlp_augment_views = 8
  # Expression-transfer pairs (relgan_jax/evaluation/disentanglement.py): every test
  # image is x_s for this many x_t of other test people; at most max pairs.
  config.stage2.transfer_targets = 3
  config.stage2.transfer_max_pairs = 2000
  # Expression strength: each test person's one x_t (neutral) reenacted from
  # this many x_s of other people per expression.
  config.stage2.strength_sources = 4

  # --- Protocol (DESIGN.md §5) ------------------------------------------------
  config.protocol = ml_collections.ConfigDict()
  config.protocol.num_folds = 10  # Must match the manifest's folds.
  config.protocol.folds = ()  # Subset of folds to run; () = all.
  # A stage-1 checkpoint (e.g. BU-4DFE pre-training) to start every fold from.
  config.protocol.pretrained_checkpoint = ''
  # Or pre-train it here, once, before the folds: stage 1 on every record of
  # this prepared data (e.g. BU-4DFE) in workdir/pretrain, which then serves
  # as the pretrained checkpoint. Must hold none of the evaluated subjects.
  config.protocol.pretrain_data_dir = ''
  # With a pre-trained checkpoint: skip per-fold stage 1 and use it frozen.
  config.protocol.freeze_pretrained = False
  return config
