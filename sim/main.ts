/**
 * Runs the Coder simulator by hand: `npx tsx sim/main.ts --port 7080 --seed demo [--coder-version 2.25]`.
 * `--daemons 4 [--job-seconds 60] [--time-scale 10]` runs builds through the provisioner queue
 * (4 untagged daemons) on a clock 10× faster than real time. Prints the URL and the admin token,
 * and stops on SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { seedDemoFleet } from './demo-seed.js';
import { CODER_VERSION_NAMES, DEFAULT_CODER_VERSION, isCoderVersionName } from './profiles/index.js';
import { startCoderSimulator } from './server.js';

const { values } = parseArgs({
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
  },
});

const positive = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n >= 0) || !Number.isFinite(n)) {
    process.stderr.write(`--${name} must be a number >= 0, got ${raw}\n`);
    process.exit(2);
  }
  return n;
};
const daemons = positive('daemons', values.daemons);
const jobSeconds = positive('job-seconds', values['job-seconds']) ?? 60;
const timeScale = positive('time-scale', values['time-scale']) || 1;

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`--port must be a port number, got ${values.port}\n`);
  process.exit(2);
}
if (values.seed !== undefined && values.seed !== 'demo') {
  process.stderr.write(`--seed knows only "demo", got ${values.seed}\n`);
  process.exit(2);
}

const coderVersion = values['coder-version'];
if (!isCoderVersionName(coderVersion)) {
  process.stderr.write(`--coder-version knows ${CODER_VERSION_NAMES.join(', ')}; got ${coderVersion}\n`);
  process.exit(2);
}

const sim = await startCoderSimulator({
  coderVersion,
  port,
  buildDurationMs: Number(values['build-duration-ms']),
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
if (values.seed === 'demo') seedDemoFleet(sim.seed);

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
