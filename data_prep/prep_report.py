"""prep_report.json: what a prep run used, and every input it did not use.

The report holds counts per class, subject and split/fold of the images
written, every rejected input with its path (relative to the raw folder),
reason and detail, the per-reason totals, the counts of files the protocol
leaves out by design (e.g. CK+ frames before the last three), and notes.
`summary_line` condenses it to the line printed at the end of a run.
"""

import collections
from typing import Any, Mapping, Sequence

from data_prep.readers import base


def build_report(*, dataset: str, raw_dir: str, out_dir: str,
                 settings: Mapping[str, Any], listing: base.Listing,
                 used: Sequence[Mapping[str, Any]],
                 rejections: Sequence[base.Rejection],
                 fold_of_subject: Mapping[str, int],
                 multiple_faces: Sequence[str]) -> dict[str, Any]:
  """Assembles the report dict.

  Args:
    dataset: reader name.
    raw_dir: the raw folder (absolute).
    out_dir: the prepared folder.
    settings: the prep settings (as stored in the manifest).
    listing: the reader's listing.
    used: one dict per image written: path, expression, subject, split.
    rejections: every input not used (reader's and processing's together).
    fold_of_subject: {subject: fold} of the written images.
    multiple_faces: paths where more than one face was found (largest used).

  Returns:
    The JSON-serialisable report.
  """
  classes = list(listing.classes)
  per_class = collections.Counter(classes[u['expression']] for u in used)
  per_subject = collections.Counter(u['subject'] for u in used)
  if listing.fixed_split:
    per_split = collections.Counter(u['split'] for u in used)
  else:
    per_split = collections.Counter(
        f'fold {fold_of_subject[u["subject"]]}' for u in used)
  # The totals count the protocol's images (listed = used + rejected); the
  # stage-1-only frames have their own block ('stage1_only'), their
  # rejections are listed below with the others.
  stage1_paths = {item.path for item in listing.stage1_only}
  protocol_rejections = [r for r in rejections if r.path not in stage1_paths]
  reader_rejections = [r for r in listing.rejections
                       if r.path not in stage1_paths]
  by_reason = collections.Counter(r.reason for r in protocol_rejections)
  return dict(
      dataset=dataset,
      raw_dir=raw_dir,
      out_dir=out_dir,
      settings=dict(settings),
      classes=classes,
      totals=dict(listed=len(listing.items) + len(reader_rejections),
                  used=len(used), rejected=len(protocol_rejections),
                  skipped_by_protocol=sum(listing.skipped.values())),
      counts=dict(
          per_class={c: per_class.get(c, 0) for c in classes},
          per_subject=dict(sorted(per_subject.items())) if
          listing.has_identities else {},
          num_subjects=len(per_subject) if listing.has_identities else 0,
          per_split=dict(sorted(per_split.items())),
      ),
      rejected_by_reason=dict(sorted(by_reason.items())),
      rejected=[dict(path=r.path, reason=r.reason, detail=r.detail)
                for r in rejections],
      skipped_by_protocol=dict(sorted(listing.skipped.items())),
      skipped_examples={k: list(v) for k, v in
                        sorted(listing.skipped_examples.items())},
      multiple_faces_largest_used=list(multiple_faces),
      notes=list(listing.notes),
  )


def summary_line(report: Mapping[str, Any]) -> str:
  """One line: what was written, what was rejected and why."""
  t, c = report['totals'], report['counts']
  subjects = f', {c["num_subjects"]} subjects' if c['num_subjects'] else ''
  options = (report.get('settings') or {}).get('options') or {}
  if report['dataset'] == 'image_folder' and not options.get('subject_regex'):
    subjects = (', each image its own subject: no --subject_regex, so the '
                'folds are NOT subject-independent')
  empty = [k for k, v in c['per_class'].items() if not v]
  if empty:
    subjects += f'; classes without images: {", ".join(empty)}'
  reasons = ', '.join(f'{k}: {v}' for k, v in
                      report['rejected_by_reason'].items())
  return (f'prepared {report["dataset"]}: {t["used"]} images '
          f'({len(report["classes"])} classes{subjects}) in '
          f'{report["out_dir"]}; {t["rejected"]} inputs rejected'
          f'{f" ({reasons})" if reasons else ""}; '
          f'{t["skipped_by_protocol"]} files outside the protocol; details in '
          'prep_report.json')
