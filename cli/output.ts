import { redactSecrets } from '../lambdas/core/contracts/redact.js';

/**
 * Everything the CLI writes goes through here: results on stdout (a table, or one JSON document
 * with --json), progress and diagnostics on stderr. Every write is scrubbed of the secrets the
 * run knows about (the Coder token), so no code path can print one by accident.
 */

/** Where the CLI writes and what it reads from the process; tests and the bin pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when stderr is a terminal: progress then uses symbols; otherwise plain lines. */
  readonly interactive?: boolean;
}

export class CliOutput {
  private readonly secrets = new Set<string>();

  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** From now on, `secret` is replaced by `[redacted]` in everything written. */
  addSecret(secret: string | undefined): void {
    if (secret && secret.length > 0) this.secrets.add(secret);
  }

  /** Scrubs known secrets from `text`. */
  redact(text: string): string {
    return redactSecrets(text, this.secrets);
  }

  /** A result line or block for people; suppressed with --json. */
  print(text = ''): void {
    if (!this.json) this.io.stdout(this.redact(`${text}\n`));
  }

  /** The one JSON document of a --json run. */
  document(value: unknown): void {
    this.io.stdout(this.redact(`${JSON.stringify(value, null, 2)}\n`));
  }

  /** Progress on stderr, in both modes, so scripts reading stdout are not disturbed. */
  progress(text: string): void {
    this.io.stderr(this.redact(`${this.io.interactive ? '› ' : ''}${text}\n`));
  }

  warn(text: string): void {
    this.io.stderr(this.redact(`warning: ${text}\n`));
  }

  error(text: string): void {
    this.io.stderr(this.redact(`error: ${text}\n`));
  }
}

/** A plain text table: a header row, a rule, and left-aligned columns padded to the widest cell. */
export const renderTable = (headers: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
};

/** A section title, underlined, for the human-readable output. */
export const heading = (title: string): string => `${title}\n${'='.repeat(title.length)}`;

/** `n thing` / `n things`. */
export const plural = (n: number, singular: string, pluralForm = `${singular}s`): string =>
  `${n} ${n === 1 ? singular : pluralForm}`;
