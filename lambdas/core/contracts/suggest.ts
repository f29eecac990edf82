/** "Did you mean …?": the closest candidate by edit distance (mistyped commands, flags, template names). */

/** Levenshtein distance (insertions, deletions, substitutions), case-insensitive. */
export const editDistance = (a: string, b: string): number => {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = row;
  }
  return previous[t.length] ?? 0;
};

/** The candidate closest to `input`, if it is close enough to be what was meant. */
export const closest = (input: string, candidates: readonly string[]): string | undefined => {
  const limit = Math.max(2, Math.floor(input.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(input, candidate);
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
};

/** `; did you mean "x"?` or nothing, to append to an error message. */
export const didYouMean = (input: string, candidates: readonly string[]): string => {
  const match = closest(input, candidates);
  return match ? `; did you mean "${match}"?` : '';
};
