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
 *
 * Continuous batching (`samples` > `batch`, BatchingOptions): a sample joining a slot gets its own prefill pass
 * (the other rows append padding and roll back), and every draw is keyed by its own (firstSample + i, round).
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
  SampleSlots,
  type BatchingOptions,
  type CommonOptions,
  type SampleResult,
  type SamplerCheckpoint,
} from './common.js';
import { CachedDecoder } from './decoder.js';
import { DRAFT_MARK } from './draft-marks.js';
import { SPEC_NONE, SPEC_RESAMPLED } from '../ops/spec_verify.js';

export interface SpeculativeOptions extends CommonOptions, BatchingOptions {
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
  const r = resolveCommon(target, o, { batching: true });
  const { batch: B, length: L, samples: S } = r;
  const draft = checkDraft(target, o, L);
  const k = knobOption('draft', o.draft, 'asarm', 'speculative', { maxLength: L });
  const adaptive = knobOption('adaptiveDraft', o.adaptiveDraft, 'asarm', 'speculative');
  const rs = o.resume;
  if (rs && S > B)
    throw new SamplerConfigError('resume', `unset with continuous batching (samples ${S} > batch ${B})`, rs.sampler);
  const kNow = new Uint32Array(B).fill(k); // each slot's draft length next round (k unless adaptive)
  const V = target.vocabSize,
    be = target.backend;
  const filler = target.maskId ?? 0;
  // σ of every sample: prompt positions first, then the free ones left to right
  const order = new Uint32Array(S * L);
  const nPrompt = new Uint32Array(S);
  for (let b = 0; b < S; b++) {
    const fixed = r.fixed.subarray(b * L, (b + 1) * L);
    const pos = [...Array(L).keys()];
    const row = [...pos.filter((p) => fixed[p] >= 0), ...pos.filter((p) => fixed[p] < 0)];
    order.set(row, b * L);
    nPrompt[b] = row.filter((p) => fixed[p] >= 0).length;
  }
  // every sample's tokens (samples, length); the slots work on (batch, length) copies of their samples' rows
  const { tokens: samples } = initialTokens(r, filler);
  const tokens = new Uint32Array(B * L).fill(filler),
    slotOrder = Uint32Array.from({ length: B * L }, (_, i) => i % L);
  const dec = new Uint32Array(B); // decided ranks per slot
  const slots = new SampleSlots(r, o.signal);
  const sid = slots.sid;
  const at = (b: number, rank: number) => tokens[b * L + slotOrder[b * L + rank]];
  const posOf = (b: number, rank: number) => (rank < L ? slotOrder[b * L + rank] : 0); // 0: padding, never seen
  const maskBias = makeMaskBias(target);
  // continuous batching: a prefill appends up to a joining sample's whole prompt on every row (padding rolled
  // back), so rows get that many more slots (none without prompts: attention runs over the capacity)
  const cap = L + k + 1 + (S > B ? nPrompt.reduce((a, x) => Math.max(a, x), 0) : 0);
  let tgt: CachedDecoder | null = null,
    dft: CachedDecoder | null = null;
  const rowNfe = new Uint32Array(S),
    rowTokens = new Uint32Array(S);
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
    const [T, D] = [tgt, dft];
    // per run, nothing per round: the logits the verify op reads (p_0..p_k, then q_0..q_{k−1}), the drafts,
    // the verify pass's tokens, the op's counts, one (B) offsets tensor per slot index, the draws' streams
    const LQ = be.empty([B, 2 * k + 1, V]);
    const draftsT = be.empty([B, k, 1], 'u32'),
      verifyTok = be.empty([B, k + 1, 1], 'u32'),
      counts = be.empty([B, 2], 'u32'),
      streams = be.empty([B, 2], 'u32'),
      streamHost = new Uint32Array(2 * B);
    const off = Array.from({ length: 2 * k + 1 }, (_, i) => be.tensor(new Uint32Array(B).fill(i), [B]));
    owned.push(LQ, draftsT, verifyTok, counts, streams, ...off);
    be.write(draftsT, new Uint32Array(B * k)); // defined ids in the slots a short round leaves stale
    // a slot's draws use its sample's stream (firstSample + i, the sample's round): see SampleSlots
    const draw = (logits: Tensor, i: number) =>
      be.categorical(be.reshape(logits, [B, V]), {
        seed: r.seed,
        counter: 2 ** 32 * (DRAW_SPACE + i),
        temperature: r.temperature,
        topK: r.topK,
        topP: r.topP,
        streams,
      });
    // decided ranks not yet in the draft's cache (2 after a round that accepted every draft)
    const dPend = new Uint32Array(B).fill(1);
    const load = (b: number, i: number) => {
      tokens.set(samples.subarray(i * L, (i + 1) * L), b * L);
      slotOrder.set(order.subarray(i * L, (i + 1) * L), b * L);
      dec[b] = nPrompt[i];
      dPend[b] = 1;
      kNow[b] = k;
      T.truncate(b, 0);
      D.truncate(b, 0);
      return dec[b] < L;
    };
    slots.refill(load);
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
      slots.round.fill(rounds);
    }
    // prefill of `rows` (joining samples, or every row on resume): the target's cache takes every decided rank
    // but the last, the draft's all but its pending ones; rows with nothing decided draw rank 0 from the
    // target's pass. Other rows append padding and are rolled back.
    const prefill = async (rows: number[]) => {
      const t0 = now();
      const tlen = T.lengths(),
        dlen = D.lengths();
      const tKeep = Uint32Array.from(tlen),
        dKeep = Uint32Array.from(dlen);
      const take = new Uint32Array(B),
        dTake = new Uint32Array(B);
      for (const b of rows) {
        tKeep[b] = Math.max(dec[b] - 1, 0);
        dKeep[b] = Math.max(dec[b] - dPend[b], 0);
        take[b] = tKeep[b];
        dTake[b] = dKeep[b];
      }
      const empty = rows.filter((b) => dec[b] === 0);
      const q0 = new Uint32Array(B),
        vis0 = new Uint32Array(B);
      for (const b of rows) q0[b] = posOf(b, dec[b] === 0 ? 0 : L);
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
      const tIn = fill(take),
        dIn = fill(dTake);
      if (tIn.m > 0 || empty.length) {
        const l0 = T.decode(tIn);
        nfe += T.passesPerCall;
        // the pass worked on the rows that appended or drew (a one-token prompt needs neither)
        for (const b of rows) if (dec[b] < L && (take[b] > 0 || dec[b] === 0)) rowNfe[sid[b]] += T.passesPerCall;
        slots.writeStreams(be, streams, streamHost, 1);
        const first = draw(l0, FIRST_DRAW);
        be.free(l0);
        const got = (await be.read(first)) as Uint32Array;
        be.free(first);
        for (const b of empty) {
          tokens[b * L + slotOrder[b * L]] = got[b];
          dec[b] = 1;
          rowTokens[sid[b]] = 1;
        }
      }
      if (dIn.m > 0) {
        be.free(D.decode(dIn));
        draftNfe += D.passesPerCall;
      }
      for (let b = 0; b < B; b++) {
        T.truncate(b, tKeep[b]);
        D.truncate(b, dKeep[b]);
      }
      stepTimesMs.push(now() - t0);
    };
    /** a slot whose sample is complete: its tokens go to the result, the slot to the next sample */
    const release = (b: number) => {
      samples.set(tokens.subarray(b * L, (b + 1) * L), sid[b] * L);
      slots.release(b);
    };
    for (let firstPass = true; sid.some((i) => i >= 0); slots.refill(load), firstPass = false) {
      const busy = [...Array(B).keys()].filter((b) => sid[b] >= 0);
      const joining = firstPass && rs ? busy : busy.filter((b) => slots.round[b] === 0);
      if (joining.length) await prefill(joining);
      for (const b of busy) if (dec[b] >= L) release(b); // e.g. length 1: the prefill's draw completed it
      if (!sid.some((i) => i >= 0)) continue;
      const t1 = now();
      rounds++;
      slots.advance();
      const kb = Uint32Array.from(dec, (d, b) => (sid[b] >= 0 && d < L ? Math.min(kNow[b], L - d) : 0));
      const K = Math.max(...kb);
      slots.writeStreams(be, streams, streamHost, 1);
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
        const ql = D.appendAndQuery(prev ? { ...pass, given: prev, m: 1 } : { ...pass, id: at });
        draftNfe += D.passesPerCall;
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
      const tlen = T.lengths();
      const pl = T.decode({
        tokens: be.reshape(verifyTok, [B, m]),
        positions: pos,
        m,
        queries: qpos,
        q: m,
        visible: vis,
      });
      nfe += T.passesPerCall;
      be.kvWrite(LQ, pl, off[0]);
      be.free(pl);
      const verdict = be.specVerify(LQ, be.reshape(draftsT, [B, k]), counts, {
        seed: r.seed,
        counter: 0, // each row's round (its stream)
        streams,
        temperature: r.temperature,
        topK: r.topK,
        topP: r.topP,
        residual: !o.unsafeSkipResidual,
      });
      const out = (await be.read(verdict)) as Uint32Array; // k + 1 ints per row
      be.free(verdict);
      const marks = o.onStep ? new Uint8Array(S * L) : undefined;
      for (let b = 0; b < B; b++) {
        if (!kb[b]) {
          T.truncate(b, tlen[b]);
          continue;
        }
        const i = sid[b];
        rowNfe[i] += T.passesPerCall;
        const d = dec[b];
        let made = 0,
          a = 0;
        for (; made <= kb[b] && out[b * m + made] !== SPEC_NONE; made++) {
          const t = out[b * m + made];
          const p = slotOrder[b * L + d + made];
          tokens[b * L + p] = (t & ~SPEC_RESAMPLED) >>> 0;
          const mark = t & SPEC_RESAMPLED ? DRAFT_MARK.REJECTED : made < kb[b] ? DRAFT_MARK.ACCEPTED : DRAFT_MARK.BONUS;
          if (mark === DRAFT_MARK.ACCEPTED) a++;
          if (marks) marks[i * L + p] = mark;
        }
        proposed += Math.min(a + 1, kb[b]);
        accepted += a;
        // adaptive k per row (transformers' "heuristic" schedule): +2 after a round that kept every draft,
        // −1 otherwise, within [1, k]. Past outcomes choose the next k, so each round stays exact.
        if (adaptive) kNow[b] = a === kb[b] ? Math.min(k, kNow[b] + 2) : Math.max(1, kNow[b] - 1);
        if (marks) for (let j = made; j < kb[b]; j++) marks[i * L + slotOrder[b * L + d + j]] = DRAFT_MARK.DISCARDED;
        // the target holds the pending token and the accepted drafts; the draft what it drafted up to those
        T.truncate(b, d + a);
        D.truncate(b, d + Math.min(a, kb[b] - 1));
        dPend[b] = d + made - (d + Math.min(a, kb[b] - 1));
        dec[b] = d + made;
        rowTokens[i] += made;
      }
      for (let b = 0; b < B; b++) if (sid[b] >= 0 && dec[b] >= L) release(b);
      stepTimesMs.push(now() - t1);
      if (!o.onStep) continue;
      const view = slots.view(samples, tokens, L);
      o.onStep({
        step: rounds,
        nfe,
        tokens: view,
        drafts: marks,
        // continuous batching does not resume (slots hold other samples than rows)
        checkpoint:
          S > B
            ? undefined
            : {
                sampler: 'speculative',
                next: rounds + 1,
                nfe,
                tokens: view,
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
    samples,
    batch: S,
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
