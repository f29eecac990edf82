/**
 * The Coder release behind the client: `/api/v2/buildinfo` read once per client (so once per warm
 * container), and a transport that reads it before the first other request when asked to, so an
 * unsupported release is reported at first contact rather than as a stream of 400s.
 */
import type { z } from 'zod';
import type { Deadline } from '../../core/contracts/deadline.js';
import { type CoderRelease, coderReleaseOf } from './capabilities.js';
import { CODER_ROUTES } from './routes.js';
import { type CoderClientOptions, CoderTransport, type RequestSpec } from './transport.js';

/** One buildinfo read, shared by every caller; a failed read is not kept, so the next caller tries again. */
export class CoderReleaseCache {
  private pending: Promise<CoderRelease> | undefined;

  constructor(
    private readonly readVersion: (deadline: Deadline | undefined) => Promise<string>,
    private readonly onRelease: ((release: CoderRelease) => void) | undefined,
  ) {}

  /** The release; the first caller's deadline bounds the one read. */
  get(deadline?: Deadline): Promise<CoderRelease> {
    this.pending ??= this.readVersion(deadline).then(
      (version) => {
        const release = coderReleaseOf(version);
        try {
          this.onRelease?.(release);
        } catch {
          // A reporting hook must not break the client.
        }
        return release;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }
}

/** A transport that, when given `firstContact`, runs it once before its first request other than buildinfo. */
export class FirstContactTransport extends CoderTransport {
  private contacted: Promise<void> | undefined;

  constructor(
    options: CoderClientOptions,
    private readonly firstContact: ((deadline: Deadline | undefined) => Promise<unknown>) | undefined,
  ) {
    super(options);
  }

  override call<T>(spec: RequestSpec<T> & { schema: z.ZodType<T> }): Promise<T>;
  override call(spec: RequestSpec<undefined>): Promise<undefined>;
  override async call<T>(spec: RequestSpec<T>): Promise<T | undefined> {
    if (this.firstContact && spec.route !== CODER_ROUTES.buildInfo) {
      // Once: a failed read is left to the operations that need the release, which read it again.
      this.contacted ??= this.firstContact(spec.deadline).then(
        () => undefined,
        () => undefined,
      );
      await this.contacted;
    }
    return super.call(spec as RequestSpec<T> & { schema: z.ZodType<T> });
  }
}
