/**
 * Jest runs the TypeScript sources (and middy's ES-module packages) through ts-jest as CommonJS,
 * transpile-only (type-checking is `npm run lint`'s job), so no experimental VM-modules flag is
 * needed. Integration and end-to-end suites share one embedded stack, started by their global setup.
 */
const transform = {
  '^.+\\.[tj]s$': [
    'ts-jest',
    {
      tsconfig: { module: 'commonjs', target: 'es2022', allowJs: true, isolatedModules: true, esModuleInterop: true },
    },
  ],
};
const common = {
  transform,
  // middy 6, p-limit, openapi-backend's JSON-schema ref parser and json-schema-faker ship ES modules only: transform them like our own code.
  transformIgnorePatterns: ['/node_modules/(?!@middy/|openapi-backend/|@apidevtools/|json-schema-faker/|p-limit/|yocto-queue/)'],
  moduleNameMapper: {
    '^#(lib|functions|kinds)/(.*)$': '<rootDir>/$1/$2',
    // It exports an `import` condition only, which Jest's CommonJS resolver does not look at.
    '^json-schema-faker$': '<rootDir>/node_modules/json-schema-faker/dist/index.js',
  },
  testEnvironment: 'node',
};

export default {
  // One test file at a time: the integration and end-to-end suites share one embedded stack on a
  // two-core machine, and a heavy suite (240 tasks in 24 batches) running beside another made the
  // other's waits flaky. In band, each suite has the stack to itself.
  maxWorkers: 1,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], setupFiles: ['<rootDir>/test/unit/env.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/quiet-logs.ts', '<rootDir>/test/support/fresh-connections.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/stack-timeouts.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/quiet-logs.ts', '<rootDir>/test/support/fresh-connections.ts'],
      // Every answer an end-to-end test receives is checked against the served OpenAPI document.
      setupFilesAfterEnv: ['<rootDir>/test/support/stack-timeouts.ts', '<rootDir>/test/support/validate-responses.ts'],
    },
  ],
};
