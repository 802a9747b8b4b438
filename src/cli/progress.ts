/**
 * The CLI's stderr: messages, the per-step progress line and the final summary. Results go to stdout;
 * everything here goes to the messages fd — stderr, or the fd the launcher hands a child whose own
 * stderr is filtered for native driver noise (./native.ts).
 *
 * Progress: on a terminal, a bar redrawn in place at most ten times a second (step, NFE, tokens or
 * steps per second, ETA) and erased when the run ends; with --progress off a terminal, plain lines;
 * nothing with --quiet or when stderr is not a terminal (the summary line still prints, unless --quiet).
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';

/** the fd messages go to: SAMPLESCOPE_MSG_FD (set by the launcher) or stderr */
export const MSG_FD = Number(process.env.SAMPLESCOPE_MSG_FD ?? 2);

export function messagesAreTTY(): boolean {
  return isatty(MSG_FD);
}

export type ProgressMode = 'bar' | 'lines' | 'off';

/** --quiet wins; then --progress (a bar on a terminal, lines elsewhere); else a bar on a terminal only. */
export function progressMode(flags: { quiet: boolean; progress: boolean }, tty = messagesAreTTY()): ProgressMode {
  if (flags.quiet) return 'off';
  if (flags.progress) return tty ? 'bar' : 'lines';
  return tty ? 'bar' : 'off';
}

export class Messages {
  private barShown = false;

  constructor(
    readonly quiet: boolean,
    private readonly fd = MSG_FD,
  ) {}

  private write(text: string): void {
    try {
      writeSync(this.fd, text);
    } catch {
      /* a closed stderr must not fail the run */
    }
  }

  /** an error: always shown */
  error(line: string): void {
    this.clearBar();
    this.write(line + '\n');
  }

  /** an informational line ("# …"): hidden by --quiet */
  info(line: string): void {
    if (this.quiet) return;
    this.clearBar();
    this.write(line + '\n');
  }

  /** the in-place progress bar */
  bar(text: string): void {
    this.write(`\r\x1b[K${text}`);
    this.barShown = true;
  }

  clearBar(): void {
    if (!this.barShown) return;
    this.write('\r\x1b[K');
    this.barShown = false;
  }
}

export interface ProgressUpdate {
  step: number;
  nfe: number;
  /** work done in [0, 1] (decided tokens / all, or step / steps) */
  fraction: number;
  /** units done so far (tokens decided, images × steps), for the rate */
  done: number;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** One run's progress: throttled redraws of a bar (or lines), rate and ETA from the elapsed time. */
export class Progress {
  private readonly t0 = performance.now();
  private last = -Infinity;
  /** the latest update, for a cancelled run's report */
  latest?: ProgressUpdate;

  constructor(
    private readonly msg: Messages,
    private readonly mode: ProgressMode,
    private readonly unit: string,
  ) {}

  update(u: ProgressUpdate): void {
    this.latest = u;
    if (this.mode === 'off') return;
    const now = performance.now();
    const elapsed = (now - this.t0) / 1000;
    if (now - this.last < (this.mode === 'bar' ? 100 : 500) && u.fraction < 1) return;
    this.last = now;
    const rate = u.done / Math.max(elapsed, 1e-3);
    const eta = u.fraction > 0 ? (elapsed * (1 - u.fraction)) / u.fraction : Infinity;
    const text = `step ${u.step} · NFE ${u.nfe} · ${rate.toFixed(1)} ${this.unit}/s · ${(100 * u.fraction).toFixed(0)}% · ETA ${duration(eta)}`;
    if (this.mode === 'bar') {
      const w = 20,
        full = Math.round(w * Math.min(1, u.fraction));
      this.msg.bar(`[${'#'.repeat(full)}${'-'.repeat(w - full)}] ${text}`);
    } else {
      this.msg.info(`# progress: ${text}`);
    }
  }

  done(): void {
    this.msg.clearBar();
  }
}
