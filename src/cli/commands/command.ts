// What every `rebound` sub-command module exports: the table in cli/main.ts loads them by name.
export interface Command {
  summary: string;
  /** Runs the command and returns the process exit code. */
  run(argv: string[]): Promise<number>;
}
