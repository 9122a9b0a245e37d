/**
 * Package names inside URL paths. A name arrives raw (`alice:calc`) or
 * percent-encoded (`alice%3Acalc`); a package part with `/` segments arrives
 * as `%2F` (or raw, which also works since the tail of each path is fixed).
 */
import { nameProblem, versionProblem } from "@wasm-registry/core";
import { badRequest } from "../errors.js";

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest("invalid_name", `"${segment}" is not valid percent-encoding`);
  }
}

/**
 * Splits the path after a route's prefix into the name and `tailLength`
 * fixed segments after it. `rawPath` is the undecoded request path tail.
 */
export function splitNamePath(rawPath: string, tailLength: number): { name: string; tail: string[] } | undefined {
  const segments = rawPath.split("/");
  if (segments.length < tailLength + 1 || segments.some((segment) => segment === "")) return undefined;
  const tail = segments.splice(segments.length - tailLength, tailLength).map(decodeSegment);
  const name = segments.map(decodeSegment).join("/");
  return { name, tail };
}

export function checkName(name: string): string {
  const problem = nameProblem(name);
  if (problem) throw badRequest("invalid_name", problem);
  return name;
}

export function checkVersion(version: string): string {
  const problem = versionProblem(version);
  if (problem) throw badRequest("invalid_version", problem);
  return version;
}

/** The raw path of a request after `prefix`, query string removed. */
export function pathAfter(url: string, prefix: string): string {
  const query = url.indexOf("?");
  const pathname = query === -1 ? url : url.slice(0, query);
  return pathname.slice(prefix.length);
}
