/**
 * Turns the text fields of a publish form into a checked request, or a 400
 * that names the field and says what was expected.
 */
import {
  DEFAULT_TARGETS,
  type Dependency,
  isSha256Hex,
  nameProblem,
  rangeProblem,
  versionProblem,
} from "@wasm-registry/core";
import { badRequest } from "./errors.js";

export interface PublishFields {
  name: string;
  namespace: string;
  version: string;
  description: string | null;
  license: string | null;
  repository: string | null;
  witUrl: string | null;
  dependencies: Dependency[];
  targets: string[];
  /** The digest the publisher claims, when given. */
  sha256: string | undefined;
}

const MAX_DEPENDENCIES = 500;
const MAX_TARGETS = 32;
const TARGET = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function optionalText(fields: Map<string, string>, key: string): string | null {
  const value = fields.get(key)?.trim();
  return value ? value : null;
}

function httpUrl(fields: Map<string, string>, key: string): string | null {
  const value = optionalText(fields, key);
  if (value === null) return null;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw badRequest("invalid_field", `"${key}" must be an http or https URL, e.g. https://github.com/alice/calc`);
  }
  return value;
}

function jsonArray(fields: Map<string, string>, key: string, example: string): unknown[] | undefined {
  const text = optionalText(fields, key);
  if (text === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("invalid_field", `"${key}" is not valid JSON; expected an array such as ${example}`);
  }
  if (!Array.isArray(value)) throw badRequest("invalid_field", `"${key}" must be a JSON array such as ${example}`);
  return value;
}

function parseDependencies(fields: Map<string, string>): Dependency[] {
  const example = '[{"name": "wasi:http", "version": "^0.2.0"}]';
  const list = jsonArray(fields, "dependencies", example) ?? [];
  if (list.length > MAX_DEPENDENCIES) throw badRequest("invalid_field", `more than ${MAX_DEPENDENCIES} dependencies`);
  const seen = new Set<string>();
  return list.map((entry, index) => {
    const where = `dependencies[${index}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw badRequest("invalid_dependency", `${where} must be an object such as ${example.slice(1, -1)}`);
    }
    const { name, version, optional } = entry as Record<string, unknown>;
    if (typeof name !== "string") throw badRequest("invalid_dependency", `${where}.name must be a string`);
    const badName = nameProblem(name);
    if (badName) throw badRequest("invalid_dependency", `${where}.name: ${badName}`);
    if (typeof version !== "string") throw badRequest("invalid_dependency", `${where}.version must be a string`);
    const badRange = rangeProblem(version);
    if (badRange) throw badRequest("invalid_dependency", `${where}.version: ${badRange}`);
    if (optional !== undefined && typeof optional !== "boolean") {
      throw badRequest("invalid_dependency", `${where}.optional must be true or false`);
    }
    if (seen.has(name)) throw badRequest("invalid_dependency", `${name} is listed twice in dependencies`);
    seen.add(name);
    return { name, version, optional: optional ?? false };
  });
}

function parseTargets(fields: Map<string, string>): string[] {
  const list = jsonArray(fields, "targets", '["wasm32-wasip2"]');
  if (list === undefined || list.length === 0) return [...DEFAULT_TARGETS];
  if (list.length > MAX_TARGETS) throw badRequest("invalid_field", `more than ${MAX_TARGETS} targets`);
  for (const target of list) {
    if (typeof target !== "string" || !TARGET.test(target)) {
      throw badRequest("invalid_field", `targets must be lowercase target names such as "wasm32-wasip2", not ${JSON.stringify(target)}`);
    }
  }
  return [...new Set(list as string[])];
}

export function parsePublishFields(fields: Map<string, string>): PublishFields {
  const name = fields.get("name")?.trim() ?? "";
  if (name === "") throw badRequest("missing_field", 'the field "name" is missing; expected namespace:package, e.g. alice:calc');
  const badName = nameProblem(name);
  if (badName) throw badRequest("invalid_name", badName);
  const version = fields.get("version")?.trim() ?? "";
  if (version === "") throw badRequest("missing_field", 'the field "version" is missing; expected semver such as 1.0.0');
  const badVersion = versionProblem(version);
  if (badVersion) throw badRequest("invalid_version", badVersion);

  let sha256 = optionalText(fields, "sha256")?.toLowerCase() ?? undefined;
  if (sha256?.startsWith("sha256:")) sha256 = sha256.slice("sha256:".length);
  if (sha256 !== undefined && !isSha256Hex(sha256)) {
    throw badRequest("invalid_field", '"sha256" must be 64 hexadecimal digits (the SHA-256 of the component file)');
  }

  return {
    name,
    namespace: name.slice(0, name.indexOf(":")),
    version,
    description: optionalText(fields, "description"),
    license: optionalText(fields, "license"),
    repository: httpUrl(fields, "repository"),
    witUrl: httpUrl(fields, "wit_url"),
    dependencies: parseDependencies(fields),
    targets: parseTargets(fields),
    sha256,
  };
}
