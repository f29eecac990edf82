/**
 * Runs the Coder simulator by hand: `npx tsx sim/main.ts --port 7080 --seed demo [--coder-version 2.25]`.
 * Prints the URL and the admin token, and stops on SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { seedDemoFleet } from './demo-seed.js';
import {
  CODER_VERSION_NAMES,
  DEFAULT_CODER_VERSION,
  DISAGREEING_PROFILE_NAMES,
  isSimProfileName,
} from './profiles/index.js';
import { startCoderSimulator } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7080' },
    seed: { type: 'string' },
    'build-duration-ms': { type: 'string', default: '2000' },
    'webhook-url': { type: 'string' },
    'no-rate-limit': { type: 'boolean', default: false },
    'coder-version': { type: 'string', default: DEFAULT_CODER_VERSION },
  },
});

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
if (!isSimProfileName(coderVersion)) {
  process.stderr.write(
    `--coder-version knows ${[...CODER_VERSION_NAMES, ...DISAGREEING_PROFILE_NAMES].join(', ')}; got ${coderVersion}\n`,
  );
  process.exit(2);
}

const sim = await startCoderSimulator({
  coderVersion,
  port,
  buildDurationMs: Number(values['build-duration-ms']),
  webhookUrl: values['webhook-url'],
  rateLimit: values['no-rate-limit'] ? false : undefined,
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
