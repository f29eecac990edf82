import { runDemoCommand } from './demo.js';
import { EXIT, explainError, UsageError } from './errors.js';
import { runFamiliesCommand } from './families.js';
import { runKeysCommand } from './keys.js';
import { type CliIo, CliOutput } from './output.js';
import { runScaleCommand } from './scale.js';
import { runScheduleCommand } from './schedule.js';
import { didYouMean } from './suggest.js';
import { MAIN_USAGE } from './usage.js';
import { CLI_VERSION } from './version.js';

const COMMANDS = ['families', 'scale', 'schedule', 'keys', 'demo', 'help'] as const;

/** A token on the command line shows in `ps` and the shell history: the CLI takes none there. */
export const TOKEN_FLAG_REFUSED =
  'the Coder token is not taken as a flag (--token shows in ps and the shell history): set CODER_SESSION_TOKEN, ' +
  'or pipe it in with --token-stdin, e.g. `printf %s "$TOKEN" | coder-fleet families plan --token-stdin`';

/**
 * The operator CLI: `coder-fleet <command> …`. Returns the exit code: 0 success, 1 failure, 2 bad
 * usage. Never throws; every failure becomes one message on stderr that says what to do.
 */
export const runCli = async (argv: readonly string[], io: CliIo): Promise<number> => {
  const [command, ...rest] = argv;
  // Registered before parsing, so even a usage error cannot echo the token.
  const guard = new CliOutput(io, false);
  guard.addSecret(io.env.CODER_SESSION_TOKEN);
  const tokenFlag = argv.findIndex((a) => a === '--token' || a.startsWith('--token='));
  if (tokenFlag >= 0) {
    const flag = argv[tokenFlag] as string;
    guard.addSecret(flag.includes('=') ? flag.slice('--token='.length) : argv[tokenFlag + 1]);
  }
  const scrubbed: CliIo = {
    ...io,
    stdout: (t) => io.stdout(guard.redact(t)),
    stderr: (t) => io.stderr(guard.redact(t)),
  };
  const coderUrl = flagValue(argv, '--coder-url') ?? io.env.CODER_URL;
  try {
    if (tokenFlag >= 0) throw new UsageError(TOKEN_FLAG_REFUSED);
    switch (command) {
      case 'families':
        return await runFamiliesCommand(rest, scrubbed);
      case 'scale':
        return await runScaleCommand(rest, scrubbed);
      case 'schedule':
        return await runScheduleCommand(rest, scrubbed);
      case 'keys':
        return await runKeysCommand(rest, scrubbed);
      case 'demo':
        return await runDemoCommand(rest, scrubbed);
      case undefined:
        throw new UsageError('no command given', MAIN_USAGE);
      case '--version':
      case '-v':
      case 'version':
        scrubbed.stdout(`coder-fleet ${CLI_VERSION} (coder-fleet-controller, Node ${process.version})\n`);
        return EXIT.ok;
      case 'help':
      case '--help':
      case '-h':
        scrubbed.stdout(`${MAIN_USAGE}\n`);
        return EXIT.ok;
      default:
        throw new UsageError(
          command.startsWith('-')
            ? `unknown option ${command}${didYouMean(command, ['--help', '--version'])}; options go after the command`
            : `unknown command "${command}"${didYouMean(command, COMMANDS)}`,
          MAIN_USAGE,
        );
    }
  } catch (error) {
    if (error instanceof UsageError) {
      scrubbed.stderr(`error: ${error.message}\n`);
      if (error.usage) scrubbed.stderr(`\n${error.usage}\n`);
      else scrubbed.stderr('Run coder-fleet --help for usage.\n');
      return EXIT.usage;
    }
    scrubbed.stderr(`error: ${explainError(error, coderUrl ? { coderUrl } : {})}\n`);
    return EXIT.failure;
  }
};

const flagValue = (argv: readonly string[], flag: string): string | undefined => {
  const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i < 0) return undefined;
  const arg = argv[i] as string;
  return arg.includes('=') ? arg.slice(flag.length + 1) : argv[i + 1];
};
