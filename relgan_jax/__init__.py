"""REL-GAN in JAX/Flax."""
