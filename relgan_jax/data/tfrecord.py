"""TFRecord files without TensorFlow: framing, CRC checks, sequential reads.

A TFRecord file is a sequence of records, each
`uint64 length | uint32 masked_crc32c(length) | payload | uint32
masked_crc32c(payload)`, little endian. `records.py` builds the prepared-data
format on top of this; any TFRecord tool reads what is written here.
"""

import struct
from typing import Iterable

import google_crc32c

from relgan_jax import cli

_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct('<QI')  # length, masked crc of the length
_FOOTER = struct.Struct('<I')  # masked crc of the payload


HEADER_SIZE = _HEADER.size
FOOTER_SIZE = _FOOTER.size


class DataError(ValueError, cli.UserError):
  """Prepared data that is missing, corrupt or inconsistent (names the file)."""


def masked_crc32c(data: bytes) -> int:
  """The CRC32C of `data`, masked as TFRecord files store it."""
  crc = google_crc32c.value(data)
  return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame_record(payload: bytes) -> bytes:
  """Returns `payload` framed as one TFRecord record."""
  length = struct.pack('<Q', len(payload))
  return b''.join((
      length,
      struct.pack('<I', masked_crc32c(length)),
      payload,
      _FOOTER.pack(masked_crc32c(payload)),
  ))


def unframe_record(buf: bytes, path: str, index: int) -> bytes:
  """Checks one framed record (header, both CRCs) and returns its payload.

  Args:
    buf: exactly the bytes of one record.
    path: the shard file, for error messages.
    index: the record's position in the shard, for error messages.

  Returns:
    The payload bytes.

  Raises:
    DataError: truncated record, length or CRC mismatch.
  """
  where = f'{path}, record {index}'
  if len(buf) < _HEADER.size + _FOOTER.size:
    raise DataError(f'{where}: truncated record ({len(buf)} bytes).')
  length, length_crc = _HEADER.unpack_from(buf)
  if masked_crc32c(buf[:8]) != length_crc:
    raise DataError(f'{where}: CRC mismatch in the record length header.')
  if _HEADER.size + length + _FOOTER.size != len(buf):
    raise DataError(
        f'{where}: record length {length} does not match the index '
        f'({len(buf) - _HEADER.size - _FOOTER.size} bytes); the shard is '
        'truncated or the index is out of date.')
  payload = buf[_HEADER.size:_HEADER.size + length]
  (payload_crc,) = _FOOTER.unpack_from(buf, _HEADER.size + length)
  if masked_crc32c(payload) != payload_crc:
    raise DataError(f'{where}: CRC mismatch in the payload (corrupt data).')
  return payload


def read_records(path: str) -> Iterable[bytes]:
  """Sequentially yields every payload of a TFRecord file, checking CRCs."""
  with open(path, 'rb') as f:
    index = 0
    while True:
      header = f.read(_HEADER.size)
      if not header:
        return
      if len(header) < _HEADER.size:
        raise DataError(f'{path}, record {index}: truncated header.')
      (length, _) = _HEADER.unpack(header)
      rest = f.read(length + _FOOTER.size)
      if len(rest) < length + _FOOTER.size:
        raise DataError(f'{path}, record {index}: truncated payload.')
      yield unframe_record(header + rest, path, index)
      index += 1
