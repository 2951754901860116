"""`python -m data_prep.synthetic --out_dir=DIR`: writes the built-in synthetic
face set as a prepared dataset (flags: --helpshort).

The generator is relgan_jax/data/synthetic_set.py (the drawing
relgan_jax/data/synthetic_drawing.py): it is part of the core package because a
run generates the set on first use (configs/synthetic.py).
"""

from relgan_jax.data import synthetic_set

if __name__ == '__main__':
  synthetic_set.run_command_line()
