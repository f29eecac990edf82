import packageJson from '../package.json' with { type: 'json' };

/** The package's version; the bundled CLI carries it (esbuild inlines the JSON). */
export const CLI_VERSION: string = packageJson.version;
