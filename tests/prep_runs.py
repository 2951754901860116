"""Running data_prep.prepare in tests and reading what it wrote (shared by
test_prepare.py and test_stage1_only.py)."""

import json
import os

from data_prep import prepare
from relgan_jax.data import records


def run(dataset, raw, out, **kw):
  """prepare.prepare in-process, one worker, no alignment or progress bar."""
  kw.setdefault('workers', 1)
  kw.setdefault('align', False)
  kw.setdefault('progress', False)
  return prepare.prepare(dataset, str(raw), str(out), **kw)


def report(out):
  with open(os.path.join(out, 'prep_report.json')) as f:
    return json.load(f)


def rejected(out):
  """{path: reason} of the inputs the prepared set left out."""
  return {r['path']: r['reason'] for r in report(out)['rejected']}


def prepared_records(out):
  """(PreparedDataset, [raw record of each index])."""
  ds = records.PreparedDataset(str(out))
  return ds, [ds.raw(i) for i in range(len(ds))]
