r"""The built-in synthetic face set: the whole method on a laptop CPU.

Generates the set on first use (data_prep.synthetic), then runs stage 1, the
encoder export, stage 2, the CNN baseline and the report for both folds:

  python -m relgan_jax.main --config=configs/synthetic.py --workdir=runs/synthetic

Sized to finish in about 15 minutes on a 2-core CPU (measured numbers in
README.md). What differs from the paper's settings, and why:
- 32x32 faces, width 0.25, batch 32, 1000 stage-1 iterations per fold: the
  compute a 2-core CPU has in that time (one iteration ~0.2 s there). This is
  ~36 epochs, far from the paper's 300 on a 16x larger input.
- The two highest of the synthetic set's three expression intensities (plus
  the neutral faces), like the paper's BU-3DFE protocol: the weakest
  intensity is barely visible at 32x32.
- Stage-1 learning rates 3e-4 (paper 1e-4) and λ2 (pixel) 100 (paper 20): with
  the paper's values and this short schedule the generator's output stays
  adversarial noise; with these it at least reconstructs the target's face.
- The baseline is trained for 40 epochs at lr 1e-3 so that it is not
  under-trained relative to REL-GAN's much longer stage 1.
"""

from configs import default


def get_config():
  config = default.get_config()
  config.data.name = 'synthetic'
  config.data.dir = 'data/synthetic'
  config.data.generate_if_missing = True
  config.data.synthetic_identities = 64
  config.data.min_intensity = 2
  config.model.image_size = 32
  config.model.width = 0.25
  config.loss.lambda_pix = 100.0
  config.train.batch_size = 32
  config.train.num_steps = 1000
  config.train.g_lr = 3e-4
  config.train.d_lr = 3e-4
  config.train.log_every = 100
  config.train.checkpoint_every = 500
  config.train.image_summary_every = 500
  config.stage2.mlp_epochs = 50
  config.stage2.baseline_epochs = 40
  config.stage2.baseline_lr = 1e-3
  config.protocol.num_folds = 2
  return config
