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
  /** Everything on standard input (`--token-stdin`); absent where there is none. */
  readonly readStdin?: () => Promise<string>;
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

  /** A result line or block for people, in lines that fit OUTPUT_WIDTH; suppressed with --json. */
  print(text = ''): void {
    if (!this.json) this.io.stdout(this.redact(`${wrapProse(text)}\n`));
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

/** Terminal width the human-readable output keeps to: tables wrap their last column, prose its lines. */
export const OUTPUT_WIDTH = 120;

/** `text` in lines of at most `width` characters, broken at spaces (a longer word is cut). */
export const wrapWords = (text: string, width: number): string[] => {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    let rest = word;
    while (rest.length > width) {
      if (line) lines.push(line);
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
      line = '';
    }
    if (!line) line = rest;
    else if (line.length + 1 + rest.length <= width) line = `${line} ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  lines.push(line);
  return lines;
};

/**
 * A plain text table: a header row, a rule, and left-aligned columns padded to the widest cell. The
 * last column (a reason, a note) wraps onto indented lines so a row fits `maxWidth` columns.
 */
export const renderTable = (
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidth = OUTPUT_WIDTH,
): string => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const lastIndex = headers.length - 1;
  const indent = widths.slice(0, lastIndex).reduce((sum, w) => sum + w + 2, 0);
  const lastWidth = Math.min(widths[lastIndex] ?? 0, Math.max(24, maxWidth - indent));
  widths[lastIndex] = Math.max(lastWidth, (headers[lastIndex] ?? '').length);
  const line = (cells: readonly string[]): string[] => {
    const [first, ...more] = wrapWords(cells[lastIndex] ?? '', widths[lastIndex] ?? 0);
    const head = cells
      .map((cell, i) => (i === lastIndex ? (first ?? '') : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
    return [head, ...more.map((m) => `${' '.repeat(indent)}${m}`)];
  };
  return [
    ...line(headers),
    ...line(widths.map((w) => '-'.repeat(w))),
    ...rows.flatMap((row) => line(row)),
  ].join('\n');
};

/**
 * Prose lines longer than `width` broken at spaces; a continuation keeps the line's indent (and
 * hangs under a "- " bullet's text). Lines that fit, tables among them, are left as they are.
 */
export const wrapProse = (text: string, width = OUTPUT_WIDTH): string =>
  text
    .split('\n')
    .flatMap((line) => {
      if (line.length <= width) return [line];
      const lead = /^(\s*(?:- )?)/.exec(line)?.[1] ?? '';
      const pad = ' '.repeat(lead.length);
      const [first, ...rest] = wrapWords(line.slice(lead.length), width - lead.length);
      return [`${lead}${first ?? ''}`, ...rest.map((r) => `${pad}${r}`)];
    })
    .join('\n');

/** A section title, underlined, for the human-readable output. */
export const heading = (title: string): string => `${title}\n${'='.repeat(title.length)}`;

/** `n thing` / `n things`. */
export const plural = (n: number, singular: string, pluralForm = `${singular}s`): string =>
  `${n} ${n === 1 ? singular : pluralForm}`;
