#!/usr/bin/env node
/**
 * The `run` command. `run v2 <command>` is the documented form (the seed's);
 * `run <command>` is the same thing, shorter. Exit codes: 0 success,
 * 1 failure, 2 usage error. No stack trace reaches the user unless
 * RUN_DEBUG is set.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerBuild } from "./commands/build.js";
import { registerInfo } from "./commands/info.js";
import { registerInit } from "./commands/init.js";
import { registerInstall } from "./commands/install.js";
import { registerPublish } from "./commands/publish.js";
import { registerSearch } from "./commands/search.js";
import { registerUpdate } from "./commands/update.js";
import { registerVerify } from "./commands/verify.js";
import { registerLogin } from "./commands/login.js";
import { registerToken } from "./commands/token.js";
import { registerYank } from "./commands/yank.js";
import { CliError, EXIT_FAILURE, EXIT_USAGE, fileSystemMessage } from "./errors.js";
import { errorLine } from "./output.js";

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

function buildProgram(): Command {
  const program = new Command("run")
    .usage("[v2] <command> [options]")
    .description("Install, publish and inspect WASI Preview 2 components from a component registry.")
    .version(packageJson.version, "-V, --version", "print the version of the run command")
    .helpOption("-h, --help", "show help for the command")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (text) => errorLine(text.replace(/^error: /, "").trimEnd()) })
    .addHelpText(
      "after",
      "\nRegistry: --registry-url beats RUN_REGISTRY_URL, which beats [registry] url in run.toml.\n" +
        "Token:    --token beats RUN_AUTH_TOKEN, which beats the token `run v2 login` saved for that registry,\n" +
        "          which beats [registry] auth_token in run.toml.\n" +
        "Run `run v2 <command> --help` for a command's options.",
    );
  registerInstall(program);
  registerUpdate(program);
  registerInit(program);
  registerBuild(program);
  registerPublish(program);
  registerInfo(program);
  registerVerify(program);
  registerSearch(program);
  registerYank(program);
  registerLogin(program);
  registerToken(program);
  const configure = (command: Command) => {
    command.exitOverride().configureOutput({ outputError: (text) => errorLine(text.replace(/^error: /, "").trimEnd()) });
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const args = argv[0] === "v2" ? argv.slice(1) : argv;
  const program = buildProgram();
  if (args.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(args, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version come through here too, with exit code 0.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof CliError) {
      errorLine(error.message);
      return error.exitCode;
    }
    if (process.env.RUN_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    const fileProblem = fileSystemMessage(error);
    if (fileProblem) {
      errorLine(fileProblem);
      return EXIT_FAILURE;
    }
    errorLine(`unexpected failure: ${(error as Error)?.message ?? String(error)} (set RUN_DEBUG=1 to see where; please report it)`);
    return EXIT_FAILURE;
  }
}

// `run search x | head` closes the pipe early; that is the reader's choice, not a failure to report.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
