"""Neutral and sadness rows of reenactment grids, stacked (for looking)."""
import sys
import numpy as np
from PIL import Image, ImageDraw
out, pairs = sys.argv[1], sys.argv[2:]
bands = []
for spec in pairs:
  label, path = spec.split('=')
  a = np.asarray(Image.open(path).convert('RGB'))
  neutral, sad = a[200:335, 95:915], a[880:1015, 95:915]
  head = Image.new('RGB', (820, 18), 'white')
  ImageDraw.Draw(head).text((4, 3), label, fill='black')
  bands += [np.asarray(head), neutral, sad, np.full((6, 820, 3), 255, np.uint8)]
Image.fromarray(np.concatenate(bands)).save(out)
