/**
 * Any-subset autoregressive samplers for two-stream models (AS-ARM; Guo & Ermon, arXiv 2504.20456).
 *
 * - 'sequential': one pass per token in order σ, drawing x_σ(i) ~ p(· | x_σ(<i)). NFE = free positions.
 * - 'assd' (Any-Subset Speculative Decoding) with draft length k: at prefix n, one draft pass (query
 *   prefix n) gives q_j = p(x_σ(n+j) | x_σ(<n)) for j < k and drafts x̃_j ~ q_j independently; x̃_0 is
 *   exact and kept. One verify pass in σ order with the drafts filled in gives p_j = p(x_σ(n+j) |
 *   x_σ(<n+j)); for j = 1, 2, … accept x̃_j with probability min(1, p_j(x̃_j)/q_j(x̃_j)); at the first
 *   rejection draw from normalize(max(p_j − q_j, 0)) and stop; if all are accepted, draw a bonus token
 *   at n+k from the same verify pass. Each round costs 2 passes and yields ≥ 2 tokens (1 when a single
 *   position remains, for 1 pass), so NFE ≤ tokens per row (with guidance s ∉ {0, 1} every pass is two
 *   model calls: NFE ≤ 2 × tokens; at batch > 1 `nfe` counts passes over the batch, the slowest row's),
 *   and the output is distributed exactly as 'sequential' (speculative sampling, Leviathan et al.
 *   arXiv 2211.17192; Chen et al. 2302.01318).
 * σ is given per row or drawn uniformly at random for each row (then the samples follow the mixture over
 * orders); prompt positions come first in σ. Temperature, top-k/top-p define the target distribution of
 * every conditional. On the model's KV cache (the default) ASSD draws its drafts and decides every row on
 * the device (categorical + spec_verify ops); without it, it reads the logits back and decides on the host
 * in f64 (categoricalProbs). Both are exact; they use different random counters.
 * Every draw of sample i is keyed by (seed, firstSample + i, the sample's own round), never by its row or the
 * batch's step, so continuous batching (`samples` > `batch`, see BatchingOptions) gives each sample exactly as
 * its single-sample run does; `nfe` then counts passes over the slots, `rowNfe` / `rowTokens` each sample's.
 */
import { OpInputError, SamplerConfigError } from '../errors.js';
import { knobOption } from '../knobs/registry.js';
import type { Model } from '../models/model.js';
import { DRAFT_MARK } from './draft-marks.js';
import type { Tensor } from '../backend/tensor.js';
import { CachedDecoder } from './decoder.js';
import { SPEC_NONE, SPEC_RESAMPLED } from '../ops/spec_verify.js';
import { categoricalProbs } from '../ops/categorical.js';
import type { BatchingOptions, CommonOptions, SampleResult } from './common.js';
import {
  drawOptions,
  initialTokens,
  makeMaskBias,
  now,
  PositionRng,
  resolveCommon,
  SampleSlots,
  sampleResult,
  stepLogits,
} from './common.js';

export interface AsarmOptions extends CommonOptions, BatchingOptions {
  sampler: 'sequential' | 'assd';
  /** ASSD draft length k ≥ 2 (default 4) */
  draft?: number;
  /**
   * (length) or (batch, length) orders σ (permutations); default: prompt positions first, the rest uniformly shuffled
   * per row
   */
  order?: Uint32Array;
  /**
   * Decode on the model's KV cache (default: on where the model has one): sequential — one pass appends
   * the last token and predicts the next; ASSD — the draft pass appends what the last round decided and
   * the verify pass the drafts, instead of recomputing all L positions. Same law. Sequential's draws use
   * other random counters than the uncached path, so its samples differ between the two for a seed; ASSD's
   * use the same ones (equal samples unless f32 rounding of cached vs full logits splits a draw).
   */
  kvCache?: boolean;
}

export interface AsarmResult extends SampleResult {
  /** the order σ of each row (batch, length) */
  order: Uint32Array;
  /** per row: model passes that worked on it, and tokens it generated (ASSD: NFE ≤ tokens) */
  rowNfe: Uint32Array;
  rowTokens: Uint32Array;
  /** ASSD: drafted tokens proposed for verification (j ≥ 1) and accepted */
  proposed?: number;
  accepted?: number;
}

export { DRAFT_MARK } from './draft-marks.js';

function drawFrom(p: Float64Array, u: number): number {
  let c = 0;
  for (let v = 0; v < p.length; v++) {
    c += p[v];
    if (u < c) return v;
  }
  for (let v = p.length - 1; v >= 0; v--) if (p[v] > 0) return v; // u ≥ Σp by rounding
  return 0;
}

export async function sampleAsarm(model: Model, o: AsarmOptions): Promise<AsarmResult> {
  if (model.attention !== 'two-stream' && model.attention !== 'causal')
    throw new OpInputError('sampleAsarm', `model ${model.name} is not a two-stream (AS-ARM) or causal model`);
  // a causal model gives left-to-right conditionals only: sequential, σ = 0 … L−1, a prompt is a prefix
  const causal = model.attention === 'causal';
  if (causal && o.sampler !== 'sequential')
    throw new SamplerConfigError('sampler', `'sequential' for the causal model ${model.name}`, o.sampler);
  const r = resolveCommon(model, o, { batching: true });
  const { batch: B, length: L, samples: S } = r;
  const V = model.vocabSize,
    be = model.backend;
  if (o.sampler !== 'sequential' && o.sampler !== 'assd')
    throw new SamplerConfigError('sampler', "'sequential' or 'assd'", o.sampler);
  const k = o.sampler === 'assd' ? knobOption('draft', o.draft, 'asarm', 'assd', { maxLength: L }) : 1;
  const filler = model.maskId ?? 0;
  const rng = new PositionRng(r.key, 2);
  // orders of every sample: prompt positions first (their content is known), then the free ones
  const order = new Uint32Array(S * L);
  const nPrompt = new Uint32Array(S);
  for (let b = 0; b < S; b++) {
    const fixed = r.fixed.subarray(b * L, (b + 1) * L);
    let row: number[];
    if (o.order) {
      if (o.order.length !== L && o.order.length !== S * L)
        throw new SamplerConfigError('order', `a Uint32Array of length ${L} or ${S * L}`, o.order.length);
      row = Array.from(o.order.length === L ? o.order : o.order.subarray(b * L, (b + 1) * L));
      const seen = new Set(row);
      if (seen.size !== L || row.some((p) => p >= L))
        throw new SamplerConfigError('order', `a permutation of 0..${L - 1} per row`, row);
      const firstFree = row.findIndex((p) => fixed[p] < 0);
      if (firstFree >= 0 && row.slice(firstFree).some((p) => fixed[p] >= 0))
        throw new SamplerConfigError('order', 'one that puts every prompt position before the free ones', row);
    } else if (causal) {
      row = [...Array(L).keys()];
    } else {
      const free = [...Array(L).keys()].filter((p) => fixed[p] < 0);
      for (let i = free.length - 1; i > 0; i--) {
        const j = Math.floor(rng.uniform(r.firstSample + b, 1_000_000 + i) * (i + 1));
        [free[i], free[j]] = [free[j], free[i]];
      }
      row = [...[...Array(L).keys()].filter((p) => fixed[p] >= 0), ...free];
    }
    if (causal) {
      if (row.some((p, i) => p !== i))
        throw new SamplerConfigError('order', `left to right for the causal model ${model.name}`, row);
      const firstFree = row.findIndex((p) => fixed[p] < 0);
      if (firstFree >= 0 && row.slice(firstFree).some((p) => fixed[p] >= 0))
        throw new SamplerConfigError('prompt', `a prefix for the causal model ${model.name}`, 'an infill');
    }
    order.set(row, b * L);
    nPrompt[b] = row.filter((p) => fixed[p] >= 0).length;
  }
  // every sample's tokens (samples, length); the slots work on (batch, length) copies of their samples' rows
  const { tokens: samples } = initialTokens(r, filler);
  const tokens = new Uint32Array(B * L).fill(filler),
    slotOrder = Uint32Array.from({ length: B * L }, (_, i) => i % L); // an empty slot's: any permutation
  const n = new Uint32Array(B); // decided prefix length per slot
  const rowNfe = new Uint32Array(S),
    rowTokens = new Uint32Array(S);
  const slots = new SampleSlots(r, o.signal);
  const sid = slots.sid;
  const maskBias = makeMaskBias(model);
  const stepTimesMs: number[] = [];
  const knobs = { temperature: r.temperature, topK: r.topK, topP: r.topP };
  let nfe = 0,
    step = 0,
    proposed = 0,
    accepted = 0;
  const cached = knobOption('kvCache', o.kvCache, 'asarm', o.sampler) && !!model.decode;
  const owned: Tensor[] = [];
  let dec: CachedDecoder | null = null,
    assd: AssdCache | null = null;
  try {
    // per run, nothing per round: the draws' per-row random streams (host copy and tensor), the decoders
    const per = cached ? 1 : L;
    const streams = be.empty([B * per, 2], 'u32'),
      streamHost = new Uint32Array(2 * B * per);
    owned.push(streams);
    const drawn = cached ? null : be.empty([B * L], 'u32');
    if (drawn) owned.push(drawn);
    // continuous batching: a pass appends up to a joining sample's whole prompt on every row (padding rolled
    // back), so rows get that many more slots (none without prompts: attention runs over the capacity)
    const extra = S > B ? nPrompt.reduce((a, x) => Math.max(a, x), 0) : 0;
    if (cached && o.sampler === 'assd') assd = new AssdCache(model, r, maskBias, slotOrder, tokens, k, extra);
    else if (cached) dec = new CachedDecoder(model, r, maskBias, L + 1 + extra);
    const probsAt = (logits: Float32Array, b: number, pos: number) =>
      categoricalProbs(logits.subarray((b * L + pos) * V, (b * L + pos + 1) * V), knobs);
    const load = (b: number, i: number) => {
      tokens.set(samples.subarray(i * L, (i + 1) * L), b * L);
      slotOrder.set(order.subarray(i * L, (i + 1) * L), b * L);
      n[b] = nPrompt[i];
      dec?.truncate(b, 0); // the slot's cache rows start empty: the first pass appends the prompt
      assd?.keep(b, 0);
      return n[b] < L;
    };
    for (slots.refill(load); sid.some((i) => i >= 0); slots.refill(load)) {
      const t0 = now();
      const active = [...Array(B).keys()].filter((b) => sid[b] >= 0);
      const marks = o.onStep && o.sampler === 'assd' ? new Uint8Array(S * L) : undefined;
      if (dec) {
        // a slot's first pass appends its prompt and predicts its first free rank; later ones append the
        // token just drawn (empty slots: nothing, their query ignored)
        const took = (b: number) => (sid[b] < 0 ? 0 : slots.round[b] === 0 ? nPrompt[sid[b]] : 1);
        slots.writeStreams(be, streams, streamHost, 1);
        const logits = dec.appendAndQuery({
          count: took,
          first: (b) => n[b] - took(b),
          position: (b, rank) => slotOrder[b * L + rank],
          id: (b, rank) => tokens[b * L + slotOrder[b * L + rank]],
          query: (b) => slotOrder[b * L + n[b]],
        });
        nfe += dec.passesPerCall;
        const d = be.categorical(be.reshape(logits, [B, V]), { ...drawOptions(r, 0), streams });
        be.free(logits);
        const got = (await be.read(d)) as Uint32Array;
        be.free(d);
        for (const b of active) {
          tokens[b * L + slotOrder[b * L + n[b]]] = got[b];
          n[b]++;
          rowNfe[sid[b]] += dec.passesPerCall;
          rowTokens[sid[b]]++;
        }
      } else if (o.sampler === 'sequential') {
        const { logits, passes } = await stepLogits(model, tokens, r, maskBias, { order: slotOrder });
        nfe += passes;
        slots.writeStreams(be, streams, streamHost, L);
        be.categorical(be.reshape(logits, [B * L, V]), { ...drawOptions(r, 0), out: drawn!, streams });
        be.free(logits);
        const d = (await be.read(drawn!)) as Uint32Array;
        for (const b of active) {
          const pos = slotOrder[b * L + n[b]];
          tokens[b * L + pos] = d[b * L + pos];
          n[b]++;
          rowNfe[sid[b]] += passes;
          rowTokens[sid[b]]++;
        }
      } else if (assd) {
        // on the KV cache, on the device: drafts, verify and the accept/reject decided by spec_verify
        const kb = new Uint32Array(B);
        for (const b of active) kb[b] = Math.min(k, L - n[b]);
        const { out, verified } = await assd.round(n, kb, slots);
        const passes = assd.dec.passesPerCall;
        nfe += passes * (verified ? 2 : 1);
        for (const b of active) {
          const base = n[b];
          const mk = sid[b] * L;
          rowNfe[sid[b]] += passes * (kb[b] >= 2 ? 2 : 1);
          let made = 0,
            kept = 0,
            rejected = false;
          for (; made <= kb[b] && out[b * (k + 1) + made] !== SPEC_NONE; made++) {
            const t = out[b * (k + 1) + made];
            const pos = slotOrder[b * L + base + made];
            tokens[b * L + pos] = (t & ~SPEC_RESAMPLED) >>> 0;
            rejected = (t & SPEC_RESAMPLED) !== 0;
            if (!rejected && made < kb[b]) kept++;
            if (marks)
              marks[mk + pos] = rejected
                ? DRAFT_MARK.REJECTED
                : made === 0
                  ? DRAFT_MARK.EXACT
                  : made < kb[b]
                    ? DRAFT_MARK.ACCEPTED
                    : DRAFT_MARK.BONUS;
          }
          if (marks) for (let j = made; j < kb[b]; j++) marks[mk + slotOrder[b * L + base + j]] = DRAFT_MARK.DISCARDED;
          accepted += kept - 1; // x̃_0 is exact, not proposed
          proposed += kept - 1 + (rejected ? 1 : 0);
          // the cache keeps x̃_0 and the accepted drafts; a resampled or bonus token is appended next round
          assd.keep(b, base + kept);
          n[b] += made;
          rowTokens[sid[b]] += made;
        }
      } else {
        // draft pass: q_j for ranks n..n+k−1, all conditioned on the prefix only; host uniforms keyed by
        // (the sample's stream, 4·(its round·L + rank) + purpose)
        const u = (b: number, rank: number, purpose: number) =>
          rng.uniform(slots.stream(b), 4 * (slots.round[b] * L + rank) + purpose);
        const kb = new Uint32Array(B);
        for (const b of active) kb[b] = Math.min(k, L - n[b]);
        const draft = await stepLogits(model, tokens, r, maskBias, { order: slotOrder, queryPrefix: n });
        const draftPasses = draft.passes;
        const ql = (await be.read(draft.logits)) as Float32Array;
        be.free(draft.logits);
        const qAt = (b: number, j: number) => probsAt(ql, b, slotOrder[b * L + n[b] + j]);
        nfe += draftPasses;
        const q: Float64Array[][] = [];
        for (const b of active) {
          const qs: Float64Array[] = [];
          for (let j = 0; j < kb[b]; j++) {
            const pos = slotOrder[b * L + n[b] + j];
            const qj = qAt(b, j);
            qs.push(qj);
            tokens[b * L + pos] = drawFrom(qj, u(b, n[b] + j, 0));
          }
          q[b] = qs;
          rowNfe[sid[b]] += draftPasses;
        }
        const verifyRows = active.filter((b) => kb[b] >= 2);
        // p at rank n + j (j ≥ 1) from the verify pass
        let pAt: (b: number, j: number) => Float64Array = () => {
          throw new Error('no verify pass');
        };
        if (verifyRows.length) {
          const verify = await stepLogits(model, tokens, r, maskBias, { order: slotOrder });
          const pl = (await be.read(verify.logits)) as Float32Array;
          be.free(verify.logits);
          pAt = (b, j) => probsAt(pl, b, slotOrder[b * L + n[b] + j]);
          nfe += verify.passes;
          for (const b of verifyRows) rowNfe[sid[b]] += verify.passes;
        }
        for (const b of active) {
          const base = n[b];
          const mk = sid[b] * L;
          let made = 1; // x̃_0 is an exact draw
          let rejected = false;
          if (marks) marks[mk + slotOrder[b * L + base]] = DRAFT_MARK.EXACT;
          for (let j = 1; j < kb[b]; j++) {
            const pos = slotOrder[b * L + base + j];
            const p = pAt(b, j);
            const x = tokens[b * L + pos];
            proposed++;
            const ratio = q[b][j][x] > 0 ? p[x] / q[b][j][x] : 0;
            if (u(b, base + j, 1) < Math.min(1, ratio)) {
              accepted++;
              made++;
              if (marks) marks[mk + pos] = DRAFT_MARK.ACCEPTED;
              continue;
            }
            const res = new Float64Array(V);
            let z = 0;
            for (let v = 0; v < V; v++) z += res[v] = Math.max(p[v] - q[b][j][v], 0);
            for (let v = 0; v < V; v++) res[v] /= z;
            tokens[b * L + pos] = drawFrom(res, u(b, base + j, 2));
            if (marks) marks[mk + pos] = DRAFT_MARK.REJECTED;
            made++;
            rejected = true;
            break;
          }
          if (!rejected && kb[b] >= 2 && base + kb[b] < L) {
            // all drafts accepted: a bonus token from the verify pass
            const pos = slotOrder[b * L + base + kb[b]];
            tokens[b * L + pos] = drawFrom(pAt(b, kb[b]), u(b, base + kb[b], 3));
            if (marks) marks[mk + pos] = DRAFT_MARK.BONUS;
            made++;
          }
          // positions drafted beyond the stopping point go back to the filler (not decided)
          for (let j = made; j < kb[b]; j++) {
            tokens[b * L + slotOrder[b * L + base + j]] = filler;
            if (marks) marks[mk + slotOrder[b * L + base + j]] = DRAFT_MARK.DISCARDED;
          }
          n[b] += made;
          rowTokens[sid[b]] += made;
        }
      }
      slots.advance();
      // a complete sample leaves its slot (the next pending one takes it at the top of the loop)
      for (const b of active) {
        if (n[b] < L) continue;
        samples.set(tokens.subarray(b * L, (b + 1) * L), sid[b] * L);
        slots.release(b);
      }
      step++;
      stepTimesMs.push(now() - t0);
      if (o.onStep) o.onStep({ step, nfe, tokens: slots.view(samples, tokens, L), drafts: marks });
    }
  } finally {
    assd?.dispose();
    dec?.dispose();
    for (const t of owned) be.free(t);
    if (maskBias) be.free(maskBias);
  }
  return {
    ...sampleResult(
      r,
      { samples, nfe, stepTimesMs, backend: be.name },
      { sampler: o.sampler, draft: o.sampler === 'assd' ? k : undefined, kvCache: cached },
    ),
    order,
    rowNfe,
    rowTokens,
    proposed: o.sampler === 'assd' ? proposed : undefined,
    accepted: o.sampler === 'assd' ? accepted : undefined,
  };
}

/**
 * ASSD on a KV cache, decided on the device: the draft pass appends only what the last round decided and
 * queries ranks n..n+k−1 (all seeing the prefix n); the categorical op draws x̃_0..x̃_{k−1} from it; the
 * verify pass appends the drafts as drawn (no readback) and queries ranks n+1..n+k; spec_verify decides
 * every row from one logits tensor [q_0, p_1..p_k, q_0..q_{k−1}] — x̃_0 against p_0 = q_0 always stays,
 * as ASSD's exact first draft — so a round reads back k + 1 ints per row. A rejection rolls the cache
 * back to the accepted prefix (`keep`).
 */
class AssdCache {
  readonly dec: CachedDecoder;
  private readonly B: number;
  private readonly L: number;
  private readonly V: number;
  private readonly owned: Tensor[] = [];
  private readonly LQ: Tensor;
  private readonly counts: Tensor;
  /** (B) offsets 0, 1 and k + 1 for kv_write into LQ */
  private readonly off: Tensor[];
  /** the draws' per-row random streams: drafts (B·k, 2), verify (B, 2), and their host copy */
  private readonly draftStreams: Tensor;
  private readonly verifyStreams: Tensor;
  private readonly streamHost: Uint32Array;

  constructor(
    model: Model,
    private readonly r: ReturnType<typeof resolveCommon>,
    maskBias: Tensor | null,
    private readonly order: Uint32Array,
    private readonly tokens: Uint32Array,
    private readonly k: number,
    headroom: number,
  ) {
    this.B = r.batch;
    this.L = r.length;
    this.V = model.vocabSize;
    this.dec = new CachedDecoder(model, r, maskBias, r.length + k + 2 + headroom);
    const be = model.backend;
    this.LQ = be.empty([this.B, 2 * k + 1, this.V]);
    this.counts = be.empty([this.B, 2], 'u32');
    this.off = [0, 1, k + 1].map((i) => be.tensor(new Uint32Array(this.B).fill(i), [this.B]));
    this.draftStreams = be.empty([this.B * k, 2], 'u32');
    this.verifyStreams = be.empty([this.B, 2], 'u32');
    this.streamHost = new Uint32Array(2 * this.B * (k + 1));
    this.owned.push(this.LQ, this.counts, ...this.off, this.draftStreams, this.verifyStreams);
  }

  private pos(b: number, rank: number): number {
    return rank < this.L ? this.order[b * this.L + rank] : 0; // 0: padding, never seen
  }

  /** One decode pass: each row appends `count(b)` tokens from rank first(b) and makes k queries. */
  private pass(
    count: (b: number) => number,
    first: (b: number) => number,
    query: (b: number, j: number) => [rank: number, seen: number] | null,
    given?: Tensor,
  ): Tensor {
    const { B, k } = this;
    const counts = Uint32Array.from({ length: B }, (_, b) => count(b));
    const m = given ? k : Math.max(0, ...counts);
    const tok = new Uint32Array(given ? 0 : B * m).fill(this.dec.model.maskId ?? 0),
      pos = new Uint32Array(B * m),
      qpos = new Uint32Array(B * k),
      vis = new Uint32Array(B * k);
    const len = this.dec.lengths();
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < counts[b]; i++) {
        pos[b * m + i] = this.pos(b, first(b) + i);
        if (!given) tok[b * m + i] = this.tokens[b * this.L + pos[b * m + i]];
      }
      for (let j = 0; j < k; j++) {
        const qj = query(b, j);
        if (qj) [qpos[b * k + j], vis[b * k + j]] = [this.pos(b, qj[0]), qj[1]];
      }
    }
    const t = this.dec.decode({ tokens: given ?? tok, positions: pos, m, queries: qpos, q: k, visible: vis });
    for (let b = 0; b < B; b++) this.dec.truncate(b, len[b] + counts[b]);
    return t;
  }

  /** One round for the rows with kb[b] > 0 drafts at ranks n[b]…: decided tokens (B, k + 1) as spec_verify gives. */
  async round(n: Uint32Array, kb: Uint32Array, slots: SampleSlots): Promise<{ out: Uint32Array; verified: boolean }> {
    const { B, k, L, r } = this;
    const be = this.dec.model.backend;
    // each row's random streams: its sample's (drafts: row j of its k; verify: its own), its round
    slots.writeStreams(be, this.draftStreams, this.streamHost.subarray(0, 2 * B * k), k);
    slots.writeStreams(be, this.verifyStreams, this.streamHost.subarray(2 * B * k), 1);
    const len = this.dec.lengths();
    const ql = this.pass(
      (b) => (kb[b] ? n[b] - len[b] : 0),
      (b) => len[b],
      (b, j) => (j < kb[b] ? [n[b] + j, n[b]] : null),
    );
    const knobs = { temperature: r.temperature, topK: r.topK, topP: r.topP };
    const drafts = be.categorical(be.reshape(ql, [B * k, this.V]), {
      ...knobs,
      seed: r.seed,
      counter: 2 ** 32 * ASSD_DRAWS, // the low word is each row's round (its stream)
      streams: this.draftStreams,
    });
    be.kvWrite(this.LQ, ql, this.off[0]); // rows 0..k−1: q_0 stands in for p_0 (x̃_0 is exact)
    be.kvWrite(this.LQ, ql, this.off[2]); // rows k+1..2k: q_0..q_{k−1}
    be.free(ql);
    const verified = kb.some((x) => x >= 2);
    if (verified) {
      const pl = this.pass(
        (b) => (kb[b] >= 2 ? kb[b] : 0),
        (b) => n[b],
        (b, j) => (kb[b] >= 2 && j < kb[b] && n[b] + 1 + j < L ? [n[b] + 1 + j, n[b] + 1 + j] : null),
        be.reshape(drafts, [B, k]),
      );
      be.kvWrite(this.LQ, pl, this.off[1]); // rows 1..k: p_1..p_k
      be.free(pl);
    }
    const cnt = new Uint32Array(2 * B);
    for (let b = 0; b < B; b++) {
      cnt[2 * b] = kb[b];
      cnt[2 * b + 1] = kb[b] >= 2 && n[b] + kb[b] < L ? 1 : 0;
    }
    be.write(this.counts, cnt);
    const verdict = be.specVerify(this.LQ, be.reshape(drafts, [B, k]), this.counts, {
      ...knobs,
      seed: r.seed,
      counter: 0, // each row's round (its stream)
      streams: this.verifyStreams,
    });
    try {
      return { out: (await be.read(verdict)) as Uint32Array, verified };
    } finally {
      be.free(verdict);
      be.free(drafts);
    }
  }

  /** After a row's round: its cache keeps ranks < `upTo` (never more than it holds). */
  keep(b: number, upTo: number): void {
    this.dec.truncate(b, Math.min(upTo, this.dec.lengths()[b]));
  }

  dispose(): void {
    this.dec.dispose();
    for (const t of this.owned) this.dec.model.backend.free(t);
  }
}

/** The categorical op's counter space for ASSD's device draft draws (spec_verify's second words stay small). */
const ASSD_DRAWS = 2 ** 20;
