/**
 * The README's knob table from the registry: prints it, or with --write puts it into README.md
 * between its markers (test/unit/knob-table.test.ts fails while the README's copy is stale).
 *   npx tsx scripts/knob-table.ts --write
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { knobTable, withKnobTable } from '../src/knobs/table.js';

const readme = new URL('../README.md', import.meta.url);
if (process.argv.includes('--write')) writeFileSync(readme, withKnobTable(readFileSync(readme, 'utf8')));
else console.log(knobTable());
