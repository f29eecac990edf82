import { describe, expect, it } from 'vitest';
import { CliOutput } from '../../../cli/output.js';
import { redactSecrets, redactThenTruncate } from '../../../lambdas/core/contracts/redact.js';

const TOKEN = 'abcdefghij-SECRETsecretSECRETsecr'; // 33 characters, like a Coder session token

describe('redactSecrets', () => {
  it('replaces every echo of a secret, whatever its case', () => {
    // Prepare
    const text = `sent ${TOKEN}, proxy logged ${TOKEN.toLowerCase()} and ${TOKEN.toUpperCase()}`;
    // Act
    const out = redactSecrets(text, [TOKEN]);
    // Assess
    expect(out).toBe('sent [redacted], proxy logged [redacted] and [redacted]');
  });

  it('treats a secret as text, not as a pattern', () => {
    expect(redactSecrets('a.b a+b (x)', ['a+b', '(x)'])).toBe('a.b [redacted] [redacted]');
  });

  it('ignores empty secrets', () => {
    expect(redactSecrets('text', [''])).toBe('text');
  });
});

describe('redactThenTruncate', () => {
  it('keeps no part of a secret that straddles the cut', () => {
    // Prepare: the token starts 2 characters before the 200-character cut-off would have ended it.
    const body = `${'x'.repeat(169)}${TOKEN}${'y'.repeat(100)}`;
    // Act
    const excerpt = redactThenTruncate(body, [TOKEN], 200);
    // Assess
    expect(excerpt.length).toBeLessThanOrEqual(200);
    expect(excerpt).toContain('[redacted]');
    expect(excerpt).not.toContain(TOKEN.slice(0, 8));
  });
});

describe('CliOutput', () => {
  it('scrubs a lower-cased echo of the token from what it writes', () => {
    const written: string[] = [];
    const out = new CliOutput(
      { stdout: (t) => written.push(t), stderr: (t) => written.push(t), env: {} },
      false,
    );
    out.addSecret(TOKEN);
    out.error(`Coder said: unknown token ${TOKEN.toLowerCase()}`);
    expect(written.join('')).toBe('error: Coder said: unknown token [redacted]\n');
  });
});
