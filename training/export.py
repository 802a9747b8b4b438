"""Export helpers: a safetensors writer (the format is small enough to write by hand, which also
keeps the TypeScript reader honest: it is tested against files it did not write), sha256, manifest."""
import hashlib, json, os, struct
import numpy as np
import torch

DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int32: 'I32', torch.int64: 'I64', torch.uint8: 'U8'}


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        # numpy has no bfloat16: its bytes are the raw 16-bit patterns
        b = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def file_entry(dirpath, name, role):
    p = os.path.join(dirpath, name)
    return {'path': name, 'role': role, 'bytes': os.path.getsize(p), 'sha256': sha256(p)}


def weights_sha(manifest):
    """A committed export's name in a later manifest: the first 12 hex digits of its weights file's sha256 (file_entry's role 'weights')."""
    return next(f['sha256'] for f in manifest['files'] if f['role'] == 'weights')[:12]


def round_weights_(model, dtype=torch.float16):
    """Round parameters to the export dtype in place, so golden vectors match the shipped weights."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).float())


def read_safetensors(path):
    """name -> float32 tensor (F32/F16 files written by write_safetensors)."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, end = e['data_offsets']
        dt = {'F32': np.float32, 'F16': np.float16}[e['dtype']]
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype=dt).reshape(e['shape']).astype(np.float32))
    return out


def ckpt_dir():
    """Where training checkpoints live: $SAMPLESCOPE_CKPT, default ~/.cache/samplescope/ckpt (outside the work tree)."""
    d = os.environ.get('SAMPLESCOPE_CKPT', os.path.expanduser('~/.cache/samplescope/ckpt'))
    os.makedirs(d, exist_ok=True)
    return d
