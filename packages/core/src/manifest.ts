/**
 * The `run.toml` codec: parsed into a checked Manifest (a mistake names the
 * file, line and key), and edited as text so that a user's comments, order
 * and spacing survive `run v2 install ns:pkg`.
 */
import semver from "semver";
import { TomlError, parse } from "smol-toml";
import { nameProblem, rangeProblem } from "./names.js";

export const MANIFEST_FILE = "run.toml";

export type DependencyTable = "dependencies" | "dev-dependencies";

export interface DependencySpec {
  name: string;
  /** As written in the file, e.g. `0.2.0`. */
  written: string;
  /** The semver range it means, e.g. `^0.2.0` (a bare version is a caret range, as in Cargo). */
  range: string;
  optional: boolean;
}

export interface ComponentSpec {
  name: string;
  source: string | undefined;
  language: string | undefined;
  wit: string | undefined;
  /** A component that is already built. */
  path: string | undefined;
}

export interface ProjectSpec {
  /** The namespace that the project's components are published under. */
  name: string | undefined;
  version: string | undefined;
  description: string | undefined;
  license: string | undefined;
  repository: string | undefined;
}

export interface RegistrySpec {
  url: string | undefined;
  authToken: string | undefined;
  mirrors: string[];
}

export interface Manifest {
  project: ProjectSpec;
  components: ComponentSpec[];
  dependencies: DependencySpec[];
  devDependencies: DependencySpec[];
  registry: RegistrySpec;
  /** Keys this version of run does not know (a typo, most likely), one sentence each; they are ignored. */
  warnings: string[];
}

/** Every key run.toml may hold, per table: anything else is reported, as Cargo reports an unused manifest key. */
const KNOWN_KEYS = {
  top: ["project", "component", "dependencies", "dev-dependencies", "registry"],
  project: ["name", "version", "description", "license", "repository"],
  component: ["name", "source", "language", "wit", "path"],
  dependency: ["version", "optional"],
  registry: ["url", "auth_token", "mirrors"],
} as const;

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly key: string | undefined,
    readonly problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ""}: ${key ? `${key}: ` : ""}${problem}`);
  }
}

/** A version with nothing in front means "compatible with", as in Cargo: `0.2.0` is `^0.2.0`. */
export function normaliseRange(written: string): string {
  const text = written.trim();
  if (/^\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(text)) return `^${text}`;
  return text;
}

type Table = Record<string, unknown>;

const isTable = (value: unknown): value is Table => typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);

/** Reads a checked Manifest; throws ManifestError naming the file, line and key. */
export function parseManifest(text: string, file = MANIFEST_FILE): Manifest {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new ManifestError(file, error.line, undefined, `not valid TOML: ${firstLine}`);
    }
    throw error;
  }
  const fail = (table: string | undefined, key: string, problem: string, index?: number): never => {
    const shown = table ? `${table}${index !== undefined ? `[${index}]` : ""}.${key}` : key;
    throw new ManifestError(file, lineOfKey(text, table, key, index), shown, problem);
  };

  const optionalString = (table: Table, tableName: string, key: string, index?: number): string | undefined => {
    const value = table[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") fail(tableName, key, `expected a string, found ${describe(value)}`, index);
    return value as string;
  };
  const tableAt = (key: string): Table => {
    const value = doc[key];
    if (value === undefined) return {};
    if (!isTable(value)) fail(undefined, key, `expected a table [${key}], found ${describe(value)}`);
    return value as Table;
  };

  const projectTable = tableAt("project");
  const project: ProjectSpec = {
    name: optionalString(projectTable, "project", "name"),
    version: optionalString(projectTable, "project", "version"),
    description: optionalString(projectTable, "project", "description"),
    license: optionalString(projectTable, "project", "license"),
    repository: optionalString(projectTable, "project", "repository"),
  };
  if (project.version !== undefined && semver.valid(project.version) !== project.version) {
    fail("project", "version", `"${project.version}" is not a semver version such as 1.0.0`);
  }

  const componentList = doc.component ?? [];
  if (!Array.isArray(componentList)) fail(undefined, "component", "expected an array of tables [[component]]");
  const components = (componentList as unknown[]).map((entry, index): ComponentSpec => {
    if (!isTable(entry)) return fail(undefined, "component", "expected an array of tables [[component]]");
    const name = optionalString(entry, "component", "name", index);
    if (name === undefined) fail("component", "name", "every [[component]] needs a name", index);
    return {
      name: name!,
      source: optionalString(entry, "component", "source", index),
      language: optionalString(entry, "component", "language", index),
      wit: optionalString(entry, "component", "wit", index),
      path: optionalString(entry, "component", "path", index),
    };
  });

  const dependencyTable = (table: DependencyTable): DependencySpec[] =>
    Object.entries(tableAt(table))
      .map(([name, value]): DependencySpec => {
        const badName = nameProblem(name);
        if (badName) fail(table, quoteKey(name), badName);
        let written: unknown = value;
        let optional: unknown = false;
        if (isTable(value)) {
          written = value.version;
          optional = value.optional ?? false;
          if (written === undefined) fail(table, quoteKey(name), 'an inline table needs a version, e.g. { version = "1.0", optional = true }');
        }
        if (typeof written !== "string") fail(table, quoteKey(name), `expected a version range string such as "1.0.0", found ${describe(written)}`);
        if (typeof optional !== "boolean") fail(table, quoteKey(name), `optional must be true or false, found ${describe(optional)}`);
        const range = normaliseRange(written as string);
        const badRange = rangeProblem(range);
        if (badRange) fail(table, quoteKey(name), badRange);
        return { name, written: written as string, range, optional: optional as boolean };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const registryTable = tableAt("registry");
  const mirrors = registryTable.mirrors ?? [];
  if (!Array.isArray(mirrors) || mirrors.some((m) => typeof m !== "string")) {
    fail("registry", "mirrors", 'expected an array of URLs, e.g. ["https://mirror.example.com"]');
  }

  return {
    project,
    components,
    dependencies: dependencyTable("dependencies"),
    devDependencies: dependencyTable("dev-dependencies"),
    registry: {
      url: optionalString(registryTable, "registry", "url"),
      authToken: optionalString(registryTable, "registry", "auth_token"),
      mirrors: mirrors as string[],
    },
    warnings: unknownKeys(doc, text, file),
  };
}

/** One warning per key that run does not know, naming its line and the known key it is closest to. */
function unknownKeys(doc: Table, text: string, file: string): string[] {
  const warnings: string[] = [];
  const check = (table: Table, known: readonly string[], tableName: string | undefined, shown: string, index?: number) => {
    for (const key of Object.keys(table)) {
      if (known.includes(key)) continue;
      const line = lineOfKey(text, tableName, key, index);
      const guess = closest(key, known);
      warnings.push(
        `${file}${line ? `:${line}` : ""}: unknown key ${JSON.stringify(key)} in ${shown}` +
          `${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}; it is ignored`,
      );
    }
  };
  check(doc, KNOWN_KEYS.top, undefined, "run.toml");
  if (isTable(doc.project)) check(doc.project, KNOWN_KEYS.project, "project", "[project]");
  if (Array.isArray(doc.component)) {
    doc.component.forEach((entry, index) => {
      if (isTable(entry)) check(entry, KNOWN_KEYS.component, "component", "[[component]]", index);
    });
  }
  for (const tableName of ["dependencies", "dev-dependencies"] as const) {
    const table = doc[tableName];
    if (!isTable(table)) continue;
    for (const [name, spec] of Object.entries(table)) {
      if (isTable(spec)) check(spec, KNOWN_KEYS.dependency, tableName, `the ${name} entry of [${tableName}]`);
    }
  }
  if (isTable(doc.registry)) check(doc.registry, KNOWN_KEYS.registry, "registry", "[registry]");
  return warnings;
}

/** The known key a typo most likely meant: at most two edits away, else none. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (isTable(value)) return "a table";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function quoteKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

const HEADER = /^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/;
const KEY_LINE = /^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=/;

function headerName(raw: string): string {
  return raw.replace(/\s*\.\s*/g, ".");
}

function keyOf(line: string): string | undefined {
  const match = KEY_LINE.exec(line);
  if (!match) return undefined;
  if (match[1] !== undefined) {
    try {
      return JSON.parse(`"${match[1]}"`) as string;
    } catch {
      return match[1];
    }
  }
  return match[2] ?? match[3];
}

/**
 * The 1-based line where `key` is set inside `[table]` (the `index`-th one for
 * an array of tables), or the table's header line, or undefined. Good enough
 * for error messages; a key set in a dotted or inline form falls back to the header.
 */
export function lineOfKey(text: string, table: string | undefined, key: string, index?: number): number | undefined {
  const lines = text.split(/\r?\n/);
  const wanted = key.replace(/^"|"$/g, "");
  let current: string | undefined;
  let seen = -1;
  let headerLine: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const header = HEADER.exec(lines[i]!);
    if (header) {
      current = headerName(header[2]!);
      if (current === table) {
        seen++;
        if (index === undefined || seen === index) headerLine = i + 1;
      }
      continue;
    }
    const inTable = table === undefined ? current === undefined : current === table && (index === undefined || seen === index);
    if (inTable && keyOf(lines[i]!) === wanted) return i + 1;
  }
  if (table === undefined) {
    // A top-level key given as a table header, e.g. [project] when a string was expected.
    const at = lines.findIndex((line) => HEADER.exec(line) && headerName(HEADER.exec(line)![2]!) === key);
    return at === -1 ? undefined : at + 1;
  }
  return headerLine;
}

/**
 * Sets `"name" = "written"` in `[table]`, changing only that line (or adding
 * one, or adding the table at the end). Everything else in the file stays
 * byte for byte as it was.
 */
export function setDependency(text: string, table: DependencyTable, name: string, written: string): string {
  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r?\n/);
  const entry = `${JSON.stringify(name)} = ${JSON.stringify(written)}`;
  const headerAt = lines.findIndex((line) => {
    const header = HEADER.exec(line);
    return header !== null && header[1] === "[" && headerName(header[2]!) === table;
  });
  if (headerAt === -1) {
    if (lines.some((line) => HEADER.exec(line) && headerName(HEADER.exec(line)![2]!) === `${table}.${JSON.stringify(name)}`)) {
      throw new Error(`${name} is set in a [${table}."${name}"] table; change its version there by hand`);
    }
    let body = text;
    if (body.length > 0 && !body.endsWith("\n")) body += newline;
    if (body.trim().length > 0) body += newline;
    return `${body}[${table}]${newline}${entry}${newline}`;
  }
  let end = lines.length;
  for (let i = headerAt + 1; i < lines.length; i++) {
    if (HEADER.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  for (let i = headerAt + 1; i < end; i++) {
    if (keyOf(lines[i]!) !== name) continue;
    const line = lines[i]!;
    const quoted = `("(?:[^"\\\\]|\\\\.)*"|'[^']*')`;
    // Only the version string changes: spacing and a trailing comment stay as the user wrote them.
    const valueAt = /=\s*\{.*\}/.test(line) ? new RegExp(`(\\bversion\\s*=\\s*)${quoted}`) : new RegExp(`^([^=]*=\\s*)${quoted}`);
    lines[i] = valueAt.test(line) ? line.replace(valueAt, (_all, before: string) => `${before}${JSON.stringify(written)}`) : `${/^\s*/.exec(line)![0]}${entry}`;
    return lines.join(newline);
  }
  // After the table's last key, so that blank lines and comments before the next table stay put.
  let insertAt = headerAt + 1;
  for (let i = headerAt + 1; i < end; i++) if (keyOf(lines[i]!) !== undefined) insertAt = i + 1;
  lines.splice(insertAt, 0, entry);
  return lines.join(newline);
}
