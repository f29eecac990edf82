/**
 * Every place where the project knowingly departs from Coder's generated spec
 * (../shared/coder-api/swagger.json), each with its reason. The contract tests apply these and
 * nothing else; see ../shared/docs/coder-api.md §15 for the upstream gaps.
 */
export interface SpecException {
  /** `METHOD /path/template` as in swagger.json, or `*` for a rule that applies to every body. */
  readonly operation: string;
  readonly what: 'request-body-schema' | 'response-nulls' | 'undeclared-operation' | 'response-schema';
  readonly schema?: Record<string, unknown>;
  readonly reason: string;
}

export const SPEC_EXCEPTIONS: readonly SpecException[] = [
  {
    operation: '*',
    what: 'response-nulls',
    reason:
      'Swagger 2.0 cannot say "nullable". Coder serialises unset Go pointers as null (dormant_at, next_start_at, ' +
      'deadline, job.started_at, ...), so null values are removed before a response is validated.',
  },
  {
    operation: 'POST /api/v2/organizations/{organization}/provisionerkeys',
    what: 'request-body-schema',
    schema: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', maxLength: 64 },
        tags: { type: 'object', additionalProperties: { type: 'string' } },
      },
      additionalProperties: false,
    },
    reason:
      'The spec documents no body for creating a provisioner key; coderd reads codersdk.CreateProvisionerKeyRequest ' +
      '{name, tags} (enterprise/coderd/provisionerkeys.go).',
  },
];

export const findException = (operation: string, what: SpecException['what']): SpecException | undefined =>
  SPEC_EXCEPTIONS.find(
    (exception) =>
      exception.what === what && (exception.operation === operation || exception.operation === '*'),
  );
