/**
 * Where a command's results go, checked before any work starts (the folder exists and is writable,
 * the format is known and fits the model), and written so that a failure loses nothing: to a
 * temporary name beside the target, then renamed; when that fails, a copy goes to the temporary
 * folder and the error says where.
 */
import { accessSync, constants, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { OutputWriteError, UsageError } from '../errors.js';

export type OutFormat = 'txt' | 'jsonl' | 'png' | 'json';

/** The formats each kind of result can be written as (the first is the default). */
export const FORMATS: Record<'text' | 'image' | 'records' | 'fronts', OutFormat[]> = {
  text: ['txt', 'jsonl'],
  image: ['png'],
  records: ['jsonl'],
  fronts: ['json'],
};

export interface OutputPlan {
  /** undefined = stdout */
  path?: string;
  format: OutFormat;
}

/**
 * Decide and check an output before any work: the format from `format` or the file's extension,
 * valid for `kind`; the folder exists, is a folder and is writable; the target is not a folder.
 * UsageError (exit 2) otherwise. `option` names the flag in messages.
 */
export function planOutput(
  path: string | undefined,
  format: string | undefined,
  kind: keyof typeof FORMATS,
  option = 'out',
): OutputPlan {
  const allowed = FORMATS[kind];
  const what =
    kind === 'text'
      ? 'text samples'
      : kind === 'image'
        ? 'images'
        : kind === 'records'
          ? 'sweep records'
          : 'Pareto fronts';
  if (path !== undefined) checkWritable(path, option);
  let f: string | undefined = format;
  if (f === undefined && path !== undefined) {
    const ext = extname(path).slice(1).toLowerCase();
    if (!ext || !(['txt', 'jsonl', 'png', 'json'] as string[]).includes(ext)) {
      throw new UsageError(
        `cannot tell the format of --${option} ${path} from its extension: use ${allowed.map((x) => `.${x}`).join(' or ')} for ${what}${kind === 'text' ? ', or give --format' : ''}`,
      );
    }
    f = ext;
  }
  f ??= allowed[0];
  if (!(allowed as string[]).includes(f)) {
    throw new UsageError(
      `${what} are written as ${allowed.join(' or ')}, not ${f}${path ? ` (--${option} ${path})` : ''}`,
    );
  }
  return { path, format: f as OutFormat };
}

/** The target's folder exists, is a folder and is writable, and the target itself is not a folder. */
export function checkWritable(path: string, option = 'out'): void {
  const dir = dirname(resolve(path));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`--${option} ${path}: the folder ${dir} does not exist (create it first; nothing was run)`);
  }
  if (!st.isDirectory()) throw new UsageError(`--${option} ${path}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--${option} ${path}: the folder ${dir} is not writable`);
  }
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`--${option} ${path} is a folder; give a file name`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // does not exist yet: fine
  }
}

/**
 * Test hook (fault injection, like the engine's crashForTest): SAMPLESCOPE_FAULT_WRITE=1 makes the
 * write to the target fail as a full disk would, to prove the results survive it.
 */
function injectedFault(): void {
  if (process.env.SAMPLESCOPE_FAULT_WRITE === '1')
    throw Object.assign(new Error('ENOSPC: no space left on device (injected by SAMPLESCOPE_FAULT_WRITE)'), {
      code: 'ENOSPC',
    });
}

/**
 * Write `data` to `path` atomically (a temporary name in the same folder, then rename). On failure a
 * copy goes to the temporary folder and OutputWriteError says where; the target is left as it was.
 */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.tmp`);
  try {
    injectedFault();
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    const reason = (e as NodeJS.ErrnoException).code
      ? `${(e as NodeJS.ErrnoException).code}: ${(e as Error).message.replace(/^\w+: /, '')}`
      : (e as Error).message;
    const rescue = join(tmpdir(), `samplescope-${process.pid}-${Date.now()}-${basename(path)}`);
    try {
      writeFileSync(rescue, data);
    } catch {
      throw new OutputWriteError(path, reason);
    }
    throw new OutputWriteError(path, reason, rescue);
  }
}
