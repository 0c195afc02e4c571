"""Writes torch.save checkpoints with Debian's torch for tests/capture/test_torch_checkpoint.cpp.

usage: torch_checkpoints.py OUT_DIR MARKER_PATH FIXTURES_DIR
OUT_DIR/mixed.bin: fp32, fp16, bf16, int64, a transposed view, a view at a storage offset, two names on one
  storage, a module's state_dict (an OrderedDict with the `_metadata` attribute); mixed/NAME.raw holds each
  tensor's contiguous bytes and mixed/manifest.json its dtype and shape (what torch.load gives).
OUT_DIR/malicious.bin: a real torch.save archive whose pickle calls os.system('touch MARKER_PATH').
OUT_DIR/legacy.bin: the pre-1.6 (non-zip) format.
OUT_DIR/gpt2-bin, llama-sharded: the tiny HF fixtures' weights as pytorch_model.bin (GPT-2, with a tied
  lm_head.weight) and as two shards with pytorch_model.bin.index.json (Llama).
"""
import collections
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors  # noqa: E402

out_dir, marker, fixtures = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out_dir, exist_ok=True)
torch.manual_seed(7)


# ---- mixed.bin ----
module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
state = module.state_dict()  # OrderedDict with _metadata
base = torch.randn(5, 6)
shared = torch.randn(4, 3)
state["fp16"] = torch.randn(3, 5).half()
state["bf16"] = torch.randn(2, 7).bfloat16()
state["int64"] = torch.arange(-3, 9, dtype=torch.int64).reshape(3, 4)
state["transposed"] = base.t()                # non-contiguous, strides (1, 6)
state["offset_view"] = base[2:, 1:4]          # storage offset 13, strides (6, 1)
state["tied_a"] = shared
state["tied_b"] = shared                      # the same tensor under two names
state["scalar"] = torch.tensor(2.5)
state["empty"] = torch.zeros(0, 3)
torch.save(state, os.path.join(out_dir, "mixed.bin"))
raw_dir = os.path.join(out_dir, "mixed")
os.makedirs(raw_dir, exist_ok=True)
manifest = {}
for name, tensor in torch.load(os.path.join(out_dir, "mixed.bin")).items():
    contiguous = tensor.contiguous()
    with open(os.path.join(raw_dir, name + ".raw"), "wb") as f:
        f.write(contiguous.reshape(-1).view(torch.uint8).numpy().tobytes() if contiguous.numel() else b"")
    manifest[name] = {"dtype": str(tensor.dtype).replace("torch.", ""), "shape": list(tensor.shape)}
with open(os.path.join(raw_dir, "manifest.json"), "w") as f:
    json.dump(manifest, f)


# ---- malicious.bin: unpickling runs os.system ----
class RunsACommand:
    def __reduce__(self):
        return (os.system, ("touch " + marker,))


torch.save({"weight": torch.ones(2), "payload": RunsACommand()}, os.path.join(out_dir, "malicious.bin"))

# ---- legacy.bin ----
torch.save({"weight": torch.ones(2)}, os.path.join(out_dir, "legacy.bin"), _use_new_zipfile_serialization=False)

# ---- real tiny models ----
gpt2_dir = os.path.join(out_dir, "gpt2-bin")
os.makedirs(gpt2_dir, exist_ok=True)
shutil.copy(os.path.join(fixtures, "gpt2", "config.json"), gpt2_dir)
gpt2 = read_safetensors(os.path.join(fixtures, "gpt2", "model.safetensors"))
gpt2["lm_head.weight"] = gpt2["transformer.wte.weight"]  # tied, as transformers saves it
torch.save(gpt2, os.path.join(gpt2_dir, "pytorch_model.bin"))

llama_dir = os.path.join(out_dir, "llama-sharded")
os.makedirs(llama_dir, exist_ok=True)
shutil.copy(os.path.join(fixtures, "llama", "config.json"), llama_dir)
llama = read_safetensors(os.path.join(fixtures, "llama", "model.safetensors"))
names = list(llama)
shards = [names[: len(names) // 2], names[len(names) // 2:]]
weight_map = {}
for index, shard in enumerate(shards):
    file_name = "pytorch_model-%05d-of-%05d.bin" % (index + 1, len(shards))
    torch.save(collections.OrderedDict((n, llama[n]) for n in shard), os.path.join(llama_dir, file_name))
    weight_map.update({n: file_name for n in shard})
with open(os.path.join(llama_dir, "pytorch_model.bin.index.json"), "w") as f:
    json.dump({"metadata": {}, "weight_map": weight_map}, f)
