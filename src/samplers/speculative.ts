/**
 * Speculative decoding (Leviathan et al. arXiv 2211.17192; Chen et al. arXiv 2302.01318) for two-stream
 * models decoded in a fixed order σ (prompt positions first, then the free positions left to right —
 * plain left-to-right generation when the prompt is a prefix), on KV caches.
 *
 * Each round, per row with d tokens decided: the draft proposes x̃_0 … x̃_{k−1} one cached pass each
 * (q_j = draft(· | x_σ(<d), x̃_<j)); the target verifies them in ONE cached pass that appends the
 * drafts and queries ranks d … d + k (p_j = target(· | x_σ(<d), x̃_<j)). For j = 0, 1, …: accept x̃_j
 * with probability min(1, p_j(x̃_j)/q_j(x̃_j)); at the first rejection draw from
 * normalize(max(p_j − q_j, 0)) and stop; if all k are accepted, draw a bonus token from p_k. The joint
 * law of the output is the target's sequential law exactly, under temperature, top-k/top-p (applied to
 * both p and q: the target law is the truncated one) and guidance (both models guided with the same s).
 * A rejection rolls both caches back in O(1) (`truncate`); nothing is recomputed.
 *
 * Draft: another model with the target's vocabulary, tokenizer and classes on the same backend (e.g.
 * text-asarm-draft, distilled from text-asarm), or the target itself with only its first `layers`
 * blocks (self-speculation).
 *
 * Everything stays on the device until a round is decided: the draft's tokens are drawn by the
 * categorical op and fed to its next pass as a tensor, its logits and the target's are gathered by
 * kv_write into one (B, 2k + 1, V) tensor, and the spec_verify op runs the accept/reject and the
 * residual or bonus draw for every row; only its k + 1 ints per row are read back (plus, once, the
 * first token of rows without a prompt). On the CPU backend the same ops run as their twins.
 */
import { tokenizerOf } from '../models/tokenizer.js';
import type { Tensor } from '../backend/tensor.js';
import { OpInputError, SamplerConfigError } from '../errors.js';
import { knobOption } from '../knobs/registry.js';
import type { TransformerArchitecture } from '../models/manifest.js';
import type { Model } from '../models/model.js';
import {
  initialTokens,
  knobsOf,
  makeMaskBias,
  now,
  resolveCommon,
  type CommonOptions,
  type SampleResult,
  type SamplerCheckpoint,
} from './common.js';
import { CachedDecoder } from './decoder.js';
import { DRAFT_MARK } from './draft-marks.js';
import { SPEC_NONE, SPEC_RESAMPLED } from '../ops/spec_verify.js';

export interface SpeculativeOptions extends CommonOptions {
  /** the draft: another model (same vocabulary, tokenizer, classes, backend) or the target's first `layers` blocks */
  draftModel: Model | { layers: number };
  /** tokens drafted per round, k ≥ 1 (default 4); with `adaptiveDraft`, the most per round */
  draft?: number;
  /** adapt the draft length to the acceptance: +2 after a round with every draft kept, −1 otherwise, in [1, k] */
  adaptiveDraft?: boolean;
  /** continue from a completed round's checkpoint (`StepProgress.checkpoint`): the samples of an unbroken run */
  resume?: SamplerCheckpoint;
  /**
   * @internal A deliberately wrong variant for the statistical tests: on rejection draw from p_j instead
   * of the residual. Never use it to sample.
   */
  unsafeSkipResidual?: boolean;
}

export interface SpeculativeResult extends SampleResult {
  /** the order σ of each row (batch, length) */
  order: Uint32Array;
  /** target passes per row (the verify passes that worked on it, with the prefill), and tokens it generated */
  rowNfe: Uint32Array;
  rowTokens: Uint32Array;
  /** draft passes over the batch (`nfe` counts the target's) */
  draftNfe: number;
  rounds: number;
  /** drafted tokens verified, and accepted */
  proposed: number;
  accepted: number;
}

/**
 * The categorical op's counter space for this sampler's device draws: (round, DRAW_SPACE + i) for the
 * draft's i-th token, FIRST_DRAW for a row's first token; spec_verify's words use (round, 4j + purpose)
 * with small second words, so the two never share random bits.
 */
const DRAW_SPACE = 2 ** 20;
const FIRST_DRAW = 2 ** 19;

function checkDraft(target: Model, o: SpeculativeOptions, L: number): { model: Model; layers?: number } {
  const d = o.draftModel as Model | { layers: number } | undefined;
  if (!d || typeof d !== 'object')
    throw new SamplerConfigError('draftModel', 'a draft model or { layers } of the target', d);
  if ('layers' in d && !('forward' in d)) {
    const n = (target.manifest.architecture as TransformerArchitecture).n_layers;
    if (!Number.isInteger(d.layers) || d.layers < 1 || d.layers > n)
      throw new SamplerConfigError('draftModel', `{ layers } in [1, ${n}] (the target's first blocks)`, d.layers);
    return { model: target, layers: d.layers };
  }
  const m = d as Model;
  if (m.backend !== target.backend)
    throw new SamplerConfigError('draftModel', `a model on the target's backend (${target.backend.name})`, m.name);
  if (m.attention !== 'two-stream' || !m.decode)
    throw new SamplerConfigError('draftModel', 'a two-stream model with incremental decoding', m.name);
  const tv = JSON.stringify(tokenizerOf(target).tokenStrings()),
    dv = JSON.stringify(tokenizerOf(m).tokenStrings());
  if (m.vocabSize !== target.vocabSize || tv !== dv || m.maskId !== target.maskId)
    throw new SamplerConfigError('draftModel', `a model with ${target.name}'s vocabulary and tokenizer`, m.name);
  if (m.numClasses !== target.numClasses || m.nullClass !== target.nullClass)
    throw new SamplerConfigError('draftModel', `a model with ${target.name}'s classes`, m.name);
  if (m.maxLength < L) throw new SamplerConfigError('draftModel', `a model that takes length ${L}`, m.name);
  return { model: m };
}

export async function sampleSpeculative(target: Model, o: SpeculativeOptions): Promise<SpeculativeResult> {
  if (target.attention !== 'two-stream' || !target.decode)
    throw new OpInputError('sampleSpeculative', `model ${target.name} is not a two-stream model with a KV cache`);
  const r = resolveCommon(target, o);
  const { batch: B, length: L } = r;
  const draft = checkDraft(target, o, L);
  const k = knobOption('draft', o.draft, 'asarm', 'speculative', { maxLength: L });
  const adaptive = knobOption('adaptiveDraft', o.adaptiveDraft, 'asarm', 'speculative');
  const kNow = new Uint32Array(B).fill(k); // each row's draft length next round (k unless adaptive)
  const V = target.vocabSize,
    be = target.backend;
  const filler = target.maskId ?? 0;
  // σ: prompt positions first, then the free ones left to right
  const order = new Uint32Array(B * L);
  const dec = new Uint32Array(B); // decided ranks per row
  for (let b = 0; b < B; b++) {
    const fixed = r.fixed.subarray(b * L, (b + 1) * L);
    const pos = [...Array(L).keys()];
    const row = [...pos.filter((p) => fixed[p] >= 0), ...pos.filter((p) => fixed[p] < 0)];
    order.set(row, b * L);
    dec[b] = row.filter((p) => fixed[p] >= 0).length;
  }
  const { tokens } = initialTokens(r, filler);
  const at = (b: number, rank: number) => tokens[b * L + order[b * L + rank]];
  const posOf = (b: number, rank: number) => (rank < L ? order[b * L + rank] : 0); // 0: padding, never seen
  const maskBias = makeMaskBias(target);
  const cap = L + k + 1;
  let tgt: CachedDecoder | null = null,
    dft: CachedDecoder | null = null;
  const rowNfe = new Uint32Array(B),
    rowTokens = new Uint32Array(B);
  const stepTimesMs: number[] = [];
  const owned: Tensor[] = [];
  let nfe = 0,
    draftNfe = 0,
    rounds = 0,
    proposed = 0,
    accepted = 0;
  try {
    tgt = new CachedDecoder(target, r, maskBias, cap);
    dft = new CachedDecoder(draft.model, r, maskBias, cap, draft.layers);
    // per run, nothing per round: the logits the verify op reads (p_0..p_k, then q_0..q_{k−1}), the drafts,
    // the verify pass's tokens, the op's counts and one (B) offsets tensor per slot index
    const LQ = be.empty([B, 2 * k + 1, V]);
    const draftsT = be.empty([B, k, 1], 'u32'),
      verifyTok = be.empty([B, k + 1, 1], 'u32'),
      counts = be.empty([B, 2], 'u32');
    const off = Array.from({ length: 2 * k + 1 }, (_, i) => be.tensor(new Uint32Array(B).fill(i), [B]));
    owned.push(LQ, draftsT, verifyTok, counts, ...off);
    be.write(draftsT, new Uint32Array(B * k)); // defined ids in the slots a short round leaves stale
    const draw = (logits: Tensor, i: number) =>
      be.categorical(be.reshape(logits, [B, V]), {
        seed: r.seed,
        counter: rounds + 2 ** 32 * (DRAW_SPACE + i),
        temperature: r.temperature,
        topK: r.topK,
        topP: r.topP,
      });
    // decided ranks not yet in the draft's cache (2 after a round that accepted every draft)
    const dPend = new Uint32Array(B).fill(1);
    const rs = o.resume;
    if (rs) {
      // a checkpoint after a round: its tokens and counters; the caches are refilled from the tokens below
      const x = rs.extra ?? {};
      const arr = (name: string) => {
        const v = x[name];
        if (!Array.isArray(v) || v.length !== B)
          throw new SamplerConfigError('resume', `a speculative checkpoint of this request (extra.${name})`, v);
        return v;
      };
      if (rs.sampler !== 'speculative' || !(rs.tokens instanceof Uint32Array) || rs.tokens.length !== B * L)
        throw new SamplerConfigError('resume', `a speculative checkpoint of ${B} × ${L} tokens`, rs.sampler);
      tokens.set(rs.tokens);
      dec.set(arr('dec'));
      dPend.set(arr('dPend'));
      rowNfe.set(arr('rowNfe'));
      rowTokens.set(arr('rowTokens'));
      nfe = rs.nfe;
      rounds = rs.next - 1;
      draftNfe = Number(x.draftNfe);
      kNow.set(arr('kNow'));
      proposed = Number(x.proposed);
      accepted = Number(x.accepted);
    }
    // prefill: the target's cache takes every decided rank but the last, the draft's all but its pending
    // ones; rows with nothing decided draw rank 0 from the target's pass
    const t0 = now();
    const tKeep = Uint32Array.from(dec, (d) => Math.max(d - 1, 0)),
      dKeep = Uint32Array.from(dec, (d, b) => Math.max(d - dPend[b], 0));
    const empty = [...Array(B).keys()].filter((b) => dec[b] === 0);
    const q0 = new Uint32Array(B),
      vis0 = new Uint32Array(B);
    for (let b = 0; b < B; b++) q0[b] = posOf(b, dec[b] === 0 ? 0 : L);
    const fill = (keep: Uint32Array) => {
      const m = Math.max(0, ...keep);
      const tok = new Uint32Array(B * m).fill(filler),
        pos = new Uint32Array(B * m);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < keep[b]; i++) {
          tok[b * m + i] = at(b, i);
          pos[b * m + i] = posOf(b, i);
        }
      return { tokens: tok, positions: pos, m, queries: q0, q: 1, visible: vis0 };
    };
    const tIn = fill(tKeep),
      dIn = fill(dKeep);
    if (tIn.m > 0 || empty.length) {
      const l0 = tgt.decode(tIn);
      nfe += tgt.passesPerCall;
      for (let b = 0; b < B; b++) if (dec[b] < L) rowNfe[b] += tgt.passesPerCall;
      const first = draw(l0, FIRST_DRAW);
      be.free(l0);
      const got = (await be.read(first)) as Uint32Array;
      be.free(first);
      for (const b of empty) {
        tokens[b * L + order[b * L]] = got[b];
        dec[b] = 1;
        rowTokens[b] = 1;
      }
    }
    if (dIn.m > 0) {
      be.free(dft.decode(dIn));
      draftNfe += dft.passesPerCall;
    }
    for (let b = 0; b < B; b++) {
      tgt.truncate(b, tKeep[b]);
      dft.truncate(b, dKeep[b]);
    }
    stepTimesMs.push(now() - t0);
    while (dec.some((d) => d < L)) {
      const t1 = now();
      rounds++;
      const kb = Uint32Array.from(dec, (d, b) => (d < L ? Math.min(kNow[b], L - d) : 0));
      const K = Math.max(...kb);
      // draft: K cached passes, one token each, drawn on the device and fed to the next pass as is
      let prev: Tensor | null = null;
      for (let i = 0; i < K; i++) {
        // the first pass appends the row's pending decided tokens (host ids), later ones the last draw
        const pass = {
          count: (b: number) => (i >= kb[b] ? 0 : i === 0 ? dPend[b] : 1),
          first: (b: number) => (i === 0 ? dec[b] - dPend[b] : dec[b] + i - 1),
          position: posOf,
          query: (b: number) => posOf(b, dec[b] + i),
        };
        const ql = dft.appendAndQuery(prev ? { ...pass, given: prev, m: 1 } : { ...pass, id: at });
        draftNfe += dft.passesPerCall;
        if (prev) be.free(prev);
        prev = draw(ql, i);
        be.kvWrite(LQ, ql, off[k + 1 + i]);
        be.kvWrite(draftsT, be.reshape(prev, [B, 1, 1]), off[i]);
        be.free(ql);
      }
      if (prev) be.free(prev);
      // verify: one target pass appends the pending token and the k drafts, queries ranks d … d + k
      const m = k + 1;
      const head = new Uint32Array(B * m).fill(filler),
        pos = new Uint32Array(B * m),
        qpos = new Uint32Array(B * m),
        vis = new Uint32Array(B * m),
        cnt = new Uint32Array(2 * B);
      for (let b = 0; b < B; b++) {
        if (!kb[b]) continue;
        head[b * m] = at(b, dec[b] - 1);
        for (let j = 0; j <= kb[b]; j++) pos[b * m + j] = posOf(b, dec[b] - 1 + j);
        for (let j = 0; j <= kb[b] && dec[b] + j < L; j++) {
          qpos[b * m + j] = posOf(b, dec[b] + j);
          vis[b * m + j] = dec[b] + j;
        }
        cnt[2 * b] = kb[b];
        cnt[2 * b + 1] = dec[b] + kb[b] < L ? 1 : 0;
      }
      be.write(verifyTok, head);
      be.write(counts, cnt);
      be.kvWrite(verifyTok, draftsT, off[1]);
      const tlen = tgt.lengths();
      const pl = tgt.decode({
        tokens: be.reshape(verifyTok, [B, m]),
        positions: pos,
        m,
        queries: qpos,
        q: m,
        visible: vis,
      });
      nfe += tgt.passesPerCall;
      be.kvWrite(LQ, pl, off[0]);
      be.free(pl);
      const verdict = be.specVerify(LQ, be.reshape(draftsT, [B, k]), counts, {
        seed: r.seed,
        counter: rounds,
        temperature: r.temperature,
        topK: r.topK,
        topP: r.topP,
        residual: !o.unsafeSkipResidual,
      });
      const out = (await be.read(verdict)) as Uint32Array; // k + 1 ints per row
      be.free(verdict);
      const marks = o.onStep ? new Uint8Array(B * L) : undefined;
      for (let b = 0; b < B; b++) {
        if (!kb[b]) {
          tgt.truncate(b, tlen[b]);
          continue;
        }
        rowNfe[b] += tgt.passesPerCall;
        const d = dec[b];
        let made = 0,
          a = 0;
        for (; made <= kb[b] && out[b * m + made] !== SPEC_NONE; made++) {
          const t = out[b * m + made];
          tokens[b * L + order[b * L + d + made]] = (t & ~SPEC_RESAMPLED) >>> 0;
          const mark = t & SPEC_RESAMPLED ? DRAFT_MARK.REJECTED : made < kb[b] ? DRAFT_MARK.ACCEPTED : DRAFT_MARK.BONUS;
          if (mark === DRAFT_MARK.ACCEPTED) a++;
          if (marks) marks[b * L + order[b * L + d + made]] = mark;
        }
        proposed += Math.min(a + 1, kb[b]);
        accepted += a;
        // adaptive k per row (transformers' "heuristic" schedule): +2 after a round that kept every draft,
        // −1 otherwise, within [1, k]. Past outcomes choose the next k, so each round stays exact.
        if (adaptive) kNow[b] = a === kb[b] ? Math.min(k, kNow[b] + 2) : Math.max(1, kNow[b] - 1);
        if (marks) for (let j = made; j < kb[b]; j++) marks[b * L + order[b * L + d + j]] = DRAFT_MARK.DISCARDED;
        // the target holds the pending token and the accepted drafts; the draft what it drafted up to those
        tgt.truncate(b, d + a);
        dft.truncate(b, d + Math.min(a, kb[b] - 1));
        dPend[b] = d + made - (d + Math.min(a, kb[b] - 1));
        dec[b] = d + made;
        rowTokens[b] += made;
      }
      stepTimesMs.push(now() - t1);
      o.onStep?.({
        step: rounds,
        nfe,
        tokens: tokens.slice(),
        drafts: marks,
        checkpoint: {
          sampler: 'speculative',
          next: rounds + 1,
          nfe,
          tokens: tokens.slice(),
          extra: {
            dec: [...dec],
            dPend: [...dPend],
            kNow: [...kNow],
            rowNfe: [...rowNfe],
            rowTokens: [...rowTokens],
            draftNfe,
            proposed,
            accepted,
          },
        },
      });
    }
  } finally {
    tgt?.dispose();
    dft?.dispose();
    for (const t of owned) be.free(t);
    if (maskBias) be.free(maskBias);
  }
  return {
    samples: tokens,
    batch: B,
    length: L,
    nfe,
    stepTimesMs,
    backend: be.name,
    order,
    rowNfe,
    rowTokens,
    draftNfe,
    rounds,
    proposed,
    accepted,
    knobs: knobsOf(r, {
      sampler: 'speculative',
      draft: k,
      adaptiveDraft: adaptive,
      draftModel: 'layers' in o.draftModel && !('forward' in o.draftModel) ? `self:${draft.layers}` : draft.model.name,
    }),
  };
}
