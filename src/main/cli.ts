import { parseArgs } from 'node:util';
import { commands } from './cli/commands';
import { commonOptions, type CliIo } from './cli/command';
import { AppError } from './errors';

const stdio: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function help(io: CliIo): void {
  io.out('ctgi — CTGI Studio from the command line\n');
  io.out('Usage: ctgi <command> [options]   (every command takes --workspace FILE; many take --json)\n');
  for (const c of commands) io.out(`  ${c.name.padEnd(10)} ${c.summary}`);
  io.out('\nRun `ctgi <command> --help` for its options.');
}

export async function main(argv: string[], io: CliIo = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    help(io);
    return name === undefined ? 1 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`ctgi: unknown command "${name}". Run \`ctgi help\` for the list.`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...commonOptions, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.out(`ctgi ${command.name} — ${command.summary}\n\n${command.usage}`);
      return 0;
    }
    return await command.run(values, positionals, io);
  } catch (err) {
    if (err instanceof AppError) {
      io.err(`ctgi ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      io.err(`ctgi ${name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    io.err(`ctgi ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}
