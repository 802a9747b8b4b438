// The README's knob table is the registry's (src/knobs/registry.ts): rendered again here and compared
// with the README's copy between its markers. Stale → `npx tsx scripts/knob-table.ts --write`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KNOBS } from '../../src/knobs/registry.js';
import { knobTable, TABLE_END, TABLE_START } from '../../src/knobs/table.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README knob table', () => {
  it('is the table the registry renders (run `npx tsx scripts/knob-table.ts --write` if not)', () => {
    const a = readme.indexOf(TABLE_START),
      b = readme.indexOf(TABLE_END);
    expect(a, 'the README has the table markers').toBeGreaterThanOrEqual(0);
    expect(readme.slice(a, b + TABLE_END.length)).toBe(knobTable());
  });
  it('has one row per knob', () => {
    expect(
      knobTable()
        .split('\n')
        .filter((l) => l.startsWith('| ') && !l.startsWith('| knob') && !l.startsWith('| ---')),
    ).toHaveLength(KNOBS.length);
  });
});
