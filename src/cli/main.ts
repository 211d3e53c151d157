// The `rebound` command line: a table of sub-commands, each in its own module under commands/,
// loaded only when used so `rebound validate` never pays for the Kubernetes client.
import { errorMessage } from '../errors.ts';
import type { Command } from './commands/command.ts';

type CommandLoader = () => Promise<Command>;

const commands: Record<string, CommandLoader> = {
  validate: async () => (await import('./commands/validate.ts')).command,
  plan: async () => (await import('./commands/plan.ts')).command,
  migrate: async () => (await import('./commands/migrate.ts')).command,
  approve: async () => (await import('./commands/approve.ts')).approve,
  reject: async () => (await import('./commands/approve.ts')).reject,
  evaluate: async () => (await import('./commands/evaluate.ts')).command,
  send: async () => (await import('./commands/send.ts')).command,
  controller: async () => (await import('./commands/controller.ts')).command,
  version: async () => (await import('./commands/version.ts')).command,
};

export function usage(): string {
  const names = Object.keys(commands).sort();
  return [
    'Usage: rebound <command> [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n}`),
    '',
    'Run `rebound <command> --help` for the options of one command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`rebound: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    const command = await load();
    return await command.run(rest);
  } catch (err) {
    process.stderr.write(`rebound ${name}: ${errorMessage(err)}\n`);
    return 2;
  }
}
