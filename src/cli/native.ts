/**
 * Native driver noise. Dawn (npm "webgpu") and the Vulkan loader write straight to the process's
 * stderr from native code — `Warning: …`, `error: XDG_RUNTIME_DIR is invalid…`, ` - While initializing
 * adapter`, `    at InitializeImpl (…/dawn/…)` — which Node cannot intercept in-process. So a command
 * that may open a WebGPU device runs as a child: its stderr (where only native code and crashes
 * write) is piped through `isNativeNoise` and the noise dropped unless --verbose; its own messages
 * go to an extra fd that is the real stderr (SAMPLESCOPE_MSG_FD, see ./progress.ts), so progress
 * still sees a terminal and the library's explanation is the first thing shown.
 *
 * What this cannot do: hide the noise when samplescope is used as a library (in-process, native
 * writes reach fd 2 directly — only a process boundary can catch them); recognise driver lines that
 * match none of the patterns below (they are shown, never dropped); or explain a driver that kills
 * the process outright (only the exit code and the hidden-line count are reported). `--backend cpu`
 * never loads Dawn, so it runs in-process with nothing to hide.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NOISE: RegExp[] = [
  /^Warning: /, // Dawn's and the Vulkan loader's warnings
  /^error: XDG_RUNTIME_DIR/, // Mesa without a runtime dir
  /^ - While /, // Dawn's error context lines
  /^\s+at \S+ \(.*\.(cpp|cc|h):\d+\)$/, // Dawn's native "stack" (at InitializeImpl (…/PhysicalDeviceVk.cpp:257))
  /^WARNING: lavapipe is not a conformant/,
  /^MESA: /,
  /^\s*$/,
];

/** Is this stderr line native driver output (hidden unless --verbose) rather than something to show? */
export function isNativeNoise(line: string): boolean {
  return NOISE.some((r) => r.test(line));
}

/** Set in the child: its messages fd is the parent's stderr; its stderr is filtered. */
export const IN_CHILD = process.env.SAMPLESCOPE_MSG_FD !== undefined;

/**
 * Run this same command as a child with its native stderr filtered; resolves to the child's exit
 * code (128 + signal when it was killed). SIGINT/SIGTERM are passed on (the child cancels cleanly).
 */
export function runFiltered(argv: string[], verbose: boolean): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, SAMPLESCOPE_MSG_FD: '3' };
  // Mesa complains on every adapter probe without a runtime dir; give it a private one
  if (!env.XDG_RUNTIME_DIR) env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'samplescope-xdg-'));
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    stdio: ['inherit', 'inherit', 'pipe', 2],
    env,
  });
  let hidden = 0;
  let pending = '';
  const take = (text: string, flush: boolean) => {
    pending += text;
    const lines = pending.split('\n');
    pending = flush ? '' : lines.pop()!;
    for (const l of lines) {
      if (!verbose && isNativeNoise(l)) {
        if (l.trim()) hidden++;
        continue;
      }
      process.stderr.write(l + '\n');
    }
  };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => take(t, false));
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward('SIGINT'),
    onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((res) => {
    child.on('close', (code, signal) => {
      take('', true);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      const rc = code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9);
      if (rc !== 0 && rc !== 2 && rc !== 130 && hidden > 0) {
        process.stderr.write(
          `# ${hidden} line${hidden === 1 ? '' : 's'} of native WebGPU driver output hidden; --verbose shows them\n`,
        );
      }
      res(rc);
    });
  });
}
