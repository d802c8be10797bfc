// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Modest rules: the recommended sets. `any` is an error; a place that needs it carries an eslint-disable comment saying
// why. Type-aware rules are left out so the linter stays fast enough to run on every `npm test`. Import cycles are
// checked by `npm run lint:cycles` (dpdm), which, unlike eslint-plugin-import-x's no-cycle, also follows `import type`.
export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'bench/dist/**', '.conformance/**', 'test-artifacts/**', 'node_modules/**', '.node/**', 'console/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly',
        fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly',
        TextDecoder: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', performance: 'readonly',
        Response: 'readonly', Request: 'readonly', Headers: 'readonly', URLSearchParams: 'readonly',
      },
    },
    rules: {
      // A closure that reads a variable assigned once after it is created (a fake server's handler) needs `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // One config entry point: src/config/ holds its areas, and every other module imports src/config.ts.
    files: ['**/*.ts'],
    ignores: ['src/config.ts', 'src/config/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)src/config/|^\\.\\.?/(\\.\\./)*config/', message: 'import the config from src/config.ts, its one entry point' }] }],
    },
  },
);
