"""Writes tiny CODI checkpoints with Debian's torch for tests/capture/test_codi_checkpoint.cpp, in the key
layout of the CODI authors' pytorch_model.bin (zhenyi4/codi, src/model.py: the whole CODI module's state
dict), and the same model as a plain latent model folder (merged weights, config.json's "latent" block).

usage: codi_checkpoints.py OUT_DIR FIXTURES_DIR
OUT_DIR/<model>-codi: config.json of the base model, pytorch_model.bin with
  codi.base_model.model.<module>[.base_layer].weight|bias   (base weights; .base_layer under newer PEFT)
  codi.base_model.model.<module>.lora_A.default.weight / lora_B  (LoRA, r 8)
  codi.base_model.model.<embedding>  resized to vocab + 3 rows (pad, bot, eot)
  prj.1.weight/bias (Linear d->P), prj.3.weight/bias (Linear P->d), prj.ln.weight/bias (LayerNorm d)
OUT_DIR/<model>-merged: config.json with vocab_size + 3 and the latent block, pytorch_model.bin with
  W + (alpha / r) B @ A (transposed for GPT-2's Conv1D) under HF names, and prj.* as they are.
GPT-2 uses .base_layer names and no adapter_config.json (alpha 32, the authors' scripts); Llama the
older names and an adapter_config.json with lora_alpha 16.
"""
import collections
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import read_safetensors  # noqa: E402

out_dir, fixtures = sys.argv[1], sys.argv[2]
torch.manual_seed(5)
PREFIX = "codi.base_model.model."


def make(model, targets, resized, fan_in_fan_out, base_layer_names, alpha, write_adapter_config):
    base = read_safetensors(os.path.join(fixtures, model, "model.safetensors"))
    config = json.load(open(os.path.join(fixtures, model, "config.json")))
    vocab, hidden, rank, projection_dim = config["vocab_size"], config.get("hidden_size", config.get("n_embd")), 8, 32
    scale = alpha / rank
    codi, merged = collections.OrderedDict(), collections.OrderedDict()
    for name, weight in base.items():
        if name in resized:
            weight = torch.cat([weight, torch.randn(3, weight.shape[1]) * 0.5])
        module, leaf = name.rsplit(".", 1)
        targeted = module.split(".")[-1] in targets
        stored = PREFIX + (module + ".base_layer." + leaf if targeted and base_layer_names else name)
        codi[stored] = weight
        merged[name] = weight
        if targeted and leaf == "weight":
            fan_in, fan_out = (weight.shape[0], weight.shape[1]) if fan_in_fan_out else (weight.shape[1], weight.shape[0])
            down, up = torch.randn(rank, fan_in) * 0.2, torch.randn(fan_out, rank) * 0.2
            codi[PREFIX + module + ".lora_A.default.weight"] = down
            codi[PREFIX + module + ".lora_B.default.weight"] = up
            delta = up @ down
            merged[name] = weight + scale * (delta.t() if fan_in_fan_out else delta)
    projection = {"prj.1.weight": torch.randn(projection_dim, hidden) * 0.2, "prj.1.bias": torch.randn(projection_dim) * 0.1,
                  "prj.3.weight": torch.randn(hidden, projection_dim) * 0.2, "prj.3.bias": torch.randn(hidden) * 0.1,
                  "prj.ln.weight": 1 + torch.randn(hidden) * 0.1, "prj.ln.bias": torch.randn(hidden) * 0.1}
    codi.update(projection)
    merged.update(projection)
    codi_dir, merged_dir = os.path.join(out_dir, model + "-codi"), os.path.join(out_dir, model + "-merged")
    for folder in (codi_dir, merged_dir):
        os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(fixtures, model, "config.json"), codi_dir)
    torch.save(codi, os.path.join(codi_dir, "pytorch_model.bin"))
    if write_adapter_config:
        with open(os.path.join(codi_dir, "adapter_config.json"), "w") as f:
            json.dump({"peft_type": "LORA", "r": rank, "lora_alpha": alpha, "target_modules": targets}, f)
    config["vocab_size"] = vocab + 3
    config["latent"] = {"steps": 6, "bot_token_id": vocab + 1, "eot_token_id": vocab + 2, "projection": True,
                        "projection_dim": projection_dim, "projection_layer_norm": True}
    with open(os.path.join(merged_dir, "config.json"), "w") as f:
        json.dump(config, f)
    torch.save(merged, os.path.join(merged_dir, "pytorch_model.bin"))


make("gpt2", ["c_attn", "c_proj", "c_fc"], ["transformer.wte.weight"], True, True, 32.0, False)
make("llama", ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
     ["model.embed_tokens.weight", "lm_head.weight"], False, False, 16.0, True)
