#!/usr/bin/python3
"""Eager plain-torch baseline for bench/bench_runtime: the GPT-2 and Llama-family forward passes written
from tests/fixtures/hf-reference/README.md's conventions (as HF transformers 4.44 computes them in eager
mode: separate q/k/v projections, repeat_kv, explicit softmax in float32), driven by config.json and
model.safetensors only. Prints one line per model: `python <model> <seq> <tokens/s>`; for the fixtures
it first checks its logits against reference.safetensors. Run with Debian's /usr/bin/python3.

usage: python_prefill.py --threads N --repeats R MODEL_DIR:SEQ [MODEL_DIR:SEQ ...]"""
import argparse, json, math, os, struct, sys, time
import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[base + begin:base + end]), dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return out


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def rms_norm(x, w, eps):
    x32 = x.to(torch.float32)
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return w * x32.to(x.dtype)


def causal_mask(t, window=None):
    i = torch.arange(t).unsqueeze(1)
    j = torch.arange(t).unsqueeze(0)
    blocked = j > i
    if window is not None:
        blocked = blocked | (j <= i - window)
    return torch.zeros(t, t).masked_fill(blocked, torch.finfo(torch.float32).min)


class Gpt2:
    def __init__(self, cfg, w):
        self.cfg, self.w = cfg, w
        self.e, self.h = cfg["n_embd"], cfg["n_head"]

    def __call__(self, ids):
        w, e, h = self.w, self.e, self.h
        b, t = ids.shape
        d = e // h
        x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:t]
        mask = causal_mask(t)
        eps = self.cfg.get("layer_norm_epsilon", 1e-5)
        for layer in range(self.cfg["n_layer"]):
            p = f"transformer.h.{layer}."
            a = F.layer_norm(x, (e,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
            qkv = torch.addmm(w[p + "attn.c_attn.bias"], a.view(-1, e), w[p + "attn.c_attn.weight"]).view(b, t, 3 * e)
            q, k, v = (z.view(b, t, h, d).transpose(1, 2) for z in qkv.split(e, dim=2))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + mask
            probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(v.dtype)
            o = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, e)
            x = x + torch.addmm(w[p + "attn.c_proj.bias"], o.view(-1, e), w[p + "attn.c_proj.weight"]).view(b, t, e)
            m = F.layer_norm(x, (e,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
            inner = gelu_new(torch.addmm(w[p + "mlp.c_fc.bias"], m.view(-1, e), w[p + "mlp.c_fc.weight"]))
            x = x + torch.addmm(w[p + "mlp.c_proj.bias"], inner, w[p + "mlp.c_proj.weight"]).view(b, t, e)
        x = F.layer_norm(x, (e,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
        return F.linear(x, w.get("lm_head.weight", w["transformer.wte.weight"]))


def inv_freq_of(cfg, d):
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    rs = cfg.get("rope_scaling")
    if cfg["model_type"] != "mistral" and rs and rs.get("rope_type", rs.get("type")) == "llama3":
        factor, low, high, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        smooth = (old / wavelen - low) / (high - low)
        blended = (1 - smooth) * inv / factor + smooth * inv
        scaled = torch.where(wavelen > old / low, inv / factor, blended)
        inv = torch.where(wavelen < old / high, inv, scaled)
    return inv


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Llama:
    def __init__(self, cfg, w):
        self.cfg, self.w = cfg, w
        self.h = cfg["num_attention_heads"]
        self.kv = cfg.get("num_key_value_heads", self.h)
        self.d = cfg.get("head_dim") or cfg["hidden_size"] // self.h
        self.inv_freq = inv_freq_of(cfg, self.d)
        self.window = cfg.get("sliding_window") if cfg["model_type"] == "mistral" else None

    def __call__(self, ids):
        w, cfg, h, kv, d = self.w, self.cfg, self.h, self.kv, self.d
        b, t = ids.shape
        eps = cfg.get("rms_norm_eps", 1e-6)
        x = w["model.embed_tokens.weight"][ids]
        freqs = torch.arange(t).float().unsqueeze(1) * self.inv_freq.unsqueeze(0)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        mask = causal_mask(t, self.window)
        for layer in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{layer}."
            a = rms_norm(x, w[p + "input_layernorm.weight"], eps)
            q = F.linear(a, w[p + "self_attn.q_proj.weight"], w.get(p + "self_attn.q_proj.bias")).view(b, t, h, d).transpose(1, 2)
            k = F.linear(a, w[p + "self_attn.k_proj.weight"], w.get(p + "self_attn.k_proj.bias")).view(b, t, kv, d).transpose(1, 2)
            v = F.linear(a, w[p + "self_attn.v_proj.weight"], w.get(p + "self_attn.v_proj.bias")).view(b, t, kv, d).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(h // kv, dim=1)
            v = v.repeat_interleave(h // kv, dim=1)
            scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(d) + mask
            probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
            o = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, h * d)
            x = x + F.linear(o, w[p + "self_attn.o_proj.weight"])
            m = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
            gated = F.silu(F.linear(m, w[p + "mlp.gate_proj.weight"])) * F.linear(m, w[p + "mlp.up_proj.weight"])
            x = x + F.linear(gated, w[p + "mlp.down_proj.weight"])
        x = rms_norm(x, w["model.norm.weight"], eps)
        return F.linear(x, w.get("lm_head.weight", w["model.embed_tokens.weight"]))


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    weights = {k: v.float() for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
    return (Gpt2 if cfg["model_type"] == "gpt2" else Llama)(cfg, weights), cfg


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for spec in args.models:
        folder, seq = spec.rsplit(":", 1)
        seq = int(seq)
        model, cfg = load(folder)
        name = os.path.basename(os.path.normpath(folder))
        with torch.inference_mode():
            reference = os.path.join(folder, "reference.safetensors")
            if os.path.exists(reference):
                ref = read_safetensors(reference)
                diff = (model(ref["input_ids"]) - ref["logits"]).abs().max().item()
                print(f"# {name}: eager baseline logits vs HF reference max abs diff {diff:.2g}", file=sys.stderr)
            ids = torch.randint(0, cfg["vocab_size"], (1, seq), generator=torch.Generator().manual_seed(7))
            for _ in range(2):
                model(ids)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                model(ids)
                times.append(time.perf_counter() - start)
        times.sort()
        print(f"python {name} {seq} {seq / times[len(times) // 2]:.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
