/**
 * `coder-fleet`: the operator CLI (`npm run cli -- <command>`, `npm start` for the demo, or the
 * bundled `dist/cli/coder-fleet.mjs`). The commands live in cli/.
 */
import { runCli } from '../cli/main.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  interactive: process.stderr.isTTY === true,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  },
});
// Exit explicitly once stdout has drained: idle keep-alive sockets must not hold the process open.
process.stdout.write('', () => process.exit(code));
