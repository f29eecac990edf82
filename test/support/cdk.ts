import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

export interface SynthResult {
  readonly stack: Stack;
  readonly template: Template;
  /** cdk-nag findings that were not suppressed, as `path: message`. */
  readonly nagErrors: string[];
  readonly nagWarnings: string[];
}

/**
 * Synthesizes a stack built by `build` with cdk-nag AwsSolutions applied, the way bin/app.ts does.
 * Lambda bundling is skipped (the `aws:cdk:bundling-stacks` context) so CDK tests stay fast;
 * the bundles themselves are built and tested by `npm run build` and the bundle tests.
 */
export const synthWithNag = (build: (stack: Stack) => void, stackName = 'TestStack'): SynthResult => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, stackName, { env: { account: '123456789012', region: 'us-east-1' } });
  build(stack);
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  const template = Template.fromStack(stack);
  const pick = (entries: ReturnType<Annotations['findError']>): string[] =>
    entries.map((e) => `${e.id}: ${String(e.entry.data)}`);
  const annotations = Annotations.fromStack(stack);
  return {
    stack,
    template,
    nagErrors: pick(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))),
    nagWarnings: pick(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))),
  };
};
