/** Deployment-level routes: the health check and build info. */
import type { Route, RouteEnv } from './context.js';

export function metaRoutes(env: RouteEnv): Route[] {
  return [
    { method: 'GET', template: '/healthz', auth: 'none', handle: () => ({ status: 200, text: 'OK' }) },
    {
      method: 'GET',
      template: '/api/v2/buildinfo',
      auth: 'none',
      handle: () => ({
        status: 200,
        body: {
          version: env.profile.buildVersion,
          external_url: 'https://github.com/coder/coder',
          dashboard_url: env.url(),
          deployment_id: 'coder-simulator',
          agent_api_version: '2.6',
          provisioner_api_version: '1.9',
          upgrade_message: '',
          workspace_proxy: false,
          telemetry: false,
          webpush_public_key: '',
        },
      }),
    },
  ];
}
