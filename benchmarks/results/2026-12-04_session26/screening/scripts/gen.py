from configs import synthetic
from relgan_jax.data import loading
if __name__ == '__main__':
  c = synthetic.get_config()
  loading.generate_synthetic(c, 'data/synthetic', num_identities=64)
  loading.generate_synthetic(c, 'data/synthetic_pretrain', num_identities=64, first_identity=64)
