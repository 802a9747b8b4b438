/**
 * Text ↔ token ids for text models, in one place: the manifest's `tokenizer` says which kind.
 *
 *   char  one id per character of `tokenizer.vocab` (our models; "[MASK]" is the last entry)
 *   hf    a Hugging Face `tokenizer.json` (BPE, WordPiece, Unigram, with their normalizers,
 *         pre-tokenizers and decoders) run by @huggingface/tokenizers (pure JS, imported on first use);
 *         the file is listed in the manifest with role "tokenizer" and sha256-checked like every file
 *
 * Both implement `TextTokenizer`. Decoding shows masked positions as a glyph and handles partial words
 * (a WordPiece "##ing" after a masked position, a BPE token that is half a word): the text of position
 * i is what decoding the first i + 1 ids adds to decoding the first i, with the mask token decoded as
 * itself and then replaced by the glyph — so every position has its own (possibly empty) piece and the
 * pieces read as the decoded text.
 *
 * A `TokenizerSpec` is the serialisable form (it crosses the worker boundary in ModelInfo); the page
 * rebuilds the same tokenizer from it with `tokenizerFromSpec`. A leaf module (it imports only errors
 * and types; the protocol re-exports it for the elements); the loader that reads the file is
 * `loadTextTokenizer` in load.ts.
 */
import { ModelFormatError, OpInputError } from '../errors.js';
import type { HfTokenizerManifest, TextManifest } from './manifest.js';

/** What the UI needs to rebuild a model's tokenizer (ModelInfo.tokenizer). */
export type TokenizerSpec =
  | { type: 'char'; vocab: string[]; maskId?: number }
  | { type: 'hf'; json: unknown; maskId?: number; maskToken?: string; cleanUpSpaces?: boolean };

export interface TextTokenizer {
  /** ids the tokenizer can produce are in [0, vocabSize) */
  readonly vocabSize: number;
  readonly maskId: number | undefined;
  /** the mask token's text ("[MASK]"): in a prompt it marks a position to generate */
  readonly maskToken: string | undefined;
  /** text → ids, no special tokens added; the mask token's text becomes maskId */
  encode(text: string): number[];
  /** ids → text, masked positions as `mask` (default "_") */
  decode(ids: ArrayLike<number>, mask?: string): string;
  /** each position's text (masked positions as `mask`, default "·"); joined, they read as `decode` */
  pieces(ids: ArrayLike<number>, mask?: string): string[];
  /** each id's token string (the vocabulary as the tokenizer names it) */
  tokenStrings(): string[];
  readonly spec: TokenizerSpec;
}

export class CharTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly maskToken: string | undefined;
  private readonly index = new Map<string, number>();

  constructor(
    readonly vocab: string[],
    readonly maskId: number | undefined,
  ) {
    this.vocabSize = vocab.length;
    this.maskToken = maskId !== undefined ? vocab[maskId] : undefined;
    vocab.forEach((c, i) => this.index.set(c, i));
  }

  get spec(): TokenizerSpec {
    return { type: 'char', vocab: this.vocab, maskId: this.maskId };
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < text.length;) {
      if (this.maskToken && this.maskId !== undefined && text.startsWith(this.maskToken, i)) {
        out.push(this.maskId);
        i += this.maskToken.length;
        continue;
      }
      const id = this.index.get(text[i]);
      if (id === undefined)
        throw new OpInputError(
          'tokenize',
          `character ${JSON.stringify(text[i])} (position ${i}) is not in the vocabulary`,
        );
      out.push(id);
      i++;
    }
    return out;
  }

  decode(ids: ArrayLike<number>, mask = '_'): string {
    return this.pieces(ids, mask).join('');
  }

  pieces(ids: ArrayLike<number>, mask = '·'): string[] {
    return Array.from(ids, (t) => (t === this.maskId ? mask : (this.vocab[t] ?? '\ufffd')));
  }

  tokenStrings(): string[] {
    return this.vocab;
  }
}

/** The part of @huggingface/tokenizers' Tokenizer this module uses. */
interface HfLib {
  encode(text: string, o: { add_special_tokens: boolean }): { ids: number[] };
  decode(ids: number[], o: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  token_to_id(t: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAdded: boolean): Map<string, number>;
}

export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;

  private constructor(
    private readonly tk: HfLib,
    private readonly json: unknown,
    readonly maskId: number | undefined,
    readonly maskToken: string | undefined,
    private readonly cleanUp: boolean,
  ) {
    let n = 0;
    for (const id of tk.get_vocab(true).values()) n = Math.max(n, id + 1);
    this.vocabSize = n;
  }

  /**
   * Parse a tokenizer.json (already parsed JSON) with @huggingface/tokenizers. `file` names it in errors.
   * Special tokens are checked by the caller (`checkSpecialTokens`).
   */
  static async create(json: unknown, file: string, maskToken?: string, cleanUpSpaces = false): Promise<HfTokenizer> {
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new ModelFormatError('tokenizer-json', 'is not a JSON object', undefined, file);
    const model = (json as { model?: { type?: unknown } }).model;
    if (!model || !['BPE', 'WordPiece', 'Unigram'].includes(model.type as string))
      throw new ModelFormatError(
        'tokenizer-model',
        `model.type must be "BPE", "WordPiece" or "Unigram", got ${JSON.stringify(model?.type)}`,
        undefined,
        file,
      );
    const { Tokenizer } = await import('@huggingface/tokenizers');
    let tk: HfLib;
    try {
      tk = new Tokenizer(json, {}) as unknown as HfLib;
      tk.encode('a', { add_special_tokens: false }); // a config that constructs but cannot run fails here
    } catch (e) {
      throw new ModelFormatError('tokenizer-json', `not a tokenizer.json: ${(e as Error).message}`, undefined, file);
    }
    const maskId = maskToken !== undefined ? tk.token_to_id(maskToken) : undefined;
    return new HfTokenizer(tk, json, maskId, maskToken, cleanUpSpaces);
  }

  get spec(): TokenizerSpec {
    return {
      type: 'hf',
      json: this.json,
      maskId: this.maskId,
      maskToken: this.maskToken,
      cleanUpSpaces: this.cleanUp,
    };
  }

  encode(text: string): number[] {
    return this.tk.encode(text, { add_special_tokens: false }).ids;
  }

  private dec(ids: number[]): string {
    return this.tk.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: this.cleanUp });
  }

  decode(ids: ArrayLike<number>, mask = '_'): string {
    return this.pieces(ids, mask).join('');
  }

  pieces(ids: ArrayLike<number>, mask = '·'): string[] {
    const all = Array.from(ids);
    const out: string[] = [];
    let prev = '';
    for (let i = 0; i < all.length; i++) {
      const cur = this.dec(all.slice(0, i + 1));
      // what this position adds; where a decoder rewrites earlier text (a partial UTF-8 sequence
      // completed), the change is attributed to this position
      let k = 0;
      while (k < prev.length && k < cur.length && prev[k] === cur[k]) k++;
      let piece = cur.slice(k);
      if (k < prev.length) out[out.length - 1] = (out[out.length - 1] ?? '').slice(0, k - prev.length);
      if (all[i] === this.maskId && this.maskToken) piece = piece.replace(this.maskToken, mask);
      out.push(piece);
      prev = cur;
    }
    return out;
  }

  tokenStrings(): string[] {
    return Array.from({ length: this.vocabSize }, (_, i) => this.tk.id_to_token(i) ?? '');
  }

  /** the id of a token's text, or undefined */
  idOf(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }
}

/**
 * The tokenizer of a manifest whose hf tokenizer file's bytes are `bytes`: parsed, its special tokens
 * checked against the manifest (each must be a token; mask_id, if given, must be the mask token's id),
 * every id below the model's `vocabSize`. Errors are ModelFormatErrors naming `file` and the rule.
 */
export async function parseHfTokenizer(
  spec: HfTokenizerManifest,
  bytes: Uint8Array,
  vocabSize: number,
): Promise<HfTokenizer> {
  const file = spec.file;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelFormatError('tokenizer-json', `does not parse as JSON: ${(e as Error).message}`, undefined, file);
  }
  const tok = await HfTokenizer.create(json, file, spec.mask_token, spec.clean_up_tokenization_spaces ?? false);
  for (const [field, t] of [
    ['mask_token', spec.mask_token],
    ['pad_token', spec.pad_token],
    ...(spec.special_tokens ?? []).map((s): [string, string] => ['special_tokens', s]),
  ] as [string, string | undefined][]) {
    if (t !== undefined && tok.idOf(t) === undefined)
      throw new ModelFormatError(
        'tokenizer-special',
        `the manifest's tokenizer.${field} ${JSON.stringify(t)} is not a token of this tokenizer`,
        undefined,
        file,
      );
  }
  if (spec.mask_id !== undefined && spec.mask_id !== tok.maskId)
    throw new ModelFormatError(
      'tokenizer-special',
      `the manifest's tokenizer.mask_id ${spec.mask_id} is not the id of ${JSON.stringify(spec.mask_token)} (${tok.maskId})`,
      undefined,
      file,
    );
  if (tok.vocabSize > vocabSize)
    throw new ModelFormatError(
      'tokenizer-vocab',
      `the tokenizer has ids up to ${tok.vocabSize - 1}; the model's vocab_size is ${vocabSize}`,
      undefined,
      file,
    );
  return tok;
}

/** Rebuild a tokenizer from its spec (ModelInfo.tokenizer) — in the page, from what the worker sent. */
export async function tokenizerFromSpec(spec: TokenizerSpec): Promise<TextTokenizer> {
  if (spec.type === 'char') return new CharTokenizer(spec.vocab, spec.maskId);
  return HfTokenizer.create(spec.json, 'tokenizer.json', spec.maskToken, spec.cleanUpSpaces);
}

/**
 * A prompt or infill text → the samplers' prompt: ids where the text fixes a token, −1 where it is
 * free — each mask token in the text ("[MASK]") and every position after the text. A text longer
 * than `length` tokens is an OpInputError.
 */
export function encodePrompt(tok: TextTokenizer, text: string, length: number): Int32Array {
  const ids = tok.encode(text);
  if (ids.length > length)
    throw new OpInputError('prompt', `the prompt is ${ids.length} tokens, more than the length ${length}`);
  const out = new Int32Array(length).fill(-1);
  ids.forEach((t, i) => (out[i] = t === tok.maskId ? -1 : t));
  return out;
}

/** A text model's tokenizer: the one its loader set, else its manifest's character vocabulary. */
export function tokenizerOf(m: { manifest: TextManifest; tokenizer?: TextTokenizer }): TextTokenizer {
  if (m.tokenizer) return m.tokenizer;
  const t = m.manifest.tokenizer;
  if (t.type !== 'char')
    throw new OpInputError('tokenizer', `${m.manifest.name}'s hf tokenizer was not loaded (load it with loadModel)`);
  return new CharTokenizer(t.vocab, t.mask_id);
}
