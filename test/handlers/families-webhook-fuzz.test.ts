import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryFamilyQueue } from '../../lambdas/adapters/aws/family-queue.js';
import { makeWebhookHandler } from '../../lambdas/handlers/families-webhook.js';
import { oneTimePasscode, slogAuditLine, workspaceCreated } from '../core/families/webhook/fixtures.js';
import {
  functionUrlEvent,
  PATH_SECRET,
  recordingLog,
  recordingMetrics,
} from '../core/families/webhook/function-url.js';

const setup = () => {
  const queue = new InMemoryFamilyQueue();
  const log = recordingLog();
  const handler = makeWebhookHandler({
    pathSecrets: async () => [PATH_SECRET],
    queue,
    log: log.sink,
    metrics: recordingMetrics().metrics,
    maxBodyBytes: 8192,
  });
  return { handler, queue, log };
};

/** Bodies from realistic ones, mutated: fields dropped, retyped, nested junk, truncated text, arbitrary JSON. */
const bodies = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .tuple(
      fc.constantFrom(workspaceCreated(), oneTimePasscode(), slogAuditLine()),
      fc.dictionary(fc.string(), fc.jsonValue()),
    )
    .map(([base, junk]) => JSON.stringify({ ...base, ...junk })),
  fc
    .tuple(
      fc.constantFrom(workspaceCreated()),
      fc.constantFrom('payload', 'msg_id', '_version'),
      fc.jsonValue(),
    )
    .map(([base, key, value]) => JSON.stringify({ ...base, [key]: value })),
  fc
    .tuple(fc.constantFrom(JSON.stringify(workspaceCreated())), fc.nat())
    .map(([text, cut]) => text.slice(0, cut % text.length)),
);

const paths = fc.oneof(
  fc.string().map((s) => `/${s}`),
  fc.webPath(),
  fc.constantFrom(`/${PATH_SECRET}`, `/${PATH_SECRET}/audit`, `/${PATH_SECRET}/`, `/${PATH_SECRET}x`),
  fc.array(fc.string(), { maxLength: 3 }).map((segments) => `/${PATH_SECRET}/${segments.join('/')}`),
);

describe('families webhook under fuzzing', () => {
  it('never answers 5xx and never throws, whatever the body, path, method or encoding', async () => {
    const { handler } = setup();
    await fc.assert(
      fc.asyncProperty(
        paths,
        bodies,
        fc.constantFrom('POST', 'GET', 'PUT'),
        fc.boolean(),
        async (path, body, method, base64) => {
          const event = functionUrlEvent({
            path,
            method,
            body: base64 ? Buffer.from(body).toString('base64') : body,
            isBase64Encoded: base64,
          });

          const result = await handler(event);

          expect(result.statusCode).toBeGreaterThanOrEqual(200);
          expect(result.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('enqueues nothing for any path without the secret as its first segment', async () => {
    const { handler, queue } = setup();
    await fc.assert(
      fc.asyncProperty(
        paths.filter((p) => p.split('/').find((s) => s !== '') !== PATH_SECRET),
        fc.constantFrom(JSON.stringify(workspaceCreated()), JSON.stringify([slogAuditLine()])),
        async (path, body) => {
          const result = await handler(functionUrlEvent({ path, body }));

          expect(result.statusCode).toBe(403);
        },
      ),
      { numRuns: 300 },
    );
    expect(queue.sent).toEqual([]);
  });

  it('never echoes request content in a response body and never logs it', async () => {
    const { handler, log } = setup();
    const marker = 'ZZmarkerZZ';
    await fc.assert(
      fc.asyncProperty(paths, bodies, async (path, body) => {
        const result = await handler(
          functionUrlEvent({ path: `${path}${marker}`, body: `${marker}${body}` }),
        );
        const withMarker = await handler(
          functionUrlEvent({ body: JSON.stringify({ ...oneTimePasscode(), note: marker, title: body }) }),
        );

        expect(result.body ?? '').not.toContain(marker);
        expect(withMarker.body ?? '').not.toContain(marker);
      }),
      { numRuns: 200 },
    );
    expect(log.lines.join('\n')).not.toContain(marker);
  });
});
