/**
 * What `<mam-scorer>` and `<ising-grid>` share (not an element itself): the model attributes
 * (`model` is each element's own, with its default), loading a MaM model through the page's engine
 * on first render, and the error state with its `score-error` event.
 */
import { LitElement } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { BackendInfo, BackendPreference, ModelInfo } from '../worker/protocol.js';
import { allowedOriginsAttribute, errorDetail, forget, loadMam } from './engine-host.js';

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
  /** Score what the element shows. */
  abstract score(): Promise<void>;

  /** a pass (scoring, sampling) is running */
  protected running = false;
  /** a score was asked for while one ran: it runs once more after */
  private again = false;

  /**
   * Run a scoring pass unless one is running — then score once more when it ends; a failure lands
   * in `fail`.
   */
  protected async scorePass(pass: () => Promise<void>): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await pass();
    } catch (e) {
      this.fail(e);
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        void this.score();
      }
    }
  }

  protected scoreDone(detail: unknown): void {
    this.dispatchEvent(new CustomEvent('score-done', { detail, bubbles: true, composed: true }));
  }

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

  /** Show a failure (a crashed worker's cached state is dropped) and fire `score-error`. */
  protected fail(e: unknown): void {
    forget(this.backend, e);
    this.error = errorDetail(e);
    this.state = 'error';
    this.dispatchEvent(new CustomEvent('score-error', { detail: this.error, bubbles: true, composed: true }));
  }
}
