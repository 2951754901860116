"""Subject-independent folds (DESIGN.md §5).

Folds are assigned to subjects, never to images, so no person is in both the
training and the test part of a fold. The assignment is deterministic (sorted
subject ids, a seeded shuffle, then round robin) and is stored in the prepared
data's manifest, so every model of a run sees the same folds. Fold -1 marks
subjects that are always trained on (e.g. SFEW's Train split, whose Val split is
fold 0). Stage-1-only records (x_t only, `records.py`) are in no fold's
training or test set: stage 1 finds the training people's own ones itself
(`pairs.stage1_records`).
"""

from typing import Iterable

import numpy as np


def assign_folds(subject_ids: Iterable[str], num_folds: int,
                 seed: int = 0) -> dict[str, int]:
  """Assigns every distinct subject to one of `num_folds` folds.

  Args:
    subject_ids: subject ids (duplicates allowed).
    num_folds: number of folds (>= 1).
    seed: shuffle seed.

  Returns:
    {subject: fold} with fold sizes differing by at most one subject.

  Raises:
    ValueError: num_folds < 1 or more folds than subjects.
  """
  subjects = sorted({str(s) for s in subject_ids})
  if num_folds < 1:
    raise ValueError(f'num_folds must be >= 1, got {num_folds}.')
  if num_folds > len(subjects):
    raise ValueError(f'num_folds={num_folds} exceeds the number of subjects '
                     f'({len(subjects)}): some folds would have no test subject.')
  order = np.random.default_rng(seed).permutation(len(subjects))
  return {subjects[j]: k % num_folds for k, j in enumerate(order)}


def split_indices(dataset, fold: int) -> tuple[np.ndarray, np.ndarray]:
  """Record indices for training and testing on `fold`.

  Args:
    dataset: a `records.PreparedDataset` (anything with `.folds` and
      `.manifest['num_folds']`).
    fold: the test fold, in [0, num_folds).

  Returns:
    (train_idx, test_idx), int64 arrays: test = records whose fold == fold,
    train = every other record (fold -1 records are always train); neither
    holds a stage-1-only record (`dataset.stage1_only`, when it has one).
  """
  num_folds = int(dataset.manifest['num_folds'])
  if not 0 <= fold < num_folds:
    raise ValueError(f'fold {fold} is outside 0..{num_folds - 1} '
                     f'(num_folds in {getattr(dataset, "data_dir", "manifest")}).')
  folds = np.asarray(dataset.folds)
  return (without_stage1_only(dataset, np.flatnonzero(folds != fold)),
          without_stage1_only(dataset, np.flatnonzero(folds == fold)))


def without_stage1_only(dataset, indices) -> np.ndarray:
  """`indices` without the dataset's stage-1-only records (x_t only: never
  in a class, a fold's test set or stage 2); all of them when the dataset has
  no such flag."""
  indices = np.asarray(indices, np.int64)
  flags = getattr(dataset, 'stage1_only', None)
  if flags is None:
    return indices
  return indices[~np.asarray(flags, bool)[indices]]
