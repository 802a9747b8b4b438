/**
 * What `<mam-scorer>` and `<ising-grid>` share (not an element itself): the model attributes
 * (`model` is each element's own, with its default), loading a MaM model through the page's engine
 * on first render, and the error state with its `score-error` event.
 */
import { LitElement } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { BackendInfo, BackendPreference, ModelInfo } from '../worker/protocol.js';
import { allowedOriginsAttribute, errorDetail, loadMam } from './engine-host.js';

export abstract class MamElement extends LitElement {
  /** A MaM model: a name under `models-base` or a model folder URL. */
  abstract model: string;
  /** (read-only) the element's state; 'error' after a failure */
  abstract state: string;
  /** Where model names are looked up. */
  @property({ attribute: 'models-base' }) modelsBase = '/models/';
  /** Origins models may be loaded from besides the page's own (see `allowedOriginsAttribute`). */
  @property(allowedOriginsAttribute)
  allowedOrigins: string[] = [];
  /** Backend preference: auto | webgpu | cpu. */
  @property() backend: BackendPreference = 'auto';

  @state() protected info?: ModelInfo;
  @state() protected backendInfo?: BackendInfo;
  @state() protected error?: { name: string; message: string };

  /** the tag, for messages ("<mam-scorer> needs a MaM model") */
  protected abstract readonly tag: string;
  /** The model is loaded (`info`, `backendInfo` set): start scoring. A throw lands in `fail`. */
  protected abstract loaded(info: ModelInfo): void;

  protected override firstUpdated(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const { backend, info } = await loadMam(this.backend, this.model, this.modelsBase, this.tag, this.allowedOrigins);
      this.backendInfo = backend;
      this.loaded(info);
    } catch (e) {
      this.fail(e);
    }
  }

  protected fail(e: unknown): void {
    this.error = errorDetail(e);
    this.state = 'error';
    this.dispatchEvent(new CustomEvent('score-error', { detail: this.error, bubbles: true, composed: true }));
  }
}
