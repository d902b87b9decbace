/**
 * Compares two strings by their UTF-8 bytes (= by code points), without encoding them.
 * Plain `<` compares UTF-16 units, which puts U+10000 and above (surrogate pairs) before
 * U+E000..U+FFFF; UTF-8, and so S3, puts them after.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
