import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { MOTO_SERVER } from './external-tools.js';

/**
 * `moto_server` (moto, a widely used AWS emulator: https://github.com/getmoto/moto) on a free
 * 127.0.0.1 port, one process serving every AWS service at one endpoint. A prerequisite of the
 * full suite (README); test/bundles/moto.test.ts checks for it first (support/external-tools.ts).
 */
export interface MotoServer {
  readonly endpoint: string;
  /** What an SDK client in the test needs to talk to it. */
  readonly clientConfig: {
    readonly endpoint: string;
    readonly region: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  /** The environment a Lambda bundle needs to reach it through the SDK's own settings. */
  readonly lambdaEnv: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export class MotoServerError extends Error {
  override readonly name = 'MotoServerError';
}

const INSTALL_HINT = `moto_server must be on PATH (it is in CI); install it with: ${MOTO_SERVER.install}`;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));

/** Starts moto_server and waits until it answers; fails with how to install it when it is absent. */
export const startMotoServer = async (
  options: { readonly startTimeoutMs?: number } = {},
): Promise<MotoServer> => {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new MotoServerError(
          error.code === 'ENOENT'
            ? `moto_server not found. ${INSTALL_HINT}`
            : `moto_server: ${error.message}`,
        ),
      ),
    );
    child.once('exit', (code) =>
      reject(
        new MotoServerError(`moto_server exited with ${code} before answering:\n${stderr}\n${INSTALL_HINT}`),
      ),
    );
  });
  // Observed by the race below; after start-up the exit at close() is expected.
  failed.catch(() => undefined);
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  const answering = (async () => {
    for (;;) {
      try {
        // moto's own API answers as soon as the server is up.
        const response = await fetch(`${endpoint}/moto-api/data.json`);
        await response.arrayBuffer();
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new MotoServerError(`moto_server did not answer on ${endpoint}:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    await Promise.race([answering, failed]);
  } catch (error) {
    child.kill();
    throw error;
  }
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  return {
    endpoint,
    clientConfig: { endpoint, region: 'us-east-1', credentials },
    lambdaEnv: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    async close() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
};
