/**
 * Runs the Coder simulator by hand: `npx tsx sim/main.ts --port 7080 --seed demo [--coder-version 2.25]`
 * (`--help` for every option). `--daemons 4 [--job-seconds 60] [--time-scale 10]` runs builds
 * through the provisioner queue (4 untagged daemons) on a clock 10× faster than real time.
 * Prints the URL and the admin token, and stops on SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { seedDemoFamilies } from './demo-families.js';
import {
  CODER_VERSION_NAMES,
  DEFAULT_CODER_VERSION,
  DISAGREEING_PROFILE_NAMES,
  isSimProfileName,
} from './profiles/index.js';
import { startCoderSimulator } from './server.js';

const USAGE = `Usage: npx tsx sim/main.ts [options]

Runs the Coder simulator on 127.0.0.1 until Ctrl-C, and prints its CODER_URL and an admin
CODER_SESSION_TOKEN for the coder-fleet CLI.

  --port N               port to listen on (default: 7080; 0 picks a free one)
  --seed demo            the demo fleet: users, templates (docker, kubernetes and seed 000's
                         kubernetes-multi with its families), a provisioner key and daemons
  --coder-version V      the Coder release to behave as: ${CODER_VERSION_NAMES.join(', ')} (default: ${DEFAULT_CODER_VERSION})
  --build-duration-ms N  how long a workspace build takes (default: 2000)
  --webhook-url URL      deliver Coder's workspace notifications to this URL
  --no-rate-limit        answer every request (no 429s)
  --daemons N            run builds through Coder's provisioner queue with N untagged daemons
                         (default: builds finish on a timer, as with unlimited provisioners)
  --job-seconds N        how long each provisioner job takes with --daemons (default: 60)
  --time-scale N         run the simulated clock N times faster than real time (default: 1)
  -h, --help             this help

Then, in another shell:
  export CODER_URL=http://127.0.0.1:7080 CODER_SESSION_TOKEN=<printed token>
  npm run cli -- families plan --template kubernetes-multi`;

/** A usage error: one line, the usage, exit code 2 (as the coder-fleet CLI does). */
function usageError(message: string): never {
  process.stderr.write(`error: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const parse = () => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '7080' },
        seed: { type: 'string' },
        'build-duration-ms': { type: 'string', default: '2000' },
        'webhook-url': { type: 'string' },
        'no-rate-limit': { type: 'boolean', default: false },
        'coder-version': { type: 'string', default: DEFAULT_CODER_VERSION },
        daemons: { type: 'string' },
        'job-seconds': { type: 'string', default: '60' },
        'time-scale': { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    return usageError(
      error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error),
    );
  }
};
const values = parse();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const port = Number(values.port);
if (!/^\d+$/.test(values.port) || port > 65_535)
  usageError(`--port must be a port number, got "${values.port}"`);
if (values.seed !== undefined && values.seed !== 'demo')
  usageError(`--seed knows only "demo", got "${values.seed}"`);
const buildDurationMs = Number(values['build-duration-ms']);
if (!/^\d+$/.test(values['build-duration-ms'])) {
  usageError(
    `--build-duration-ms must be a whole number of milliseconds, got "${values['build-duration-ms']}"`,
  );
}

const nonNegative = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n >= 0) || !Number.isFinite(n)) usageError(`--${name} must be a number of 0 or more, got "${raw}"`);
  return n;
};
const daemons = nonNegative('daemons', values.daemons);
const jobSeconds = nonNegative('job-seconds', values['job-seconds']) ?? 60;
const timeScale = nonNegative('time-scale', values['time-scale']) || 1;

const coderVersion = values['coder-version'];
if (!isSimProfileName(coderVersion)) {
  usageError(
    `--coder-version knows ${[...CODER_VERSION_NAMES, ...DISAGREEING_PROFILE_NAMES].join(', ')}; got "${coderVersion}"`,
  );
}

const sim = await startCoderSimulator({
  coderVersion,
  port,
  buildDurationMs,
  webhookUrl: values['webhook-url'],
  rateLimit: values['no-rate-limit'] ? false : undefined,
  timeScale,
  ...(daemons === undefined
    ? {}
    : {
        provisioners: {
          jobDuration: { kind: 'fixed' as const, ms: jobSeconds * 1000 },
          pools: [{ name: 'provisioner', count: Math.floor(daemons) }],
        },
      }),
  // Long-running sessions would otherwise keep every exchange in memory.
  record: false,
});
if (values.seed === 'demo') seedDemoFamilies(sim.seed);

process.stdout.write(`Coder simulator (Coder ${sim.profile.buildVersion}) listening on ${sim.url}\n`);
process.stdout.write(`CODER_URL=${sim.url}\nCODER_SESSION_TOKEN=${sim.adminToken}\n`);

const stop = (): void => {
  sim.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
