/** Template reads, for CoderClient. */
import { CODER_ROUTES } from './routes.js';
import type { CoderTransport, ReadOptions } from './transport.js';
import {
  type Template,
  type TemplateVersion,
  type TemplateVersionParameter,
  templateSchema,
  templateVersionParameterSchema,
  templateVersionSchema,
} from './types.js';

export const getTemplateByName = (
  transport: CoderTransport,
  organization: string,
  name: string,
  options: ReadOptions,
): Promise<Template> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.organizationTemplate,
    params: { organization, templatename: name },
    schema: templateSchema,
    wording: { notFound: `template "${name}" not found in organization "${organization}"` },
    signal: options.signal,
    deadline: options.deadline,
  });

export const listTemplates = (
  transport: CoderTransport,
  organization: string | undefined,
  options: ReadOptions,
): Promise<Template[]> =>
  organization === undefined
    ? transport.call({
        method: 'GET',
        route: CODER_ROUTES.templates,
        schema: templateSchema.array(),
        signal: options.signal,
        deadline: options.deadline,
      })
    : transport.call({
        method: 'GET',
        route: CODER_ROUTES.organizationTemplates,
        params: { organization },
        schema: templateSchema.array(),
        wording: {
          notFound: `organization "${organization}" not found (or not visible to the token's user)`,
        },
        signal: options.signal,
        deadline: options.deadline,
      });

export const getTemplate = (transport: CoderTransport, id: string, options: ReadOptions): Promise<Template> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.template,
    params: { template: id },
    schema: templateSchema,
    wording: { notFound: `template ${id} not found` },
    signal: options.signal,
    deadline: options.deadline,
  });

export const getTemplateVersionRichParameters = (
  transport: CoderTransport,
  versionId: string,
  options: ReadOptions,
): Promise<TemplateVersionParameter[]> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.richParameters,
    params: { templateversion: versionId },
    schema: templateVersionParameterSchema.array(),
    wording: { notFound: `template version ${versionId} not found` },
    signal: options.signal,
    deadline: options.deadline,
  });

/** A template version; its `job` is the import job, whose `tags` every build of the version inherits. */
export const getTemplateVersion = (
  transport: CoderTransport,
  versionId: string,
  options: ReadOptions,
): Promise<TemplateVersion> =>
  transport.call({
    method: 'GET',
    route: CODER_ROUTES.templateVersion,
    params: { templateversion: versionId },
    schema: templateVersionSchema,
    wording: { notFound: `template version ${versionId} not found` },
    signal: options.signal,
    deadline: options.deadline,
  });
