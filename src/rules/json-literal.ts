/**
 * Returns byte sequences such that any JSON line whose decoded string contains `value` contains
 * at least one of them. Returns null when `value` gives none, because it is empty or has only
 * characters an encoder may escape.
 *
 * The sequence is the longest run of characters that JSON encoders write unchanged. A run with
 * non-ASCII characters comes in three forms: raw UTF-8 (`JSON.stringify`, Go, Java), `\uXXXX`
 * with lowercase hex (Python's `ensure_ascii`), and `\uXXXX` with uppercase hex.
 */
export function jsonLiteralsOf(value: string): Buffer[] | null {
  let best: Buffer[] | null = null;
  let bestScore = 0;
  for (const run of safeRuns(value)) {
    const forms = formsOf(run);
    const score = Math.min(...forms.map((form) => form.length));
    if (score > bestScore) {
      best = forms;
      bestScore = score;
    }
  }
  return best;
}

/** Returns the byte literals of a JSON scalar written in a rule: `true`, `false`, `null`. */
export function jsonLiteralsOfScalar(value: unknown): Buffer[] | null {
  if (typeof value === 'string') return jsonLiteralsOf(value);
  if (value === true || value === false || value === null) return [Buffer.from(String(value))];
  // NOTE: numbers give no literal, because encoders write them differently (1e3, 1000.0).
  return null;
}

/**
 * Splits `value` at characters some JSON encoder escapes: `"`, `\`, control characters, DEL,
 * the HTML-sensitive `<`, `>`, `&`, `'` and `/` (Go, PHP), U+2028, U+2029, U+FFFD (what
 * invalid UTF-8 decodes to) and lone surrogates.
 */
function safeRuns(value: string): string[] {
  const runs: string[] = [];
  let runStart = 0;
  let index = 0;
  while (index < value.length) {
    const code = value.charCodeAt(index);
    let width = 1;
    let safe = !isEscapedAscii(code) && code !== 0x2028 && code !== 0x2029 && code !== 0xfffd;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) width = 2;
      else safe = false;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      safe = false;
    }
    if (!safe) {
      if (index > runStart) runs.push(value.slice(runStart, index));
      runStart = index + width;
    }
    index += width;
  }
  if (index > runStart) runs.push(value.slice(runStart, index));
  return runs;
}

function isEscapedAscii(code: number): boolean {
  if (code < 0x20 || code === 0x7f) return true;
  return (
    code === 0x22 ||
    code === 0x5c ||
    code === 0x3c ||
    code === 0x3e ||
    code === 0x26 ||
    code === 0x27 ||
    code === 0x2f
  );
}

function formsOf(run: string): Buffer[] {
  const raw = Buffer.from(run, 'utf8');
  if (raw.length === run.length) return [raw];
  const lower = escapeNonAscii(run, false);
  const upper = escapeNonAscii(run, true);
  const forms = [raw, Buffer.from(lower, 'ascii')];
  if (upper !== lower) forms.push(Buffer.from(upper, 'ascii'));
  return forms;
}

/** Writes non-ASCII characters as `\uXXXX`, astral ones as surrogate pairs, as Python does. */
function escapeNonAscii(run: string, uppercase: boolean): string {
  let out = '';
  for (let index = 0; index < run.length; index++) {
    const code = run.charCodeAt(index);
    if (code < 0x80) {
      out += run[index];
      continue;
    }
    const hex = code.toString(16).padStart(4, '0');
    out += `\\u${uppercase ? hex.toUpperCase() : hex}`;
  }
  return out;
}
