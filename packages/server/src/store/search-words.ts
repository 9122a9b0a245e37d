/**
 * What counts as a word for search, shared by every metadata backend so that
 * they all match the same packages: runs of letters and digits, lowercased.
 * `wasi:http-client` is the words wasi, http and client. Accents are dropped
 * (naïve is naive), as SQLite's FTS5 tokenizer does on its side.
 */
export function searchWords(text: string): string[] {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}
