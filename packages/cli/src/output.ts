/**
 * Everything the command prints goes through here, so that NO_COLOR, a
 * terminal versus a pipe, and the stdout/stderr split are decided once:
 * results on stdout (so `--json` output can be piped), messages on stderr.
 */
/** NO_COLOR (no-color.org) always wins; FORCE_COLOR asks for colour where there is no terminal. */
const useColor = (stream: NodeJS.WriteStream): boolean => {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && process.env.TERM !== "dumb";
};

const paint = (code: number) => (text: string, stream: NodeJS.WriteStream = process.stdout) =>
  useColor(stream) ? `\x1b[${code}m${text}\x1b[0m` : text;

export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);

export function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}

export function json(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Progress and notes: on stderr, so stdout stays the result. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`${yellow("warning:", process.stderr)} ${message}\n`);
}

export function errorLine(message: string): void {
  process.stderr.write(`${red("error:", process.stderr)} ${message}\n`);
}

export function isInteractive(): boolean {
  return process.stderr.isTTY === true;
}
