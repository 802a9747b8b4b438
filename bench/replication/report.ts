/**
 * The replication report's JSON lines (what bench/replication/run.ts writes and the demo page plots) and
 * their Markdown form (bench/replication/REPORT.md, and the README's table between its markers). Nothing
 * here imports Node modules.
 */
import type { Interval, Verdict } from './stats.js';

export interface RunLine {
  type: 'run';
  section: string;
  date: string;
  commit: string;
  backend: string;
  adapter: string;
  perClass: number;
  bootstrap: number;
  seed: number;
  command: string;
}

/** One measured setting: its knobs, sample count, cost and every statistic with its 95 % interval. */
export interface SettingLine {
  type: 'setting';
  section: string;
  id: string;
  label: string;
  model: string;
  knobs: Record<string, unknown>;
  n: number;
  /** model passes per sample (an interval where it varies by sample) */
  nfe: number | Interval;
  ms: number;
  stats: Record<string, Interval>;
}

/** A seed claim tested as stat(a) − stat(b) with its interval and verdict. */
export interface ClaimLine {
  type: 'claim';
  section: string;
  id: string;
  paper: string;
  claim: string;
  a: string;
  b: string;
  stat: string;
  direction: '>' | '<' | '≈';
  margin?: number;
  diff: Interval;
  verdict: Verdict;
}

/** A claim measured without one two-setting difference (MaM agreement, a front): named intervals, maybe a verdict. */
export interface MeasureLine {
  type: 'measure';
  section: string;
  id: string;
  paper: string;
  claim: string;
  measures: Record<string, Interval>;
  /** how the measures were judged, when they are (e.g. which settings dominate which) */
  detail?: string;
  verdict?: Verdict;
}

export type ReportLine = RunLine | SettingLine | ClaimLine | MeasureLine;

/** Parse the JSON lines (blank lines skipped); a line that is not a report line is an error naming it. */
export function parseReport(text: string): ReportLine[] {
  return text
    .split('\n')
    .map((l, i) => [l.trim(), i + 1] as const)
    .filter(([l]) => l)
    .map(([l, no]) => {
      const v = JSON.parse(l) as ReportLine;
      if (!v || !['run', 'setting', 'claim', 'measure'].includes(v.type))
        throw new Error(`line ${no}: not a replication report line`);
      return v;
    });
}

const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
export const intervalText = (iv: Interval, d = 3) =>
  Number.isFinite(iv.lo) ? `${f(iv.est, d)} [${f(iv.lo, d)}, ${f(iv.hi, d)}]` : f(iv.est, d);

const STAT_NAMES: Record<string, string> = {
  consistency: 'consistency',
  vendi: 'Vendi within class',
  nll: 'NLL/char',
  entropy: 'token entropy',
  passes: 'passes/sample',
  precision: 'precision',
  density: 'density',
  absGapPerChar: 'mean abs. gap, nats/char',
  spearman: 'Spearman',
  dominatedPoints: 'λ settings dominated',
  chainPasses: 'chain passes (one pass: 1)',
  chainOverOnePassTime: 'chain time / one-pass time',
};
export const statName = (s: string) => STAT_NAMES[s] ?? s;

const VERDICT_TEXT: Record<Verdict, string> = {
  effect: 'shown',
  opposite: 'opposite',
  'not resolved': 'not resolved',
  equal: 'shown (equal)',
  differs: 'not shown (differs)',
};

/** Rows of the claims table: paper, claim, measurement, our number and interval, verdict. */
export function claimRows(lines: readonly ReportLine[]): string[][] {
  const rows: string[][] = [];
  for (const l of lines) {
    if (l.type === 'claim') {
      const sign = l.direction === '≈' ? `within ±${l.margin}` : `${l.direction} 0`;
      rows.push([
        l.paper,
        l.claim,
        `${statName(l.stat)}: ${l.a} − ${l.b} (${sign})`,
        intervalText(l.diff),
        VERDICT_TEXT[l.verdict],
      ]);
    } else if (l.type === 'measure') {
      rows.push([
        l.paper,
        l.claim,
        Object.keys(l.measures).map(statName).join('; '),
        Object.values(l.measures)
          .map((iv) => intervalText(iv, 2))
          .join('; ') + (l.detail ? ` (${l.detail})` : ''),
        l.verdict ? VERDICT_TEXT[l.verdict] : 'see numbers',
      ]);
    }
  }
  return rows;
}

const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );

/** The claims table alone (the README's). */
export function claimsTable(lines: readonly ReportLine[]): string {
  return table(['paper', 'claim', 'measured as', 'ours (95 % CI)', 'verdict'], claimRows(lines));
}

/** The whole report: how it was run, the claims, and every setting's statistics. */
export function renderReport(lines: readonly ReportLine[]): string {
  const runs = lines.filter((l): l is RunLine => l.type === 'run');
  const settings = lines.filter((l): l is SettingLine => l.type === 'setting');
  const out = [
    '# Replication report',
    '',
    "The seed papers' claims measured on our models with samplescope's samplers (`npm run replication`;",
    'bench/replication/run.ts says what each section samples). Intervals: 95 % bootstrap over samples',
    '(resampled within each requested class; differences from independent replicates of the two settings).',
    '"shown" = the interval excludes 0 on the claimed side (or, for "equal", lies within the stated margin);',
    '"not resolved" = it does not, at this sample size; "opposite" = it excludes 0 on the other side.',
    '',
    '## Runs',
    '',
    table(
      ['section', 'date', 'commit', 'backend', 'per class', 'bootstrap', 'command'],
      runs.map((r) => [
        r.section,
        r.date.slice(0, 16),
        r.commit,
        `${r.backend} (${r.adapter})`,
        String(r.perClass),
        String(r.bootstrap),
        `\`${r.command}\``,
      ]),
    ),
    '',
    '## Claims',
    '',
    claimsTable(lines),
    '',
    '## Settings',
    '',
    table(
      ['section', 'setting', 'n', 'passes/sample', 'statistics (95 % CI)'],
      settings.map((s) => [
        s.section,
        `${s.id}: ${s.label}`,
        String(s.n),
        typeof s.nfe === 'number' ? String(s.nfe) : intervalText(s.nfe, 1),
        Object.entries(s.stats)
          .map(([k, v]) => `${statName(k)} ${intervalText(v)}`)
          .join('; '),
      ]),
    ),
    '',
  ];
  return out.join('\n');
}
