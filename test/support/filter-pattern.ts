/**
 * A CloudWatch Logs filter pattern evaluator for the features the controller's patterns use (or
 * used), as AWS documents them: "Filter pattern syntax for metric filters, subscription filters,
 * filter log events, and Live Tail",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html (its source
 * text: awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md).
 *
 * - `""` matches every event.
 * - Unstructured terms: every term must appear in the event's text, case-sensitively, anywhere (the
 *   term `ERROR` matches "Exiting with ERRORCODE: -1"). A term in double quotes is taken as it is
 *   (spaces included); bare words are one term each.
 * - JSON patterns `{ SELECTOR = VALUE }` and `!=`, combined with `&&`, `||` and parentheses (`()`
 *   before `&&` before `||`): the event must be JSON; `$.a.b[0]` must point to a string or number,
 *   else the comparison fails whatever the operator; `*` at the start or end of VALUE matches any
 *   text there (`*Event`, `Event*`), one in the middle is a literal; `= *` alone means the value exists.
 *
 * Anything else (`?term`, `-term`, numeric `<`/`>`, regex `%…%`, `IS NULL`, space-delimited
 * `[…]`) throws UnsupportedPatternError: a pattern this evaluator cannot read fails the test that
 * uses it instead of passing.
 */

export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
}

export const matchesFilterPattern = (pattern: string, message: string): boolean => {
  const trimmed = pattern.trim();
  if (trimmed === '') return true;
  if (trimmed.startsWith('{')) return matchesJsonPattern(trimmed, message);
  if (trimmed.startsWith('[') || trimmed.startsWith('%')) {
    throw new UnsupportedPatternError(`space-delimited and regex patterns are not supported: ${pattern}`);
  }
  return terms(trimmed).every((term) => message.includes(term));
};

/** Splits an unstructured pattern into its terms. */
const terms = (pattern: string): string[] => {
  const out: string[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] ?? '';
    if (c === ' ') {
      i += 1;
    } else if (c === '"') {
      const [value, next] = quoted(pattern, i);
      out.push(value);
      i = next;
    } else {
      let end = pattern.indexOf(' ', i);
      if (end === -1) end = pattern.length;
      const word = pattern.slice(i, end);
      if (word.startsWith('?') || word.startsWith('-')) {
        throw new UnsupportedPatternError(`OR (?) and exclusion (-) terms are not supported: ${word}`);
      }
      out.push(word);
      i = end;
    }
  }
  return out;
};

/** A double-quoted string from `start`, with `\"` and `\\` escapes; returns the value and the index after it. */
const quoted = (text: string, start: number): [string, number] => {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '\\') {
      value += text[i + 1] ?? '';
      i += 2;
    } else if (c === '"') {
      return [value, i + 1];
    } else {
      value += c;
      i += 1;
    }
  }
  throw new UnsupportedPatternError(`unterminated quoted string in ${text}`);
};

type Token =
  | { kind: 'open' | 'close' | 'and' | 'or' | 'eq' | 'ne' }
  | { kind: 'selector'; path: Array<string | number> }
  | { kind: 'value'; text: string; quoted: boolean };

const tokenize = (expression: string): Token[] => {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const rest = expression.slice(i);
    const c = rest[0] ?? '';
    if (c === ' ') {
      i += 1;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'open' : 'close' });
      i += 1;
    } else if (rest.startsWith('&&') || rest.startsWith('||')) {
      tokens.push({ kind: rest.startsWith('&&') ? 'and' : 'or' });
      i += 2;
    } else if (rest.startsWith('!=')) {
      tokens.push({ kind: 'ne' });
      i += 2;
    } else if (c === '=') {
      tokens.push({ kind: 'eq' });
      i += rest.startsWith('==') ? 2 : 1;
    } else if (c === '<' || c === '>') {
      throw new UnsupportedPatternError(`numeric comparisons are not supported: ${expression}`);
    } else if (c === '$') {
      const match = /^\$((?:\.[A-Za-z0-9_-]+|\[\d+\])*)/.exec(rest);
      if (!match) throw new UnsupportedPatternError(`bad selector at ${rest}`);
      const path = [...(match[1] ?? '').matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)].map((m) =>
        m[1] !== undefined ? m[1] : Number(m[2]),
      );
      tokens.push({ kind: 'selector', path });
      i += match[0].length;
    } else if (c === '"') {
      const [text, next] = quoted(expression, i);
      tokens.push({ kind: 'value', text, quoted: true });
      i = next;
    } else if (c === '%') {
      throw new UnsupportedPatternError(`regex values are not supported: ${expression}`);
    } else {
      const match = /^[^\s()&|]+/.exec(rest);
      if (!match) throw new UnsupportedPatternError(`cannot read ${rest}`);
      if (/^(IS|NOT)$/.test(match[0])) {
        throw new UnsupportedPatternError(`IS NULL / NOT EXISTS / IS TRUE are not supported: ${expression}`);
      }
      tokens.push({ kind: 'value', text: match[0], quoted: false });
      i += match[0].length;
    }
  }
  return tokens;
};

type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'compare'; path: Array<string | number>; negate: boolean; value: string };

const parse = (tokens: Token[]): Expr => {
  let at = 0;
  const peek = () => tokens[at];
  const expect = (kind: Token['kind']): Token => {
    const token = tokens[at];
    if (token?.kind !== kind) throw new UnsupportedPatternError(`expected ${kind} at token ${at}`);
    at += 1;
    return token;
  };
  const or = (): Expr => {
    let left = and();
    while (peek()?.kind === 'or') {
      at += 1;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): Expr => {
    let left = atom();
    while (peek()?.kind === 'and') {
      at += 1;
      left = { kind: 'and', left, right: atom() };
    }
    return left;
  };
  const atom = (): Expr => {
    if (peek()?.kind === 'open') {
      at += 1;
      const inner = or();
      expect('close');
      return inner;
    }
    const selector = expect('selector') as Extract<Token, { kind: 'selector' }>;
    const op = peek();
    if (op?.kind !== 'eq' && op?.kind !== 'ne')
      throw new UnsupportedPatternError(`expected = or != at ${at}`);
    at += 1;
    const value = expect('value') as Extract<Token, { kind: 'value' }>;
    return { kind: 'compare', path: selector.path, negate: op.kind === 'ne', value: value.text };
  };
  const expr = or();
  if (at !== tokens.length) throw new UnsupportedPatternError(`unexpected token ${at}`);
  return expr;
};

/** `*x` ends with x, `x*` starts with it, `*x*` contains it, `*` anything; a middle `*` is literal. */
const valueMatches = (pattern: string, actual: string): boolean => {
  if (pattern === '*') return true;
  const leading = pattern.startsWith('*');
  const trailing = pattern.endsWith('*');
  const core = pattern.slice(leading ? 1 : 0, trailing ? -1 : undefined);
  if (leading && trailing) return actual.includes(core);
  if (leading) return actual.endsWith(core);
  if (trailing) return actual.startsWith(core);
  return actual === pattern;
};

const evaluate = (expr: Expr, json: unknown): boolean => {
  switch (expr.kind) {
    case 'and':
      return evaluate(expr.left, json) && evaluate(expr.right, json);
    case 'or':
      return evaluate(expr.left, json) || evaluate(expr.right, json);
    case 'compare': {
      let node: unknown = json;
      for (const step of expr.path) {
        if (typeof step === 'number') node = Array.isArray(node) ? node[step] : undefined;
        else
          node =
            node !== null && typeof node === 'object' && !Array.isArray(node)
              ? (node as Record<string, unknown>)[step]
              : undefined;
      }
      // The selector must point to a value node; otherwise neither = nor != matches.
      if (typeof node !== 'string' && typeof node !== 'number') return false;
      const matched = valueMatches(expr.value, String(node));
      return expr.negate ? !matched : matched;
    }
  }
};

const matchesJsonPattern = (pattern: string, message: string): boolean => {
  if (!pattern.endsWith('}')) throw new UnsupportedPatternError(`unterminated JSON pattern: ${pattern}`);
  const expr = parse(tokenize(pattern.slice(1, -1)));
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return false;
  }
  return evaluate(expr, json);
};
