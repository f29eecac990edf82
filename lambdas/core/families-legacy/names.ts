import { createHash } from 'node:crypto';

/** Coder's `NameValid` (codersdk/name.go): 1–32 chars, letters/digits, single inner hyphens, not reserved. */
const NAME_PATTERN = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const RESERVED = new Set(['new', 'create']);
export const MAX_NAME_LENGTH = 32;
const HASH_LENGTH = 6;

export const isValidWorkspaceName = (name: string): boolean =>
  name.length >= 1 &&
  name.length <= MAX_NAME_LENGTH &&
  NAME_PATTERN.test(name) &&
  !RESERVED.has(name.toLowerCase());

/**
 * The name of child `index` (1-based) of `parent`: `<parent>-<index>` when that is a valid Coder
 * name, else the parent's name truncated and tagged with a short hash of the whole (lowercased)
 * parent name, `<prefix>-<hash>-<index>`, which is deterministic, at most 32 characters, and
 * keeps two long parents that share a prefix apart. Coder compares names case-insensitively, so
 * the hash is taken over the lowercased name.
 */
export const childWorkspaceName = (parent: string, index: number): string => {
  if (!Number.isInteger(index) || index < 1) throw new RangeError(`child index must be >= 1, got ${index}`);
  const plain = `${parent}-${index}`;
  if (isValidWorkspaceName(plain)) return plain;
  const suffix = `-${index}`;
  const hash = createHash('sha256').update(parent.toLowerCase()).digest('hex').slice(0, HASH_LENGTH);
  const room = MAX_NAME_LENGTH - suffix.length - HASH_LENGTH - 1;
  const prefix = parent
    .replace(/[^a-zA-Z0-9-]/g, '')
    .slice(0, Math.max(room, 0))
    .replace(/-+$/, '');
  const name = prefix ? `${prefix}-${hash}${suffix}` : `${hash}${suffix}`;
  if (!isValidWorkspaceName(name)) {
    throw new RangeError(`cannot derive a valid child name for parent ${JSON.stringify(parent)}`);
  }
  return name;
};
