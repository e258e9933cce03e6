import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The rooms of the house (README, "Layout") and which may import which, kept by the linter:
 * `test/unit/boundaries.test.ts` shows each rule refusing a crossing.
 */
const outsideLib = [
  // Patterns are gitignore-style: a leading `#` (Node subpath imports) must be escaped.
  { group: ['\\#functions/*', '**/functions/*'], message: 'lib/ never imports a handler: handlers import lib/.' },
  { group: ['**/local/*'], message: 'lib/ never imports the embedded stack: it is a user of lib/, not a part of it.' },
];
const belowHandlers = [
  ...outsideLib,
  { group: ['\\#lib/handlers/*', '\\#lib/container'], message: 'lib/http/ and lib/aws/ sit below the handler builders and the composition root: those import them.' },
];
const domainOnly = [
  ...outsideLib,
  { group: ['@aws-sdk/*', '@smithy/*'], message: 'The domain talks to AWS only through its ports (lib/tasks/ports.ts); adapters live in lib/aws/.' },
  { group: ['@middy/*', 'aws-lambda'], message: 'The domain never sees a Lambda event or a middleware: that is lib/handlers/ and functions/.' },
  { group: ['@aws-lambda-powertools/*'], message: 'The domain reports through its ports (TaskMetrics, AppLogger), never through Powertools itself.' },
  { group: ['\\#lib/aws/*', '\\#lib/http/*', '\\#lib/handlers/*', '\\#lib/container', '\\#lib/metrics'], message: 'The domain imports no adapter, no handler builder, no HTTP layer and no composition root.' },
];

/**
 * A kind is the team's own code: its schema, its work (any package it needs, the AWS SDK included),
 * and the one service module that defines it; nothing of the service's insides.
 */
const kindsOnly = [
  ...outsideLib,
  { group: ['\\#lib/*', '!\\#lib/tasks', '\\#lib/tasks/*', '!\\#lib/tasks/kind'], message: 'A task kind imports only #lib/tasks/kind from the service (defineTaskKind, PermanentTaskError).' },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.esbuild/', '.esbuild-offline/', '.esbuild-package-test/', '.serverless/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Serverless plugins are CommonJS (the framework require()s them): require is their import.
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['lib/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: outsideLib }] } },
  { files: ['lib/http/**/*.ts', 'lib/aws/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: belowHandlers }] } },
  { files: ['lib/tasks/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: domainOnly }] } },
  { files: ['kinds/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: kindsOnly }] } },
);
