/**
 * `<your-model>`: bring your own model. The user drops a model folder (manifest.json + the files it
 * lists: an .onnx graph, tokenizer.json, …) on the element, picks it with the folder input, or pastes
 * the URL of a model folder (the origin allowlist applies: `allowed-origins`). The model loads in the
 * page's engine worker through the same checks as every model (manifest rules, each file's size and
 * sha256, the graph's inputs against the manifest's roles, the tokenizer's special tokens); dropped
 * files are read in the worker and never leave the page. The element then shows what the manifest
 * declares — kind, the graph's inputs and outputs by role, sizes, tokenizer, files — and a
 * `<sample-scope>` on the model with every knob that applies and a prompt / infill text field.
 *
 * A load that fails shows its typed error (ModelFormatError, IntegrityError, ModelLoadError,
 * OriginNotAllowedError, …) and leaves the model loaded before, and its sampler, as they were.
 */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { BackendPreference, ModelInfo } from '../worker/protocol.js';

type AnyManifest = NonNullable<ModelInfo['manifest']>;
import {
  allowedOriginsAttribute,
  errorDetail,
  modelFor,
  modelFromFiles,
  resolveModelUrl,
  unloadModel,
} from './engine-host.js';
import { boxes, panel } from './styles.js';
import './sample-scope.js';

/** What a directory entry of a drop offers (the File and Directory Entries API, as browsers ship it). */
interface Entry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?(ok: (f: File) => void, fail: (e: unknown) => void): void;
  createReader?(): { readEntries(ok: (es: Entry[]) => void, fail: (e: unknown) => void): void };
}

/** Every file under a dropped entry, by its path below the entry (a dropped folder is the model's root). */
async function entryFiles(e: Entry, prefix: string, out: Map<string, Blob>): Promise<void> {
  if (e.isFile && e.file) {
    out.set(prefix + e.name, await new Promise<File>((ok, fail) => e.file!(ok, fail)));
    return;
  }
  if (!e.isDirectory || !e.createReader) return;
  const reader = e.createReader();
  for (;;) {
    const batch = await new Promise<Entry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) break;
    for (const c of batch) await entryFiles(c, prefix ? `${prefix}${e.name}/` : `${e.name}/`, out);
  }
}

/** Files of a folder input (webkitRelativePath "folder/x") or loose files, by path below the folder. */
export function filesByPath(files: Iterable<File>): Map<string, Blob> {
  const out = new Map<string, Blob>();
  for (const f of files) {
    const rel = f.webkitRelativePath || f.name;
    out.set(rel.includes('/') ? rel.slice(rel.indexOf('/') + 1) : rel, f);
  }
  return out;
}

const kib = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

@customElement('your-model')
export class YourModel extends LitElement {
  static override styles = [
    panel,
    boxes,
    css`
      .drop { border: 2px dashed #9aa5b8; border-radius: 8px; padding: 1rem; text-align: center; color: #4a5568; }
      .drop.over { background: #eef4ff; border-color: #3b6fd8; }
      .src { display: flex; gap: 0.5rem; flex-wrap: wrap; align-items: center; margin: 0.6rem 0; }
      .src input[type='url'] { flex: 1; min-width: 16rem; }
      table { border-collapse: collapse; margin: 0.4rem 0; font-size: 13px; }
      td, th { border-bottom: 1px solid #e3e7ee; padding: 0.15rem 0.6rem 0.15rem 0; text-align: left; vertical-align: top; }
      code { font-size: 12px; }
      .prompt { display: block; margin: 0.6rem 0; }
      .prompt input { width: 100%; box-sizing: border-box; }
      .loading { color: #4a5568; }
    `,
  ];

  /** Origins a model URL may come from besides the page's own (space-separated; `*` allows any). */
  @property(allowedOriginsAttribute) allowedOrigins: string[] = [];
  /** Backend preference for the engine worker: auto | webgpu | cpu. */
  @property() backend: BackendPreference = 'auto';
  /** Initial URL of a model folder to load (optional). */
  @property() src = '';

  @state() private current?: { url: string; manifest: AnyManifest; from: string; dropped?: boolean };
  @state() private error?: { name: string; message: string };
  @state() private busy = '';
  @state() private over = false;
  @state() private prompt = '';

  override firstUpdated(): void {
    if (this.src) void this.loadUrl(this.src);
  }

  private origins(): string[] | undefined {
    return this.allowedOrigins.length ? [...this.allowedOrigins] : undefined;
  }

  /** Load from the URL field (or `src`): the origin allowlist is checked before anything is fetched. */
  async loadUrl(raw: string): Promise<void> {
    const from = raw.trim();
    if (!from) return;
    await this.guard(`loading ${from}…`, async () => {
      const url = resolveModelUrl(from, document.baseURI);
      const info = await modelFor(this.backend, url, this.origins());
      return { url, manifest: info.manifest!, from };
    });
  }

  /** Load dropped or picked files (Blobs by path; manifest.json at the root). */
  async loadFiles(files: Map<string, Blob>, from: string): Promise<void> {
    await this.guard(`loading ${from}…`, async () => {
      const { url, info } = await modelFromFiles(this.backend, files);
      return { url, manifest: info.manifest!, from, dropped: true };
    });
  }

  private async guard(what: string, load: () => Promise<YourModel['current']>): Promise<void> {
    this.busy = what;
    this.error = undefined;
    try {
      const prev = this.current;
      this.current = await load();
      // a dropped model replaced by another is unloaded from the worker (a URL's may be shared with other elements)
      if (prev?.dropped && prev.url !== this.current!.url) {
        await this.updateComplete;
        await unloadModel(this.backend, prev.url);
      }
      this.dispatchEvent(
        new CustomEvent('model-loaded', {
          detail: { name: this.current!.manifest.name },
          bubbles: true,
          composed: true,
        }),
      );
    } catch (e) {
      this.error = errorDetail(e);
      this.dispatchEvent(new CustomEvent('model-error', { detail: this.error, bubbles: true, composed: true }));
    } finally {
      this.busy = '';
    }
  }

  private onPick(e: Event): void {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length) void this.loadFiles(filesByPath(files), files[0].webkitRelativePath.split('/')[0] || 'files');
  }

  private async onDrop(e: DragEvent): Promise<void> {
    e.preventDefault();
    this.over = false;
    const dt = e.dataTransfer;
    if (!dt) return;
    const out = new Map<string, Blob>();
    const entries = [...dt.items]
      .map((i) => (i.webkitGetAsEntry?.() ?? null) as unknown as Entry | null)
      .filter((x): x is Entry => !!x);
    let from = 'dropped files';
    if (entries.length === 1 && entries[0].isDirectory) {
      from = entries[0].name;
      // the folder itself is the model's root
      const reader = entries[0].createReader!();
      for (;;) {
        const batch = await new Promise<Entry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const c of batch) await entryFiles(c, '', out);
      }
    } else if (entries.length) {
      for (const en of entries) await entryFiles(en, '', out);
    } else {
      for (const [k, v] of filesByPath([...dt.files])) out.set(k, v);
    }
    if (out.size) await this.loadFiles(out, from);
  }

  private renderCard() {
    const c = this.current;
    if (!c) return nothing;
    const m = c.manifest;
    const a = m.architecture as unknown as Record<string, unknown>;
    const io = (x: unknown) =>
      x && typeof x === 'object'
        ? Object.entries(x as Record<string, string>).map(
            ([role, name]) => html`<code>${role}</code> ← <code>${name}</code> `,
          )
        : nothing;
    const tok = (m as { tokenizer?: Record<string, unknown> }).tokenizer;
    // a Hugging Face architecture (samplescope convert): its model_type and whether it is causal
    const hf =
      a.type === 'hf'
        ? ` · ${String((a.config as { model_type?: unknown }).model_type)} · ${a.causal ? 'causal' : 'bidirectional'}`
        : '';
    const sizes = ['vocab_size', 'max_len', 'n_classes', 'd_model', 'n_layers', 'image_size']
      .filter((k) => a[k] !== undefined)
      .map((k) => `${k} ${a[k]}`)
      .join(' · ');
    return html`<section class="card" aria-label="model">
      <h3>${m.name} <small>(${c.from})</small></h3>
      ${m.description ? html`<p>${m.description}</p>` : nothing}
      <table>
        <tr><th>kind</th><td>${a.type}${a.kind ? ` · ${a.kind}` : ''}${a.attention ? ` · ${a.attention}` : ''}${hf}</td></tr>
        <tr><th>sizes</th><td>${sizes}</td></tr>
        ${a.inputs ? html`<tr><th>inputs</th><td class="inputs">${io(a.inputs)}</td></tr>` : nothing}
        ${a.outputs ? html`<tr><th>outputs</th><td class="outputs">${io(a.outputs)}</td></tr>` : nothing}
        ${tok ? html`<tr><th>tokenizer</th><td>${tok.type}${tok.file ? html` · <code>${tok.file}</code>` : nothing}${tok.mask_token ? html` · mask <code>${tok.mask_token}</code>` : nothing}</td></tr>` : nothing}
        <tr><th>classes</th><td>${m.classes.join(', ') || '—'}</td></tr>
      </table>
      <table class="files">
        <tr><th>file</th><th>role</th><th>size</th><th>sha256</th></tr>
        ${m.files.map((f) => html`<tr><td><code>${f.path}</code></td><td>${f.role}</td><td>${kib(f.bytes)}</td><td><code>${f.sha256.slice(0, 12)}…</code></td></tr>`)}
      </table>
    </section>`;
  }

  protected override render() {
    const c = this.current;
    const text = c && 'tokenizer' in c.manifest;
    const maxLen = c ? ((c.manifest.architecture as { max_len?: number }).max_len ?? 64) : 64;
    return html`
      <div class="drop ${this.over ? 'over' : ''}" part="drop"
        @dragover=${(e: DragEvent) => {
          e.preventDefault();
          this.over = true;
        }}
        @dragleave=${() => (this.over = false)}
        @drop=${(e: DragEvent) => void this.onDrop(e)}>
        Drop a model folder here (manifest.json, the .onnx graph or weights, tokenizer.json) — it stays in this page.
        <div class="src">
          <label>or pick the folder <input id="folder" type="file" webkitdirectory multiple @change=${(e: Event) => this.onPick(e)} /></label>
          <label>or its files <input id="files" type="file" multiple @change=${(e: Event) => this.onPick(e)} /></label>
        </div>
      </div>
      <form class="src" @submit=${(e: Event) => {
        e.preventDefault();
        void this.loadUrl((this.renderRoot.querySelector('#url') as HTMLInputElement).value);
      }}>
        <label for="url">or a model folder URL</label>
        <input id="url" type="url" placeholder="https://…/my-model/ (allowed origins only)" />
        <button type="submit" ?disabled=${!!this.busy}>Load</button>
      </form>
      ${this.busy ? html`<p class="loading" role="status">${this.busy}</p>` : nothing}
      ${this.error ? html`<p class="error" role="alert"><strong>${this.error.name}</strong>: ${this.error.message}</p>` : nothing}
      ${this.renderCard()}
      ${
        c && text
          ? html`<label class="prompt">prompt / infill (<code>[MASK]</code> marks a position to generate)
          <input id="prompt" type="text" .value=${this.prompt} @change=${(e: Event) => (this.prompt = (e.target as HTMLInputElement).value)} /></label>`
          : nothing
      }
      ${
        c
          ? html`<sample-scope id="scope" .model=${c.url} .backend=${this.backend} .prompt=${this.prompt}
          length=${Math.min(maxLen, 64)} n="2" .allowedOrigins=${this.allowedOrigins}></sample-scope>`
          : nothing
      }
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'your-model': YourModel;
  }
}
