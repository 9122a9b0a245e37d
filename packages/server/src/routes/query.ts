/** Query-string parameters, checked: a bad one is a 400 that names it. */
import { badRequest } from "../errors.js";

type Query = Record<string, string | string[] | undefined>;

export function textParam(query: Query, key: string, maxLength: number): string {
  const value = query[key];
  if (value === undefined) return "";
  if (Array.isArray(value)) throw badRequest("invalid_query", `"${key}" is given more than once`);
  if (value.length > maxLength) throw badRequest("invalid_query", `"${key}" is longer than ${maxLength} characters`);
  if (value.includes("\0")) throw badRequest("invalid_query", `"${key}" contains a NUL character`);
  return value;
}

export function intParam(query: Query, key: string, fallback: number, min: number, max: number): number {
  const text = textParam(query, key, 12);
  if (text === "") return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw badRequest("invalid_query", `"${key}" must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return Number(text);
}

/** Search paging, shared by the API and the pages. */
export const MAX_SEARCH_LIMIT = 100;
export const MAX_SEARCH_OFFSET = 1_000_000;
export const MAX_QUERY_LENGTH = 256;

/** Longest interface name accepted in a search filter. */
export const MAX_INTERFACE_LENGTH = 256;

/** The `import` / `export` filters of a search, each an interface or function name with or without `@version`. */
export function interfaceParams(query: Query): { imports?: string; exports?: string } {
  const filter: { imports?: string; exports?: string } = {};
  for (const [key, field] of [["import", "imports"], ["export", "exports"]] as const) {
    const value = textParam(query, key, MAX_INTERFACE_LENGTH).trim();
    if (value === "") continue;
    if (!/^[%\w:/.@+#-]+$/.test(value)) {
      throw badRequest("invalid_query", `"${key}" must name an interface such as wasi:http/incoming-handler or wasi:http/incoming-handler@0.2.0, not "${value}"`);
    }
    filter[field] = value;
  }
  return filter;
}
