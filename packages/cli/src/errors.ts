/**
 * Errors the user sees: one sentence, an exit code, never a stack trace.
 * Anything else that escapes is a bug in this command and is reported as one.
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** What each file-system failure means to a person, for the errors a disk and its permissions cause. */
const FILE_SYSTEM_REASONS: Record<string, string> = {
  EISDIR: "it is a folder, where a file was expected",
  ENOTDIR: "a part of that path is a file, where a folder was expected",
  EACCES: "permission denied",
  EPERM: "the operation is not permitted",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  EROFS: "the file system is read-only",
  EMFILE: "too many files are open",
  ENAMETOOLONG: "the path is too long",
};

/**
 * A file-system failure (a cache entry that is a folder, a read-only project…)
 * as one sentence naming the path; undefined for any other error.
 */
export function fileSystemMessage(error: unknown): string | undefined {
  const { code, path, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  const reason = code === undefined ? undefined : FILE_SYSTEM_REASONS[code];
  if (!reason || !path) return undefined;
  return `cannot ${syscall ?? "use"} ${path}: ${reason} (${code}); fix or remove it and run the command again`;
}
