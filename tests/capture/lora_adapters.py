"""Writes random PEFT LoRA adapters for the tiny HF fixtures, and the merged models, with Debian's torch,
for tests/capture/test_lora_adapter.cpp.

usage: lora_adapters.py OUT_DIR FIXTURES_DIR
OUT_DIR/llama-adapter: adapter_config.json (r 4, alpha 8, q_proj/v_proj/gate_proj/up_proj, use_rslora) and
  adapter_model.safetensors with PEFT's key names ('base_model.model.<module>.lora_A.weight');
OUT_DIR/gpt2-adapter: GPT-2's Conv1D (fan_in_fan_out true; c_attn, c_proj), adapter_model.bin, with the
  '.lora_A.default.weight' spelling some saves have;
OUT_DIR/llama-merged, gpt2-merged: config.json + pytorch_model.bin with W + scale * (B @ A) merged in float32
  (transposed for Conv1D), as peft's merge_and_unload computes it.
"""
import collections
import json
import math
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

out_dir, fixtures = sys.argv[1], sys.argv[2]
torch.manual_seed(11)


def make(model, targets, fan_in_fan_out, rslora, key_suffix, weights_format):
    base = read_safetensors(os.path.join(fixtures, model, "model.safetensors"))
    rank, alpha = 4, 8.0
    scale = alpha / math.sqrt(rank) if rslora else alpha / rank
    adapter, merged = collections.OrderedDict(), collections.OrderedDict(base)
    for name, weight in base.items():
        module = name[: -len(".weight")]
        if not name.endswith(".weight") or module.split(".")[-1] not in targets:
            continue
        fan_in, fan_out = (weight.shape[0], weight.shape[1]) if fan_in_fan_out else (weight.shape[1], weight.shape[0])
        down = torch.randn(rank, fan_in) * 0.3
        up = torch.randn(fan_out, rank) * 0.3
        adapter["base_model.model." + module + ".lora_A" + key_suffix] = down
        adapter["base_model.model." + module + ".lora_B" + key_suffix] = up
        delta = up @ down
        merged[name] = weight + scale * (delta.t() if fan_in_fan_out else delta)
    adapter_dir = os.path.join(out_dir, model + "-adapter")
    os.makedirs(adapter_dir, exist_ok=True)
    config = {"peft_type": "LORA", "r": rank, "lora_alpha": alpha, "target_modules": targets, "lora_dropout": 0.0,
              "fan_in_fan_out": fan_in_fan_out, "use_rslora": rslora, "bias": "none", "task_type": "CAUSAL_LM"}
    with open(os.path.join(adapter_dir, "adapter_config.json"), "w") as f:
        json.dump(config, f)
    if weights_format == "safetensors":
        write_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"), adapter)
    else:
        torch.save(adapter, os.path.join(adapter_dir, "adapter_model.bin"))
    merged_dir = os.path.join(out_dir, model + "-merged")
    os.makedirs(merged_dir, exist_ok=True)
    shutil.copy(os.path.join(fixtures, model, "config.json"), merged_dir)
    torch.save(merged, os.path.join(merged_dir, "pytorch_model.bin"))


make("llama", ["q_proj", "v_proj", "gate_proj", "up_proj"], False, True, ".weight", "safetensors")
make("gpt2", ["c_attn", "c_proj"], True, False, ".default.weight", "bin")
