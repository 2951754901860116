"""benchmarks/profile_step.py reads GPU traces: kernels are matched to the
optimised HLO's instructions, tuple-shaped fusions included."""

import pytest

from benchmarks import profile_step

_HLO = '''\
%fused_add_reduce.9 (p0: bf16[2,4]) -> (bf16[2]{0}, f32[2]{0}) {
  %p0 = bf16[2,4]{1,0} parameter(0)
}

ENTRY %main.1 (a: bf16[2,4]) -> bf16[2,4] {
  %a = bf16[2,4]{1,0} parameter(0)
  %input_add_reduce_fusion.9 = (bf16[2]{0}, f32[2]{0}) fusion(%a), kind=kInput, calls=%fused_add_reduce.9, metadata={op_name="jit(f)/Ges/norm0/reduce_sum"}
  %loop_add_fusion.1 = bf16[2,4]{1,0} fusion(%a), kind=kLoop, calls=%fused_add, metadata={op_name="jit(f)/Ges/leaky_relu/add_any"}
  ROOT %cudnn-conv.3 = (bf16[2,4]{1,0}, u8[0]{0}) custom-call(%a), custom_call_target="__cudnn$convForward", metadata={op_name="jit(f)/D/conv0/conv_general_dilated"}
}
'''


def test_hlo_index_reads_tuple_shaped_instructions():
  index = profile_step._hlo_index(_HLO)
  assert index['input_add_reduce_fusion.9'] == (
      '(bf16[2]{0}, f32[2]{0})', 'jit(f)/Ges/norm0/reduce_sum',
      'input_add_reduce_fusion')
  assert index['loop_add_fusion.1'][1:] == ('jit(f)/Ges/leaky_relu/add_any',
                                            'loop_add_fusion')
  assert index['cudnn-conv.3'][2] == 'custom-call'


def test_kernels_in_a_cuda_graph_are_matched_by_name():
  index = profile_step._hlo_index(_HLO)
  op = profile_step._kernel_op
  # Outside a graph the kernel's hlo_op stat names its instruction.
  assert op('whatever', 'cudnn-conv.3', index) == 'cudnn-conv.3'
  # Inside one it names the graph; the kernel is named after its fusion.
  assert op('input_add_reduce_fusion_9', 'command_buffer_1',
            index) == 'input_add_reduce_fusion.9'
  assert op('loop_add_fusion_1', 'command_buffer_1',
            index) == 'loop_add_fusion.1'
  assert op('sm90_xmma_wgrad_implicit_gemm_bf16', 'command_buffer_1',
            index) == 'lib:conv wgrad'
  assert op('sm90_xmma_fprop_implicit_gemm', 'command_buffer_1',
            index) == 'lib:conv fprop'
  assert op('Memset 3', 'command_buffer_1', index) == 'lib:memset/memcpy'
  assert op('loop_add_fusion_2', 'command_buffer_1', index) == 'lib:other'


def test_read_trace_names_what_is_missing(tmp_path):
  with pytest.raises(FileNotFoundError, match='no PROGRAM/PROGRAM.hlo.txt'):
    profile_step.read_traces(str(tmp_path))
  program = tmp_path / 'iteration'
  program.mkdir()
  (program / 'iteration.hlo.txt').write_text(_HLO)  # HLO kept, no trace.
  with pytest.raises(FileNotFoundError, match='No \\*.xplane.pb trace under'):
    profile_step.read_traces(str(tmp_path))
