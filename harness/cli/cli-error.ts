/** A usage error: printed as one clear line naming the flag, exit code 2. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Runs a CLI main: usage and input errors print `sluice <cmd>: message` and exit 2; anything else exits 1 with its stack. */
export function runMain(command: string, main: () => Promise<number | void>, knownErrors: string[] = []): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      if (e instanceof CliError || knownErrors.includes(e.name) || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        process.stderr.write(`sluice ${command}: ${e.message}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`sluice ${command}: ${e.stack ?? e.message}\n`);
        process.exitCode = 1;
      }
    },
  );
}
